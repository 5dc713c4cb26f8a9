"""Downloads: the labelled table and the report."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui_common import exported, rendered, require, tr

analysis = require()
st.title(tr("page_downloads"))
stem = Path(analysis.name).stem
st.download_button(tr("download_labelled_csv"), exported(".csv"), file_name=f"{stem}-labelled.csv", mime="text/csv")
st.download_button(
    tr("download_labelled_xlsx"),
    exported(".xlsx"),
    file_name=f"{stem}-labelled.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
st.download_button(tr("download_report_html"), rendered("html"), file_name=f"{stem}-report.html", mime="text/html")
st.download_button(tr("download_report_md"), rendered("md"), file_name=f"{stem}-report.md", mime="text/markdown")
