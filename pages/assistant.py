"""The LLM assistant: settings, a preview of what is sent, and its checked suggestions."""

from __future__ import annotations

import json

import streamlit as st

from analyser.assistant import suggestions_frame
from analyser.errors import AnalyserError
from analyser.llm import LLMConfig
from analyser.reports import assistant_summary, escape_markdown
from ui_common import (
    assistant_preview,
    label_name,
    lang,
    last_assistant_run,
    llm_config,
    require,
    run_assistant,
    save_correction,
    show_error,
    tr,
)

st.title(tr("llm_assistant"))
st.caption(tr("llm_intro"))
config = llm_config()
with st.form("llm-settings"):
    provider = st.radio(
        tr("llm_provider"),
        ["openai", "transformers"],
        index=["openai", "transformers"].index(config.provider),
        format_func=lambda p: tr(f"llm_provider_{p}"),
        horizontal=True,
    )
    url = st.text_input(tr("llm_url"), config.url, placeholder="http://127.0.0.1:11434/v1")
    model = st.text_input(tr("llm_model"), config.model, placeholder="llama3.1:8b")
    key_env = st.text_input(tr("llm_key_env"), config.api_key_env, help=tr("llm_key_env_help"))
    left, right = st.columns(2)
    timeout = left.number_input(tr("llm_timeout"), 1.0, 600.0, float(config.timeout), step=5.0)
    max_comments = right.number_input(tr("llm_max_comments"), 0, 5000, int(config.max_comments), step=10)
    if st.form_submit_button(tr("llm_save")):
        try:
            st.session_state["llm_config"] = LLMConfig.load(
                provider=provider,
                url=url.strip(),
                model=model.strip(),
                api_key_env=key_env.strip() or None,
                timeout=timeout,
                max_comments=int(max_comments),
            )
            config = st.session_state["llm_config"]
        except AnalyserError as exc:
            show_error(exc)
if not config.enabled:
    st.info(tr("llm_off"))
    st.stop()
st.caption(tr("llm_configured", name=f"{config.provider}: {config.url or config.model} · {config.model}"))

analysis = require()
st.markdown(tr("llm_what_is_sent"))
left, right = st.columns(2)
if left.button(tr("llm_preview"), key="llm-preview"):
    st.session_state["llm_preview"] = assistant_preview(config)
if right.button(tr("llm_run"), type="primary", key="llm-run"):
    run_assistant(config)
preview = st.session_state.get("llm_preview")
if preview is not None:
    with st.expander(tr("llm_preview_title", n=len(preview)), expanded=False):
        st.download_button(
            tr("llm_preview_download"),
            json.dumps(preview, ensure_ascii=False, indent=1).encode("utf-8"),
            file_name="llm-requests.json",
        )
        for request in preview[:50]:
            st.caption(f"{request['task']} · {request['prompt']} · {request['language']}")
            st.code(request["messages"][-1]["content"], language=None, wrap_lines=True)

rep = last_assistant_run(config)
if rep is None or rep.assistant is None:
    st.stop()
notes = rep.assistant
(st.warning if notes.message else st.success)(assistant_summary(notes, lang()))
for task, log in notes.calls.items():
    for error in log.errors:
        st.caption(f"{task}: {error}")

st.subheader(tr("llm_suggestions"))
st.caption(tr("llm_suggestions_help"))
suggestions = suggestions_frame(rep.result)
if suggestions.empty:
    st.caption(tr("llm_none"))
else:
    table = suggestions.assign(
        embedded=lambda f: (f["dimensions"] + ";" + f["areas"]).map(
            lambda ks: ", ".join(label_name(k) for k in ks.split(";") if k)
        ),
        suggested=lambda f: (f["llm_dimensions"] + ";" + f["llm_areas"]).map(
            lambda ks: ", ".join(label_name(k) for k in ks.split(";") if k)
        ),
    )[["id", "text", "embedded", "suggested", "tone", "llm_tone", "llm_quotes", "llm_status"]]
    st.dataframe(
        table.rename(
            columns={
                "text": tr("text"),
                "embedded": tr("llm_embedded"),
                "suggested": tr("llm_suggested"),
                "llm_quotes": tr("llm_quotes"),
            }
        ),
        hide_index=True,
    )
    ids = table["id"].tolist()
    with st.form("llm-decisions"):
        accepted = st.multiselect(tr("llm_accept"), ids, key="llm-accept")
        rejected = st.multiselect(tr("llm_reject"), [i for i in ids if i not in accepted], key="llm-reject")
        if st.form_submit_button(tr("llm_apply")):
            n = 0
            for comment_id in accepted:
                source = suggestions.set_index("id").loc[comment_id]
                n = save_correction(
                    analysis,
                    comment_id,
                    [k for k in source["llm_dimensions"].split(";") if k],
                    [k for k in source["llm_areas"].split(";") if k],
                    source["llm_tone"] or source["tone"],
                )
            st.success(tr("llm_applied", accepted=len(accepted), rejected=len(rejected), n=n))

st.subheader(tr("llm_theme_summaries"))
if not notes.theme_notes:
    st.caption(tr("llm_none"))
for note in notes.theme_notes.values():
    with st.container(border=True):
        st.markdown(f"**{label_name(note.label)} · {tr('theme')} {note.index}: {escape_markdown(note.title)}**")
        st.markdown(escape_markdown(note.summary))
        st.caption(tr("llm_theme_note", ids=", ".join(note.comment_ids[:12])))

st.subheader(tr("llm_actions"))
st.caption(tr("llm_actions_help"))
if not notes.actions:
    st.caption(tr("llm_none"))
for action in notes.actions:
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(action.title)}** · {label_name(action.dimension)}")
        st.markdown(escape_markdown(action.steps))
        if rep.quotes_allowed:
            st.text(f"“{action.quote}” — {action.quote_id}")
        st.caption(
            f"{tr('llm_from_playbook')} {action.playbook_id} · {tr('comment_ids')}: {', '.join(action.comment_ids)}"
        )
