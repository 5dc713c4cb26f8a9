"""Trust feedback analyser: the web app. Run with `streamlit run app.py`."""

from __future__ import annotations

import streamlit as st

from ui_common import sidebar, tr

st.set_page_config(page_title="Trust feedback analyser", page_icon=":material/handshake:", layout="wide")
if "lang" not in st.session_state:
    st.session_state["lang"] = "nl"
sidebar()
pages = [
    st.Page("pages/upload.py", title=tr("page_upload"), icon=":material/upload:", url_path="upload", default=True),
    st.Page("pages/overview.py", title=tr("page_overview"), icon=":material/bar_chart:", url_path="overview"),
    st.Page("pages/themes.py", title=tr("page_themes"), icon=":material/category:", url_path="themes"),
    st.Page("pages/actions.py", title=tr("page_actions"), icon=":material/task_alt:", url_path="actions"),
    st.Page("pages/comments.py", title=tr("page_comments"), icon=":material/forum:", url_path="comments"),
    st.Page("pages/downloads.py", title=tr("page_downloads"), icon=":material/download:", url_path="downloads"),
    st.Page("pages/assistant.py", title=tr("page_assistant"), icon=":material/smart_toy:", url_path="assistant"),
]
st.navigation(pages).run()
