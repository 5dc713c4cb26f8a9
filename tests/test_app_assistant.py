"""The app's Assistant page: settings, preview of what is sent, checked suggestions, accept as corrections."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from .llm_servers import ScriptedServer, good_answer
from .test_app import SURVEY, _app, _button


@pytest.fixture()
def server():  # type: ignore[no-untyped-def]
    scripted = ScriptedServer(lambda body: (200, good_answer(body), 0.0))
    yield scripted
    scripted.stop()


def test_assistant_page_end_to_end(server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("ANALYSER_LLM_URL", "ANALYSER_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    at = _app()
    at.file_uploader[0].set_value(("survey.csv", SURVEY.encode("cp1252"), "text/csv"))
    at.run()
    _button(at, "Analyse").click().run()
    at.switch_page("pages/assistant.py").run()
    assert not at.exception
    assert any("assistant is off" in i.value for i in at.info)  # off by default, says so

    at.text_input[0].set_value("not a url")
    at.text_input[1].set_value("scripted")
    _button(at, "Save settings").click().run()
    assert any("is not an http(s) address" in e.value for e in at.error)  # a message, not a traceback

    at.text_input[0].set_value(server.url)
    _button(at, "Save settings").click().run()
    assert not at.exception and not at.info
    _button(at, "Show what will be sent").click().run()
    shown = " ".join(c.value for c in at.code)
    assert shown and server.requests == []  # the preview sends nothing
    assert "Noord" not in shown and "respondent" not in shown and "r0" not in shown

    _button(at, "Ask the assistant").click().run()
    assert not at.exception
    assert any("got a checked suggestion" in s.value for s in at.success)
    assert server.requests and "Noord" not in server.sent_text
    markdown = " ".join(m.value for m in at.markdown)
    assert "Promises not kept" in markdown and "Report back on every promise" in markdown
    accepted = at.multiselect(key="llm-accept")
    first = accepted.options[0]
    accepted.set_value([first])
    _button(at, "Apply decisions").click().run()
    assert any("1 accepted" in s.value for s in at.success)
    corrections = at.session_state["analysis"]
    from ui_common import load_corrections

    saved = load_corrections(corrections)
    assert first in saved["id"].tolist()
    assert saved.set_index("id").loc[first, "dimensions"] == "reliability"  # the assistant's labels
