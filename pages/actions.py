"""Actions: the ranked action plan for the whole file or one group, strengths, report download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analyser.errors import AnalyserError
from ui_common import breakdown, label_name, rendered, report, require, show_error, tr

analysis = require()
st.title(tr("action_plan"))
options: list[str | None] = [None]
if analysis.group_columns:
    options += [row.group for row in breakdown(analysis.group_columns[0]).shown]
scope = st.selectbox(
    tr("scope"), options, format_func=lambda g: tr("whole_file") if g is None else g, key="actions-scope"
)
try:
    rep = report(scope)
except AnalyserError as exc:
    show_error(exc)
    st.stop()
plan = rep.plan
st.subheader(tr("at_stake"))
st.dataframe(
    pd.DataFrame(
        [
            {
                "#": rank,
                "": label_name(s.key),
                tr("priority"): s.priority,
                tr("count"): s.comments,
                tr("negative"): s.tone_counts["negative"],
                tr("balance"): s.balance,
                tr("areas_at_risk"): ", ".join(f"{label_name(a)} ({n})" for a, n in s.areas_at_risk.items()),
            }
            for rank, s in enumerate(plan.standings, start=1)
        ]
    ),
    hide_index=True,
)
st.subheader(tr("actions"))
language = rep.language
for suggestion in plan.actions:
    action = suggestion.action
    with st.container(border=True):
        st.markdown(f"**{action.title.get(language, '')}** · {label_name(suggestion.dimension)}")
        st.write(action.steps.get(language, ""))
        themes = "; ".join(f"{tr('theme')} {i}: {rep.theme(k, i).name(language)}" for k, i in suggestion.themes)
        st.caption(f"{tr('motivated_by')}: {themes or '—'} · {len(suggestion.comment_ids)} {tr('comment_ids')}")
        quotes = [
            q
            for k, i in suggestion.themes[:1]
            for q in rep.theme(k, i).quotes
            if q.comment_id in suggestion.comment_ids
        ]
        if rep.quotes_allowed:
            for quote in quotes[:2]:
                st.text(f"“{quote.text}” — {quote.comment_id}")
        st.caption(f"{tr('success')}: {action.success_signal.get(language, '')}")
st.subheader(tr("strengths"))
if not plan.strengths:
    st.caption(tr("no_strengths"))
for strength in plan.strengths:
    st.markdown(f"**{label_name(strength.dimension)}** ({strength.positive_share:.0%})")
    st.write(strength.keep_doing.get(language, ""))
    for build in strength.actions:
        st.write(f"→ {build.action.title.get(language, '')}: {build.action.steps.get(language, '')}")
left, right = st.columns(2)
left.download_button(
    tr("download_report_html"), rendered("html", scope), file_name="trust-report.html", mime="text/html"
)
right.download_button(
    tr("download_report_md"), rendered("md", scope), file_name="trust-report.md", mime="text/markdown"
)
