"""Upload: a survey export or the sample survey, columns, analyse."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from analyser.errors import AnalyserError
from analyser.reading import read_table, suggest_group_columns, suggest_id_column, suggest_text_columns
from ui_common import SAMPLE, run, save_upload, show_error, tr

st.title(tr("title"))
st.write(tr("upload_help"))
uploaded = st.file_uploader(tr("upload_file"), type=["csv", "tsv", "txt", "xlsx", "json", "jsonl", "parquet"])
if "--sample" in sys.argv[1:] and "source" not in st.session_state:
    # `streamlit run app.py -- --sample` opens the app on the bundled sample survey.
    st.session_state["source"] = (str(SAMPLE), SAMPLE.name)
if st.button(tr("use_sample")):
    st.session_state["source"] = (str(SAMPLE), SAMPLE.name)
if uploaded is not None:
    st.session_state["source"] = (str(save_upload(uploaded.name, uploaded.getvalue())), uploaded.name)

source = st.session_state.get("source")
if source:
    path, name = source
    try:
        sheet = None
        frame, info = read_table(path)
        if len(info.sheets) > 1:
            sheet = st.selectbox(tr("sheet"), info.sheets, index=info.sheets.index(info.sheet))
            if sheet != info.sheet:
                frame, info = read_table(path, sheet=sheet)
        st.caption(f"{name} · {len(frame)} rows · {', '.join(info.notes)}")
        st.subheader(tr("preview"))
        st.dataframe(frame.head(8), hide_index=True)  # shown as text, never as markup
        columns = list(frame.columns)
        text_columns = st.multiselect(tr("text_columns"), columns, default=suggest_text_columns(frame)[:1])
        suggested_id = suggest_id_column(frame)
        id_options = [None, *columns]
        id_column = st.selectbox(
            tr("id_column"),
            id_options,
            index=id_options.index(suggested_id),
            format_func=lambda c: tr("no_id_column") if c is None else c,
        )
        group_columns = st.multiselect(
            tr("group_columns"),
            columns,
            default=suggest_group_columns(frame, exclude=[*text_columns, *([id_column] if id_column else [])])[:1],
        )
        if st.button(tr("analyse_button"), type="primary"):
            analysis = run(Path(path), name, text_columns, id_column, sheet, group_columns)
            st.success(tr("analysed", n=len(analysis.result.comments)))
    except AnalyserError as exc:
        show_error(exc)
