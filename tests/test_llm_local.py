"""The assistant against real local models: llama-cpp-python's server and in-process transformers.

Both run the tiny Gemma 3 270M GGUF from PyPI: it tests the plumbing and the
checks, not the wisdom. Whatever the model says, nothing unchecked may reach
the output: every kept label is a spec key with a verbatim quote, every cited
id was sent. ``scripts/test.sh`` installs llama-cpp-python from a cached wheel
(built once, about 5 minutes); without it these tests fail.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from analyser.assistant import Assistant, find_verbatim, suggestions_frame
from analyser.llm import LLMConfig
from analyser.reports import build_report

from .llm_servers import LlamaServer, gguf_path
from .test_llm import COMMENTS, copy_of


def _need(module: str) -> None:
    # The test command installs all of these; a missing one is a broken setup, not a reason to pass.
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"{module} is not installed: run scripts/test.sh, which installs it")


@pytest.fixture(scope="module")
def llama_server():  # type: ignore[no-untyped-def]
    _need("llama_cpp")
    server = LlamaServer(gguf_path())
    try:
        server.wait()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def result(analyser):  # type: ignore[no-untyped-def]
    from analyser import analyse

    # English only: one second-opinion request (requests are made per language), which keeps the test short.
    english = COMMENTS.iloc[[1, 2, 4, 6, 9, 11]]
    return analyse(english, text_columns="comment", id_column="respondent", analyser=analyser)


def assert_only_checked_output(copy, notes) -> None:  # type: ignore[no-untyped-def]
    """Whatever the model said: kept labels are spec keys with verbatim quotes, cited ids were sent."""
    keys = set(copy.taxonomy.keys)
    for _, row in suggestions_frame(copy).iterrows():
        suggested = [k for k in (row["llm_dimensions"] + ";" + row["llm_areas"]).split(";") if k]
        assert set(suggested) <= keys
        for part in filter(None, row["llm_quotes"].split(" | ")):
            label, quote = part.split(": ", 1)
            assert label in keys and find_verbatim(quote, row["text"]) == quote
    ids = set(copy.comments["id"])
    for note in notes.theme_notes.values():
        assert note.comment_ids and set(note.comment_ids) <= ids
    for action in notes.actions:
        assert set(action.comment_ids) <= ids and action.quote in " ".join(copy.comments["text"])


def test_llama_cpp_server_end_to_end(llama_server, result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = LLMConfig(
        url=llama_server.url,
        model=llama_server.alias,
        margin=1.0,
        max_comments=2,
        batch_size=2,
        max_themes=2,
        max_action_dimensions=1,
        max_tokens=192,
        timeout=300,
        cache_dir=str(tmp_path),
    ).validate()
    assistant = Assistant(config)
    copy = copy_of(result)
    notes = assistant.second_opinion(copy)
    report = build_report(copy, assistant=assistant)
    assert notes.message == ""
    calls = notes.calls
    assert [calls[task].sent for task in ("second_opinion", "theme_summary", "tailored_actions")] == [1, 2, 1]
    # The server answered every request (a failure here is only an answer cut off or outside the
    # schema); llama.cpp refuses OpenAI's json_schema, so the provider moved to json_object + schema.
    assert sum(log.failed for log in calls.values()) == notes.dropped.get("answer_breaks_schema", 0)
    assert assistant.provider.provider._mode == "json_object"
    assert notes.asked == 2 and (copy.comments["llm_status"] != "").sum() == 2
    assert_only_checked_output(copy, notes)
    assert report.assistant is notes


def test_cli_against_llama_cpp_server(llama_server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from analyser.cli import main

    source = tmp_path / "in.csv"
    COMMENTS.head(6).to_csv(source, index=False)
    settings = tmp_path / "llm.yaml"
    settings.write_text("max_tokens: 128\nmax_themes: 1\nmax_action_dimensions: 1\nmax_comments: 2\n", encoding="utf-8")
    code = main(
        [
            "analyse", str(source), "-o", str(tmp_path / "out.xlsx"), "--id-column", "respondent", "-q",
            "--llm-url", llama_server.url, "--llm-model", llama_server.alias, "--llm-config", str(settings),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"LLM assistant (openai:{llama_server.url}:{llama_server.alias})" in out
    table = pd.read_excel(tmp_path / "out.xlsx", dtype=str).fillna("")
    assert len(table) == 6 and "llm_status" in table.columns
    assert (tmp_path / "out.assistant.md").exists()


def test_transformers_provider_on_the_same_gguf(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _need("transformers")
    _need("gguf")
    config = LLMConfig(
        provider="transformers",
        model=str(gguf_path()),
        margin=1.0,
        max_comments=2,
        batch_size=2,
        max_themes=1,
        max_action_dimensions=0,
        max_tokens=64,
        timeout=300,
        use_cache=False,
        # The rebuilt tokenizer is kept between runs (it is not personal data).
        cache_dir=str(Path.home() / ".cache" / "trust-analyser"),
    ).validate()
    assistant = Assistant(config)
    copy = copy_of(result)
    notes = assistant.second_opinion(copy)
    build_report(copy, assistant=assistant)
    assert notes.message == "", notes.message
    assert notes.calls["second_opinion"].sent == 1 and notes.calls["theme_summary"].sent == 1
    assert_only_checked_output(copy, notes)


def test_app_assistant_against_llama_cpp_server(llama_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from .test_app import SURVEY, _app, _button

    # Settings the page does not show come from ANALYSER_LLM_* variables, as for the CLI.
    for name, value in {"MAX_THEMES": "1", "MAX_ACTION_DIMENSIONS": "1", "MAX_TOKENS": "128", "MARGIN": "1"}.items():
        monkeypatch.setenv(f"ANALYSER_LLM_{name}", value)
    at = _app()
    at.file_uploader[0].set_value(("survey.csv", SURVEY.encode("cp1252"), "text/csv"))
    at.run()
    _button(at, "Analyse").click().run()
    at.switch_page("pages/assistant.py").run()
    at.text_input[0].set_value(llama_server.url)
    at.text_input[1].set_value(llama_server.alias)
    at.number_input[1].set_value(2)  # second opinions
    _button(at, "Save settings").click().run()
    _button(at, "Ask the assistant").click().run()
    assert not at.exception
    summary = [s.value for s in at.success] + [w.value for w in at.warning]
    assert any(f"LLM assistant (openai:{llama_server.url}" in s and "requests sent" in s for s in summary), summary
    assert not any("Cannot reach" in s for s in summary)
