"""Overview: counts, tone per dimension, trust balance, heatmaps, groups."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui_common import breakdown, label_name, labels_table, lang, require, tr

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
table = labels_table()
for kind, title in (("dimension", "dimensions"), ("area", "areas")):
    st.subheader(tr(title))
    tone_names = {tone: result.taxonomy.name(tone, lang()) for tone in result.taxonomy.tone_keys}
    sub = table[table["kind"] == kind].rename(
        columns={"name": "", "comments": tr("count"), "balance": tr("balance"), **tone_names}
    )
    st.dataframe(sub.drop(columns=["key", "kind"]), hide_index=True)
st.caption(tr("balance_help"))

labelled = result.labelled
# Counted here, charted small: one row per (dimension, tone) and (dimension, area), not per comment.
by_dimension = labelled[["dimensions", "areas", "tone"]].assign(dimension=labelled["dimensions"].str.split(";"))
by_dimension = by_dimension.explode("dimension")
by_dimension = by_dimension[by_dimension["dimension"] != ""]
tone_counts = by_dimension.groupby(["dimension", "tone"]).size().reset_index(name="count")
tone_counts["dimension"] = tone_counts["dimension"].map(label_name)
tone_counts["tone"] = tone_counts["tone"].map(lambda tone: result.taxonomy.name(tone, lang()))
by_area = by_dimension.assign(area=by_dimension["areas"].str.split(";")).explode("area")
by_area = by_area[by_area["area"] != ""]
area_counts = by_area.groupby(["dimension", "area"]).size().reset_index(name="count")
area_counts["dimension"] = area_counts["dimension"].map(label_name)
area_counts["area"] = area_counts["area"].map(label_name)
for title, frame, column, scheme in (
    ("heatmap_tone", tone_counts, "tone", "reds"),
    ("heatmap_areas", area_counts, "area", "blues"),
):
    st.subheader(tr(title))
    st.altair_chart(
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X(f"{column}:N", title=""),
            y=alt.Y("dimension:N", title=""),
            color=alt.Color("count:Q", scale=alt.Scale(scheme=scheme)),
            tooltip=["dimension", column, "count"],
        ),
        width="stretch",
    )
dimension_keys = [d.key for d in result.taxonomy.dimensions]
for column in analysis.group_columns:
    groups = breakdown(column)
    st.subheader(f"{tr('groups')}: {column}")
    st.caption(tr("suppressed_help", min=groups.min_group_size, quotes=groups.min_quote_size))
    rows = []
    for row in groups.rows:
        entry = {tr("group"): row.group, tr("respondents"): None if row.suppressed else row.respondents}
        for key in dimension_keys:
            entry[label_name(key)] = (
                tr("suppressed")
                if row.suppressed
                else (f"{row.label_counts[key]} ({row.label_negative[key]} {tr('negative')})")
            )
        rows.append(entry)
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(tr("suppressed_count", n=len(groups.suppressed)))
