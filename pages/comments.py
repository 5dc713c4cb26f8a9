"""Comments: search and filter every comment; correct labels; retrain."""

from __future__ import annotations

import streamlit as st

from analyser.classification import TONES
from analyser.errors import AnalyserError
from analyser.paths import data_dir, models_dir
from ui_common import corrections_path, label_name, lang, load_corrections, require, save_correction, show_error, tr

analysis = require()
result = analysis.result
comments = result.comments
taxonomy = result.taxonomy
st.title(tr("page_comments"))
search = st.text_input(tr("search"), key="comments-search")
c1, c2, c3, c4 = st.columns(4)
dims = c1.multiselect(
    tr("filter_dimensions"), [d.key for d in taxonomy.dimensions], format_func=label_name, key="comments-dims"
)
areas = c2.multiselect(
    tr("filter_areas"), [a.key for a in taxonomy.areas], format_func=label_name, key="comments-areas"
)
tones = c3.multiselect(tr("filter_tone"), list(TONES), format_func=lambda x: taxonomy.name(x, lang()))
languages = c4.multiselect(tr("filter_language"), sorted(x for x in comments["language"].unique() if x))
groups: dict[str, list[str]] = {}
for column in analysis.group_columns:
    groups[column] = st.multiselect(column, sorted(comments[column].astype(str).unique()))
score_columns = [f"score_{k}" for k in taxonomy.keys]
confidence = st.slider(tr("min_confidence"), 0.0, 1.0, 0.0, 0.05)

mask = comments["status"].notna()
if search:
    mask &= comments["text"].str.contains(search, case=False, regex=False, na=False)
for selected, column in ((dims, "dimensions"), (areas, "areas")):
    if selected:
        mask &= comments[column].str.split(";").map(lambda keys, s=selected: bool(set(keys) & set(s)))
if tones:
    mask &= comments["tone"].isin(tones)
if languages:
    mask &= comments["language"].isin(languages)
for column, values in groups.items():
    if values:
        mask &= comments[column].astype(str).isin(values)
if confidence > 0:
    mask &= comments[score_columns].max(axis=1).fillna(0) >= confidence
shown = comments[mask]
st.caption(tr("shown", n=len(shown), total=len(comments)))
visible = ["id", *analysis.group_columns, "text", "language", "status", "dimensions", "areas", "tone", "evidence"]
table = shown[visible].copy()
# Keys become names in the chosen language; the comment text itself stays as written.
# Mapped per distinct value: a few dozen combinations, however many comments.
names = {
    "dimensions": lambda keys: "; ".join(label_name(k) for k in keys.split(";") if k),
    "areas": lambda keys: "; ".join(label_name(k) for k in keys.split(";") if k),
    "tone": lambda tone: taxonomy.name(tone, lang()) if tone else "",
    "status": lambda status: tr(f"status_{status}"),
}
for column, name in names.items():
    table[column] = table[column].map({value: name(value) for value in table[column].unique()})
st.dataframe(
    table.rename(
        columns={
            "text": tr("text"),
            "evidence": tr("evidence"),
            "language": tr("language"),
            "status": tr("status"),
            "dimensions": tr("dimensions"),
            "areas": tr("areas"),
            "tone": tr("filter_tone"),
        }
    ),
    hide_index=True,
    column_config={tr("evidence"): st.column_config.TextColumn(help=tr("evidence"))},
)

st.subheader(tr("correct"))
labelled_ids = shown.loc[shown["status"].isin(["ok", "duplicate"]), "id"].tolist()
if labelled_ids:
    comment_id = st.selectbox(tr("correct_which"), labelled_ids)
    row = comments.set_index("id").loc[comment_id]
    st.text(row["text"])
    with st.form("correction"):
        new_dims = st.multiselect(
            tr("dimensions"),
            [d.key for d in taxonomy.dimensions],
            default=[k for k in row["dimensions"].split(";") if k],
            format_func=label_name,
        )
        new_areas = st.multiselect(
            tr("areas"),
            [a.key for a in taxonomy.areas],
            default=[k for k in row["areas"].split(";") if k],
            format_func=label_name,
        )
        new_tone = st.selectbox(
            tr("filter_tone"),
            list(TONES),
            index=list(TONES).index(row["tone"]),
            format_func=lambda x: taxonomy.name(x, lang()),
        )
        if st.form_submit_button(tr("save_correction")):
            n = save_correction(analysis, comment_id, new_dims, new_areas, new_tone)
            st.success(tr("saved_correction", n=n))
corrections = load_corrections(analysis)
if len(corrections):
    st.dataframe(corrections, hide_index=True)
    st.download_button(
        tr("corrections_download"), corrections.to_csv(index=False).encode("utf-8-sig"), file_name="corrections.csv"
    )
    if st.button(tr("retrain")):
        from analyser.training import train

        try:
            with st.spinner(tr("retrain")):
                folder, _ = train(
                    [data_dir() / "train"],
                    models_dir() / f"user-{analysis.key[:8]}",
                    corrections=[corrections_path(analysis)],
                )
            st.success(tr("retrained", path=folder))
        except AnalyserError as exc:
            show_error(exc)
