"""What every page of the web app shares: language, the analysis in session, caching.

Pages only present what the analyser's API returns; this module keeps the
session's state (the current analysis, corrections) and caches results by the
uploaded file's content, so re-uploading the same file is instant.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from analyser import Analyser, AnalysisResult, Settings, analyse
from analyser.errors import AnalyserError
from analyser.paths import cache_dir, data_dir
from analyser.reports import Report, build_report, t

SAMPLE = data_dir() / "samples" / "trust_survey_sample.csv"


def lang() -> str:
    return st.session_state.get("lang", "en")


def tr(key: str, **values: object) -> str:
    return t(key, lang(), **values)


def label_name(key: str) -> str:
    analysis = current()
    if key == "other":
        return tr("other_topics")
    return analysis.result.taxonomy.name(key, lang()) if analysis else key


@st.cache_resource(show_spinner=False)
def analyser() -> Analyser:
    """One fitted pipeline per server: models load once."""
    return Analyser(Settings()).fit()


@st.cache_resource(show_spinner=False)
def _results() -> dict[str, AnalysisResult]:
    return {}


@dataclass
class Analysis:
    key: str
    name: str
    result: AnalysisResult
    group_columns: list[str]


def save_upload(name: str, content: bytes) -> Path:
    """Keep an upload as a file (the reader works on files), named by its content."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "trust-analyser-uploads"
    folder.mkdir(exist_ok=True)
    path = folder / f"{digest}{Path(name).suffix.lower()}"
    if not path.exists():
        path.write_bytes(content)
    return path


def run(
    path: Path, name: str, text_columns: list[str], id_column: str | None, sheet: str | None, group_columns: list[str]
) -> Analysis:
    content = path.read_bytes()
    key = hashlib.sha256(content + repr((text_columns, id_column, sheet)).encode()).hexdigest()
    store = _results()
    if key not in store:
        bar = st.progress(0.0, text=tr("analysing"))

        def progress(stage: str, done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(1, total)), text=f"{tr('analysing')}: {stage} {done}/{total}")

        store[key] = analyse(
            path,
            text_columns=text_columns or None,
            id_column=id_column,
            sheet=sheet,
            analyser=analyser(),
            progress=progress,
        )
        bar.empty()
    analysis = Analysis(key=key, name=name, result=store[key], group_columns=group_columns)
    st.session_state["analysis"] = analysis
    return analysis


def current() -> Analysis | None:
    return st.session_state.get("analysis")


def require() -> Analysis:
    analysis = current()
    if analysis is None:
        st.info(tr("no_analysis"))
        st.stop()
    return analysis


@st.cache_resource(show_spinner=False, max_entries=64)
def _report(key: str, group_column: str | None, group: str | None, language: str, _result: AnalysisResult) -> Report:
    return build_report(_result, group_column=group_column, group=group, language=language)


def report(group: str | None = None) -> Report:
    analysis = require()
    column = analysis.group_columns[0] if analysis.group_columns else None
    return _report(analysis.key, column, group, lang(), analysis.result)


@st.cache_resource(show_spinner=False, max_entries=64)
def _rendered(key: str, kind: str, group: str | None, language: str, _report: Report) -> str:
    from analyser.reports import render_html, render_markdown

    return render_html(_report) if kind == "html" else render_markdown(_report)


def rendered(kind: str, group: str | None = None) -> str:
    """The report as HTML or Markdown, rendered once per analysis, scope and language."""
    analysis = require()
    return _rendered(analysis.key, kind, group, lang(), report(group))


@st.cache_resource(show_spinner=False, max_entries=32)
def _breakdown(key: str, column: str, _result: AnalysisResult):  # type: ignore[no-untyped-def]
    from analyser.privacy import group_breakdown

    return group_breakdown(_result.comments, column, _result.taxonomy.keys)


def breakdown(column: str):  # type: ignore[no-untyped-def]
    """The privacy-safe breakdown by a group column, computed once per analysis."""
    analysis = require()
    return _breakdown(analysis.key, column, analysis.result)


@st.cache_resource(show_spinner=False, max_entries=32)
def _labels(key: str, language: str, _result: AnalysisResult) -> pd.DataFrame:
    from analyser.reports import label_table

    return label_table(_result, language)


def labels_table() -> pd.DataFrame:
    analysis = require()
    return _labels(analysis.key, lang(), analysis.result)


@st.cache_resource(show_spinner=False, max_entries=16)
def _exported(key: str, suffix: str, _result: AnalysisResult) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"labelled{suffix}"
        _result.save(path)  # the same safe export as the CLI (formula injection neutralised)
        return path.read_bytes()


def exported(suffix: str) -> bytes:
    """The labelled table as a file (.csv or .xlsx), made once per analysis."""
    analysis = require()
    return _exported(analysis.key, suffix, analysis.result)


def show_error(exc: AnalyserError) -> None:
    st.error(f"{tr('error')}: {exc.message} {exc.hint}")


def corrections_path(analysis: Analysis) -> Path:
    folder = cache_dir() / "corrections"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{analysis.key[:16]}.csv"


def load_corrections(analysis: Analysis) -> pd.DataFrame:
    path = corrections_path(analysis)
    if path.exists():
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame(columns=["id", "text", "language", "dimensions", "areas", "tone", "status"])


def save_correction(analysis: Analysis, comment_id: str, dimensions: list[str], areas: list[str], tone: str) -> int:
    """Record a corrected comment in the output format, so 'analyser train --corrections' reads it."""
    row = analysis.result.comments.set_index("id").loc[comment_id]
    corrections = load_corrections(analysis)
    corrections = corrections[corrections["id"] != comment_id]
    new = {
        "id": comment_id,
        "text": row["text"],
        "language": row["language"],
        "dimensions": ";".join(dimensions),
        "areas": ";".join(areas),
        "tone": tone,
        "status": "ok",
    }
    corrections = pd.concat([corrections, pd.DataFrame([new])], ignore_index=True)
    corrections.to_csv(corrections_path(analysis), index=False)
    return len(corrections)


def sidebar() -> None:
    choice = st.sidebar.radio(
        t("app_language", lang()),
        ["nl", "en"],
        index=["nl", "en"].index(lang()),
        format_func=lambda code: {"nl": "Nederlands", "en": "English"}[code],
        horizontal=True,
    )
    if choice != lang():
        st.session_state["lang"] = choice
        st.rerun()
    analysis = current()
    if analysis is not None:
        st.sidebar.caption(f"{analysis.name} · {len(analysis.result.comments)} {tr('comments').lower()}")


# ------------------------------------------------------------------ the LLM assistant
def llm_config():  # type: ignore[no-untyped-def]
    """The session's LLM settings: what the user set on the Assistant page, else ANALYSER_LLM_* variables."""
    from analyser.llm import LLMConfig

    if "llm_config" not in st.session_state:
        try:
            st.session_state["llm_config"] = LLMConfig.load()
        except AnalyserError:
            st.session_state["llm_config"] = LLMConfig()
    return st.session_state["llm_config"]


def _assistant(config, analysis: Analysis):  # type: ignore[no-untyped-def]
    from analyser.assistant import Assistant

    assistant = Assistant(config)
    if analysis.group_columns:  # group names are redacted from what is sent
        column = analysis.group_columns[0]
        assistant = assistant.with_terms(analysis.result.comments[column].dropna().astype(str).unique().tolist())
    return assistant


def assistant_preview(config) -> list[dict]:  # type: ignore[no-untyped-def]
    """Exactly what the assistant would send for the current analysis; sends nothing."""
    analysis = require()
    return _assistant(config, analysis).preview(analysis.result, report())


def run_assistant(config) -> Report:  # type: ignore[no-untyped-def]
    """Second opinions, theme summaries and tailored actions on a copy of the analysis (kept per settings)."""
    analysis = require()
    key = (analysis.key, repr(config), lang())
    runs = st.session_state.setdefault("assistant_runs", {})
    if key not in runs:
        result = analysis.result
        copy = AnalysisResult(
            comments=result.comments.copy(),
            metadata=result.metadata,
            taxonomy=result.taxonomy,
            embeddings=result.embeddings,
        )
        assistant = _assistant(config, analysis)
        bar = st.progress(0.0, text=tr("llm_running"))

        def progress(stage: str, done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(1, total)), text=f"{tr('llm_running')}: {stage} {done}/{total}")

        assistant.second_opinion(copy, progress=progress)
        column = analysis.group_columns[0] if analysis.group_columns else None
        runs[key] = build_report(copy, group_column=column, language=lang(), assistant=assistant)
        bar.empty()
    return runs[key]


def last_assistant_run(config) -> Report | None:  # type: ignore[no-untyped-def]
    analysis = current()
    if analysis is None:
        return None
    return st.session_state.get("assistant_runs", {}).get((analysis.key, repr(config), lang()))
