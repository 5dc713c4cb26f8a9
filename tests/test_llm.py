"""The LLM assistant: redaction, settings, checks, and the providers against real sockets.

Error paths and the checks run against ``ScriptedServer`` (a real HTTP server
on 127.0.0.1 whose answers the test chooses); the plumbing runs against
llama-cpp-python's server and in-process transformers, both on the tiny Gemma
3 270M GGUF from PyPI (see test_llm_local.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from analyser.assistant import Assistant, find_verbatim, suggestions_frame
from analyser.errors import ConfigurationError
from analyser.llm import LLMConfig, parse_json_answer
from analyser.privacy import Redactor
from analyser.reports import build_report, render_html, render_markdown

from .llm_servers import ScriptedServer, free_port, good_answer, sent_comments, task_of

COMMENTS = pd.DataFrame(
    {
        "respondent": [f"resp-{i:03d}" for i in range(12)],
        "team": ["Kassa Noord"] * 6 + ["Magazijn Zuid"] * 6,
        "comment": [
            "Onze manager belooft van alles maar komt niets na. Mail jan.devries@acme.nl als je het niet gelooft.",
            "Nobody ever thanked us for the extra weekend shifts. I'm looking for another job.",
            "We were never asked about the new roster, it was just announced.",
            "De communicatie over de reorganisatie bij Kassa Noord is vaag en komt altijd te laat.",
            "My team lead Mark really listens when things are hard at home.",
            "Beslissingen worden boven onze hoofden genomen, we worden nooit gevraagd.",
            "Management promised a new coffee machine in January and we are still waiting, call me on 06-12345678.",
            "Ik voel me niet gewaardeerd, niemand ziet wat ik doe. Bel 020 123 4567.",
            "Afspraken worden niet nagekomen, de planning verandert elke week zonder uitleg.",
            "They said the bonus would come in March. It never did. Typical.",
            "Er wordt veel beloofd tijdens de kwartaalsessie maar daarna hoor je er niets meer van.",
            "The director keeps changing priorities without telling us why.",
        ],
    }
)


@pytest.fixture(scope="module")
def result(analyser):  # type: ignore[no-untyped-def]
    from analyser import analyse

    return analyse(COMMENTS, text_columns="comment", id_column="respondent", analyser=analyser)


def config_for(server: ScriptedServer | str, tmp_path: Path, **overrides: object) -> LLMConfig:
    url = server if isinstance(server, str) else server.url
    values: dict[str, object] = {
        "url": url,
        "model": "scripted",
        "margin": 1.0,  # every comment counts as unsure: the tests decide what is sent
        "max_comments": 6,
        "batch_size": 3,
        "timeout": 5.0,
        "max_retries": 1,
        "backoff": 0.05,
        "cache_dir": str(tmp_path),
    }
    values.update(overrides)
    return LLMConfig(**values).validate()  # type: ignore[arg-type]


def copy_of(result):  # type: ignore[no-untyped-def]
    from analyser import AnalysisResult

    return AnalysisResult(result.comments.copy(), result.metadata, result.taxonomy, result.embeddings)


# ------------------------------------------------------------------ redaction
@pytest.mark.parametrize(
    ("text", "kind", "gone"),
    [
        ("Mail me at jan.jansen@acme.nl please", "email", "jan.jansen@acme.nl"),
        ("Bel 06-12345678 of +31 20 123 4567", "phone", "12345678"),
        ("Mijn IBAN is NL91 ABNA 0417 1643 00", "iban", "0417"),
        ("See https://intranet.acme.com/hr?id=7 for it", "url", "intranet"),
        ("personeelsnummer 123456 klopt niet", "employee_number", "123456"),
        ("Employee no. AB4521 was skipped", "employee_number", "4521"),
        ("Mijn teamleider Anja de Vries luistert niet", "name", "Vries"),
        ("Mr. Brown never replies", "name", "Brown"),
        ("Kees en Fatima doen al het werk", "name", "Kees"),
    ],
)
def test_redaction_replaces_personal_data(text: str, kind: str, gone: str) -> None:
    redacted, counts = Redactor().redact(text)
    assert gone not in redacted
    assert counts[kind] >= 1


def test_redaction_leaves_ordinary_numbers_and_words() -> None:
    text = "In 2023 we had 45 meetings about 3 reorganisations; 120 people left. De manager Is nooit aanwezig."
    assert Redactor().redact(text) == (text, {})


def test_redaction_of_group_names() -> None:
    redacted, counts = Redactor(extra_terms=("Kassa Noord",)).redact("Bij kassa noord is het chaos")
    assert redacted == "Bij [REDACTED] is het chaos" and counts["term"] == 1


# ------------------------------------------------------------------ settings
def test_settings_from_file_environment_and_options(tmp_path: Path) -> None:
    file = tmp_path / "llm.yaml"
    file.write_text("llm:\n  url: http://file:1/v1\n  model: from-file\n  timeout: 30\n", encoding="utf-8")
    env = {"ANALYSER_LLM_MODEL": "from-env", "ANALYSER_LLM_MAX_COMMENTS": "7"}
    config = LLMConfig.load(file, environ=env, timeout=12.5)
    assert (config.url, config.model, config.timeout, config.max_comments) == ("http://file:1/v1", "from-env", 12.5, 7)
    assert config.enabled and not LLMConfig().enabled


def test_settings_refuse_keys_in_files_and_bad_values(tmp_path: Path) -> None:
    file = tmp_path / "llm.yaml"
    file.write_text("url: http://x/v1\nmodel: m\napi_key: sk-123\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="API key"):
        LLMConfig.load(file, environ={})
    with pytest.raises(ConfigurationError, match="not an http"):
        LLMConfig.load(environ={}, url="ftp://x", model="m")
    with pytest.raises(ConfigurationError, match="without a model"):
        LLMConfig.load(environ={}, url="http://x/v1")


def test_cli_bad_llm_url_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analyser.cli import main

    source = tmp_path / "in.csv"
    COMMENTS.to_csv(source, index=False)
    code = main(
        ["analyse", str(source), "-o", str(tmp_path / "out.csv"), "--llm-url", "localhost:1", "--llm-model", "m"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "is not an http(s) address" in err and "Traceback" not in err


# ------------------------------------------------------------------ checks
def test_find_verbatim() -> None:
    text = "We were never asked about the new roster,\nit was just announced."
    assert find_verbatim("never asked about", text) == "never asked about"
    assert find_verbatim("the new roster, it was", text) == "the new roster,\nit was"  # line break re-flowed
    assert find_verbatim("never consulted", text) is None
    assert find_verbatim("[NAME] said", "[NAME] said so") is None  # a placeholder is not the employee's words
    assert find_verbatim("we", text) is None  # too short to justify anything


def test_answers_are_validated_against_the_schema() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string", "enum": ["a"]}}, "required": ["title"]}
    assert parse_json_answer('```json\n{"title": "b"}\n```', schema) == {"title": "b"}  # enums checked later
    for bad in ('{"name": "x"}', "no json here", '{"title": 3}'):
        with pytest.raises(Exception, match="schema|JSON"):
            parse_json_answer(bad, schema)


# ------------------------------------------------------------------ against a scripted server
def test_good_answers_are_kept_and_nothing_private_is_sent(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = ScriptedServer(lambda body: (200, good_answer(body), 0.0))
    try:
        assistant = Assistant(config_for(server, tmp_path)).with_terms(["Kassa Noord", "Magazijn Zuid"])
        copy = copy_of(result)
        notes = assistant.second_opinion(copy)
        report = build_report(copy, group_column="team", assistant=assistant)
    finally:
        server.stop()
    assert notes.asked == 6 and notes.suggestions == 6
    rows = suggestions_frame(copy)
    assert len(rows) == 6 and set(rows["llm_dimensions"]) == {"reliability"}
    for _, row in rows.iterrows():  # every kept quote stands verbatim in its comment
        quote = row["llm_quotes"].split(": ", 1)[1]
        assert quote in row["text"]
    assert report.assistant is notes
    assert notes.theme_notes and all(set(n.comment_ids) <= set(copy.comments["id"]) for n in notes.theme_notes.values())
    assert notes.actions and all(a.quote in " ".join(copy.comments["text"]) for a in notes.actions)
    sent = server.sent_text
    for private in (
        "resp-0",
        "jan.devries@acme.nl",
        "06-12345678",
        "020 123 4567",
        "lead Mark",
        "Kassa Noord",
        "Magazijn",
    ):
        assert private not in sent, private
    assert "[EMAIL]" in sent and "[PHONE]" in sent
    # The report shows them, marked as the assistant's and checked.
    html, markdown = render_html(report), render_markdown(report)
    assert "Promises not kept" in html and "Report back on every promise" in html
    assert "Tailored actions by the assistant (checked)" in markdown


def test_unknown_ids_labels_and_invented_quotes_are_dropped_and_counted(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The three least sure comments may come in one request or two (one per
    # language, depending on the model's scores): the faults are handed out
    # per comment, in the order the comments arrive.
    faults = iter(["good", "unknown_label", "invented_quote"])
    lock = threading.Lock()
    stray_sent = False

    def answer(body: dict) -> tuple[int, object, float]:
        nonlocal stray_sent
        items: list[dict] = []
        with lock:
            for ident, text in sent_comments(body):
                fault = next(faults)
                if fault == "good":
                    label, quote, tone = "reliability", " ".join(text.split()[:2]), "negative"
                elif fault == "unknown_label":
                    label, quote, tone = "honesty", "anything", "negative"
                else:
                    label, quote, tone = "empathy", "words nobody wrote", "sad"
                items.append({"id": ident, "labels": [{"label": label, "quote": quote}], "tone": tone})
            if not stray_sent:  # an id that was never sent
                items.append({"id": "c99", "labels": [{"label": "empathy", "quote": "x y z"}], "tone": "negative"})
                stray_sent = True
        return 200, {"comments": items}, 0.0

    server = ScriptedServer(answer)
    try:
        copy = copy_of(result)
        notes = Assistant(config_for(server, tmp_path, max_comments=3)).second_opinion(copy)
    finally:
        server.stop()
    assert notes.asked == 3 and notes.suggestions == 1
    assert notes.dropped == {"unknown_label": 1, "unknown_comment_id": 1, "quote_not_verbatim": 1, "unknown_tone": 1}
    assert sorted(copy.comments["llm_status"].tolist()).count("dropped") == 2
    assert (copy.comments["dimensions"] == result.comments["dimensions"]).all()  # the embedded labels stand


def test_schema_breaking_answers_fail_and_the_embedded_results_stand(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = ScriptedServer(lambda body: (200, "Sure! Here are my thoughts: reliability, mostly.", 0.0))
    try:
        copy = copy_of(result)
        notes = Assistant(config_for(server, tmp_path)).second_opinion(copy)
    finally:
        server.stop()
    # One count per request (two or more: six comments, three per request, one language each).
    assert len(server.requests) >= 2
    assert notes.suggestions == 0 and notes.dropped["answer_breaks_schema"] == len(server.requests)
    assert set(copy.comments.loc[copy.comments["llm_status"] != "", "llm_status"]) == {"failed"}
    assert "no JSON object" in notes.calls["second_opinion"].errors[0]


def test_slow_server_times_out_with_retries(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = ScriptedServer(lambda body: (200, good_answer(body), 3.0))
    try:
        started = time.monotonic()
        notes = Assistant(config_for(server, tmp_path, timeout=0.5, max_comments=1, max_retries=1)).second_opinion(
            copy_of(result)
        )
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    log = notes.calls["second_opinion"]
    assert log.failed == 1 and notes.suggestions == 0
    assert "did not answer within 0.5 s" in log.errors[0]
    assert len(server.requests) == 2  # the first try and one retry
    assert elapsed < 5


def test_server_down_gives_one_message(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    notes = Assistant(config_for(f"http://127.0.0.1:{free_port()}/v1", tmp_path)).second_opinion(copy_of(result))
    assert notes.suggestions == 0 and "Cannot reach the LLM server" in notes.message
    assert "embedded results stand" in notes.summary_line()


def test_structured_output_falls_back_to_llama_cpp_form(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def answer(body: dict) -> tuple[int, object, float]:
        if body.get("response_format", {}).get("type") == "json_schema":
            return 422, "Input should be 'text' or 'json_object'", 0.0
        return 200, good_answer(body), 0.0

    server = ScriptedServer(answer)
    try:
        notes = Assistant(config_for(server, tmp_path, max_comments=6)).second_opinion(copy_of(result))
    finally:
        server.stop()
    kinds = [r.get("response_format", {}).get("type") for r in server.requests]
    assert kinds[:2] == ["json_schema", "json_object"] and set(kinds[2:]) == {"json_object"}
    assert notes.suggestions == 6
    assert all(r["temperature"] == 0 and r["seed"] == 0 for r in server.requests)


def test_answers_are_cached_and_concurrency_is_bounded(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = ScriptedServer(lambda body: (200, good_answer(body), 0.3))
    try:
        config = config_for(server, tmp_path, max_comments=6, batch_size=1, max_concurrency=2)
        first = Assistant(config).second_opinion(copy_of(result))
        sent = len(server.requests)
        second = Assistant(config).second_opinion(copy_of(result))
    finally:
        server.stop()
    assert sent == 6 and server.max_active == 2
    assert len(server.requests) == sent  # the second run sent nothing
    assert second.calls["second_opinion"].cached == 6 and second.suggestions == first.suggestions == 6


def test_cli_with_assistant_and_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analyser.cli import main

    source = tmp_path / "in.csv"
    COMMENTS.to_csv(source, index=False)
    server = ScriptedServer(lambda body: (200, good_answer(body), 0.0))
    try:
        preview = tmp_path / "sent.json"
        args = ["--llm-url", server.url, "--llm-model", "scripted", "--id-column", "respondent", "-q"]
        code = main(
            [
                "report",
                str(source),
                "-o",
                str(tmp_path / "r.html"),
                "--group-column",
                "team",
                "--llm-preview",
                str(preview),
                *args,
            ]
        )
        assert code == 0 and server.requests == []  # a preview sends nothing
        requests = json.loads(preview.read_text(encoding="utf-8"))
        assert requests and {r["task"] for r in requests} >= {"theme_summary", "tailored_actions"}
        assert "Kassa Noord" not in preview.read_text(encoding="utf-8")
        code = main(["analyse", str(source), "-o", str(tmp_path / "out.csv"), *args])
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert code == 0 and "LLM assistant (openai:" in out
    labelled = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert {"llm_status", "llm_dimensions", "llm_quotes"} <= set(labelled.columns)
    assert (tmp_path / "out.assistant.md").read_text(encoding="utf-8").count("Promises not kept") >= 1
    assert {task_of(r) for r in server.requests} == {"second_opinion", "theme_summary", "tailored_actions"}


def test_cli_without_assistant_says_it_is_off(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from analyser.cli import main

    for name in ("ANALYSER_LLM_URL", "ANALYSER_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    source = tmp_path / "in.csv"
    COMMENTS.to_csv(source, index=False)
    assert main(["analyse", str(source), "-o", str(tmp_path / "out.csv")]) == 0
    assert "LLM assistant: off" in capsys.readouterr().err
    assert "llm_status" not in pd.read_csv(tmp_path / "out.csv").columns


def test_accepted_suggestions_become_training_data(tmp_path: Path) -> None:
    from analyser.errors import InputError
    from analyser.training import load_labelled

    rows = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "text": ["They promised a raise and never delivered.", "Nobody asked us.", "Great canteen food."],
            "language": ["en", "en", "en"],
            "status": ["ok", "ok", "ok"],
            "dimensions": ["transparency", "", ""],
            "areas": ["", "", ""],
            "tone": ["negative", "negative", "positive"],
            "llm_dimensions": ["reliability", "inclusive_decisions", ""],
            "llm_areas": ["retention", "", ""],
            "llm_tone": ["negative", "", ""],
            "llm_accept": ["yes", "ja", ""],
        }
    )
    path = tmp_path / "labelled.csv"
    rows.to_csv(path, index=False)
    data = load_labelled([path])
    assert data.texts == rows["text"][:2].tolist()  # only the accepted rows
    assert [data.labels[j] for j in data.Y[0].nonzero()[0]] == ["reliability", "retention"]
    assert data.tones == ["negative", "negative"]  # an empty suggested tone keeps the embedded one
    rows.assign(llm_accept="").to_csv(path, index=False)
    with pytest.raises(InputError, match="llm_accept marked"):
        load_labelled([path])
