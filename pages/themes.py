"""Themes: per dimension, area and 'other topics', with key phrases, tone and quotes."""

from __future__ import annotations

import streamlit as st

from analyser.reports import escape_markdown
from analyser.themes import OTHER
from ui_common import label_name, last_assistant_run, llm_config, report, require, tr

analysis = require()
rep = report()
st.title(tr("themes"))
keys = [*analysis.result.taxonomy.keys, OTHER]
key = st.selectbox(tr("label_choice"), keys, format_func=label_name, key="themes-label")
themes = rep.themes.get(key, [])
if key == OTHER:
    st.caption(tr("other_topics_help"))
if not themes:
    st.info(tr("no_themes"))
comments = analysis.result.comments.set_index("id")
# The assistant's checked titles and summaries, when it ran on this analysis (page Assistant).
assisted = last_assistant_run(llm_config())
notes = assisted.assistant if assisted is not None else None
for theme in themes:
    phrases = theme.key_phrases.get(rep.language) or next(iter(theme.key_phrases.values()), [])
    tones = ", ".join(
        f"{analysis.result.taxonomy.name(tone, rep.language)} {n}" for tone, n in theme.tone_counts.items() if n
    )
    with st.expander(f"{tr('theme')} {theme.index}: {', '.join(phrases[:3])} — {theme.size} ({tones})", expanded=True):
        st.caption(f"{tr('key_phrases')}: " + "; ".join(f"{lg}: {', '.join(p)}" for lg, p in theme.key_phrases.items()))
        note = notes.note_for(key, theme.index) if notes is not None else None
        if note is not None:
            st.markdown(f"**{escape_markdown(note.title)}**")
            st.markdown(escape_markdown(note.summary))
            st.caption(tr("llm_theme_note", ids=", ".join(note.comment_ids[:12])))
        if rep.quotes_allowed:
            for quote in theme.quotes:
                st.text(f"“{quote.text}” — {quote.comment_id}")  # st.text: never rendered as markup
        if st.checkbox(tr("show_comments"), key=f"show-{key}-{theme.index}"):
            st.dataframe(
                comments.loc[theme.comment_ids, ["text", "tone", "dimensions", "areas"]].reset_index(),
                hide_index=True,
            )
