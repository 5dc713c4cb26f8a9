"""The web app, page by page, with Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
SURVEY = "respondent_id;team;opmerking\n" + "".join(
    f"r{i};{'Noord' if i % 2 else 'Zuid'};{text} ({i})\n"
    for i, text in enumerate(
        [
            "Niemand vertelt ons waarom besluiten genomen worden",
            "Management never keeps its promises, pure lip service",
            "Ik krijg nooit een bedankje voor het extra werk",
            "<script>alert(1)</script> nobody asked us about the new roster",
            "Great teamwork between planning and the warehouse",
            "De koffieautomaat is al weken kapot",
        ]
        * 3
    )
)


def _app() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state["lang"] = "en"
    return at.run()


def _button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def _analysed_sample() -> AppTest:
    at = _app()
    _button(at, "Use the sample survey").click().run()
    assert at.multiselect[0].value == ["comment"]  # the comment column is suggested
    assert at.selectbox[0].value == "respondent_id"
    _button(at, "Analyse").click().run()
    assert not at.exception
    assert any("340 rows analysed" in s.value for s in at.success)
    return at


@pytest.fixture(scope="module")
def sample_app() -> AppTest:
    return _analysed_sample()


def test_upload_page_with_a_file(tmp_path: Path) -> None:
    at = _app()
    assert not at.exception
    at.file_uploader[0].set_value(("survey.csv", SURVEY.encode("cp1252"), "text/csv"))
    at.run()
    assert at.multiselect[0].value == ["opmerking"]
    assert at.multiselect[1].value == ["team"]  # the group column is suggested
    _button(at, "Analyse").click().run()
    assert not at.exception and any("18 rows analysed" in s.value for s in at.success)
    result = at.session_state["analysis"].result
    assert "transparency" in result.comments.set_index("id").loc["r0", "dimensions"]
    # Re-uploading the same file is served from the cache: the same result object.
    again = _app()
    again.file_uploader[0].set_value(("survey.csv", SURVEY.encode("cp1252"), "text/csv"))
    again.run()
    _button(again, "Analyse").click().run()
    assert again.session_state["analysis"].result is result


def test_bad_upload_shows_a_message_not_a_traceback() -> None:
    at = _app()
    at.file_uploader[0].set_value(("survey.csv", bytes(range(256)) * 4, "text/csv"))
    at.run()
    assert not at.exception
    assert any("not a text file" in e.value for e in at.error)


def test_pages_before_any_analysis_say_where_to_start() -> None:
    at = _app()
    at.switch_page("pages/overview.py").run()
    assert not at.exception and any("Start on the Upload page" in i.value for i in at.info)


def test_overview_page(sample_app: AppTest) -> None:
    sample_app.switch_page("pages/overview.py").run()
    assert not sample_app.exception
    assert [s.value for s in sample_app.subheader][:2] == ["Trust dimensions", "Benefit areas"]
    assert any("1 group(s) suppressed" in c.value for c in sample_app.caption)


def test_themes_page(sample_app: AppTest) -> None:
    sample_app.switch_page("pages/themes.py").run()
    assert not sample_app.exception
    assert sample_app.expander and any("“" in t.value for t in sample_app.text)
    sample_app.selectbox[0].set_value("other").run()
    assert not sample_app.exception and sample_app.expander


def test_actions_page(sample_app: AppTest) -> None:
    sample_app.switch_page("pages/actions.py").run()
    assert not sample_app.exception
    assert any(s.value == "Actions to start this week" for s in sample_app.subheader)
    options = sample_app.selectbox[0].options
    assert "Juridische Zaken" not in options and "Finance" in options  # small teams get no plan
    sample_app.selectbox[0].set_value("Finance").run()
    assert not sample_app.exception


def test_comments_page_filters_and_corrections(sample_app: AppTest, tmp_path: Path) -> None:
    sample_app.switch_page("pages/comments.py").run()
    assert not sample_app.exception
    sample_app.text_input[0].set_value("beloofd").run()
    assert any(" of 340 comments" in c.value for c in sample_app.caption)
    assert len(sample_app.dataframe[0].value) < 340
    sample_app.text_input[0].set_value("").run()
    form_tone = sample_app.selectbox[-1]
    form_tone.set_value("positive")  # the value is the key; the label shows "Positive"
    sample_app.button[-1].click().run()  # the form's submit button
    assert not sample_app.exception
    assert any("Correction saved" in s.value for s in sample_app.success)


def test_downloads_page(sample_app: AppTest) -> None:
    sample_app.switch_page("pages/downloads.py").run()
    assert not sample_app.exception
    labels = [b.label for b in sample_app.get("download_button")]
    assert "Labelled comments (Excel)" in labels and "Report (HTML)" in labels


def test_language_switch_translates_the_pages(sample_app: AppTest) -> None:
    sample_app.session_state["lang"] = "nl"
    sample_app.switch_page("pages/overview.py").run()
    assert not sample_app.exception
    assert [s.value for s in sample_app.subheader][:2] == ["Vertrouwensdimensies", "Opbrengstgebieden"]
    sample_app.session_state["lang"] = "en"
