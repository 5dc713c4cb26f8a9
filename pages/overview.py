"""Overview: counts, tone per dimension, trust balance, heatmaps, groups."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from analyser.privacy import group_breakdown
from analyser.reports import label_table
from ui_common import label_name, lang, require, tr

analysis = require()
result = analysis.result
st.title(tr("overview"))
comments = result.comments
left, right = st.columns(2)
left.dataframe(
    comments["status"].value_counts().rename_axis(tr("status")).reset_index(name=tr("count")), hide_index=True
)
right.dataframe(
    comments.loc[comments["language"] != "", "language"]
    .value_counts()
    .rename_axis(tr("language"))
    .reset_index(name=tr("count")),
    hide_index=True,
)
table = label_table(result, lang())
for kind, title in (("dimension", "dimensions"), ("area", "areas")):
    st.subheader(tr(title))
    tone_names = {tone: result.taxonomy.name(tone, lang()) for tone in result.taxonomy.tone_keys}
    sub = table[table["kind"] == kind].rename(
        columns={"name": "", "comments": tr("count"), "balance": tr("balance"), **tone_names}
    )
    st.dataframe(sub.drop(columns=["key", "kind"]), hide_index=True)
st.caption(tr("balance_help"))

labelled = result.labelled
dimension_keys = [d.key for d in result.taxonomy.dimensions]
# One row per (comment, dimension) and per (comment, dimension, area): vectorised for large files.
by_dimension = labelled.assign(dimension=labelled["dimensions"].str.split(";")).explode("dimension")
by_dimension = by_dimension[by_dimension["dimension"] != ""]
tone_frame = pd.DataFrame(
    {
        "dimension": by_dimension["dimension"].map(label_name),
        "tone": by_dimension["tone"].map(lambda tone: result.taxonomy.name(tone, lang())),
    }
)
by_area = by_dimension.assign(area=by_dimension["areas"].str.split(";")).explode("area")
by_area = by_area[by_area["area"] != ""]
pairs = pd.DataFrame({"dimension": by_area["dimension"].map(label_name), "area": by_area["area"].map(label_name)})
st.subheader(tr("heatmap_tone"))
st.altair_chart(
    alt.Chart(tone_frame)
    .mark_rect()
    .encode(
        x=alt.X("tone:N", title=tr("filter_tone")),
        y=alt.Y("dimension:N", title=""),
        color=alt.Color("count():Q", scale=alt.Scale(scheme="reds")),
        tooltip=["dimension", "tone", "count()"],
    ),
    width="stretch",
)
st.subheader(tr("heatmap_areas"))
st.altair_chart(
    alt.Chart(pairs)
    .mark_rect()
    .encode(
        x=alt.X("area:N", title=""),
        y=alt.Y("dimension:N", title=""),
        color=alt.Color("count():Q", scale=alt.Scale(scheme="blues")),
        tooltip=["dimension", "area", "count()"],
    ),
    width="stretch",
)
for column in analysis.group_columns:
    breakdown = group_breakdown(comments, column, result.taxonomy.keys)
    st.subheader(f"{tr('groups')}: {column}")
    st.caption(tr("suppressed_help", min=breakdown.min_group_size, quotes=breakdown.min_quote_size))
    rows = []
    for row in breakdown.rows:
        entry = {tr("group"): row.group, tr("respondents"): None if row.suppressed else row.respondents}
        for key in dimension_keys:
            entry[label_name(key)] = (
                tr("suppressed")
                if row.suppressed
                else (f"{row.label_counts[key]} ({row.label_negative[key]} {tr('negative')})")
            )
        rows.append(entry)
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(tr("suppressed_count", n=len(breakdown.suppressed)))
