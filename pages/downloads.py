"""Downloads: the labelled table and the report."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from ui_common import rendered, require, tr

analysis = require()
st.title(tr("page_downloads"))
# The files are made on the first visit and cached (12 s for 50,000 comments, then instant).


@st.cache_data(show_spinner=False, max_entries=8)
def _export(key: str, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"labelled{suffix}"
        analysis.result.save(path)  # the same safe export as the CLI (formula injection neutralised)
        return path.read_bytes()


stem = Path(analysis.name).stem
st.download_button(
    tr("download_labelled_csv"),
    _export(analysis.key, ".csv"),
    file_name=f"{stem}-labelled.csv",
    mime="text/csv",
)
st.download_button(
    tr("download_labelled_xlsx"),
    _export(analysis.key, ".xlsx"),
    file_name=f"{stem}-labelled.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
st.download_button(tr("download_report_html"), rendered("html"), file_name=f"{stem}-report.html", mime="text/html")
st.download_button(tr("download_report_md"), rendered("md"), file_name=f"{stem}-report.md", mime="text/markdown")
