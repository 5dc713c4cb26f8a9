"""End to end in a real browser: Debian's chromium driven by Playwright against the app on 127.0.0.1.

Screenshots of each page go to screenshots/ (git-ignored); the README shows them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook

from .llm_servers import ScriptedServer, good_answer

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "screenshots"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh installs it with apt-get)"
)

ROWS = [
    ("r1", "Noord", "Niemand vertelt ons waarom besluiten genomen worden, alles gaat via de wandelgangen."),
    ("r2", "Noord", "Management promised new staff twice and never delivered. Pure lip service."),
    ("r3", "Noord", "Ik krijg nooit een bedankje voor al het extra werk in het weekend."),
    ("r4", "Noord", "Nobody asked us before the new roster was imposed from above."),
    ("r5", "Noord", "Great teamwork between planning and the warehouse, we help each other."),
    ("r6", "Zuid", "Mijn leidinggevende vraagt echt hoe het met me gaat, dat waardeer ik."),
    ("r7", "Zuid", "Door de reorganisatie vertrekken goede collega's en ik kijk zelf ook rond."),
    ("r8", "Zuid", "The coffee machine has been broken for weeks."),
    ("r9", "Zuid", "We hear about decisions from the newspaper before our manager tells us."),
    ("r10", "Zuid", "Onze teamleider komt zijn afspraken altijd na en geeft het goede voorbeeld."),
    ("r11", "Zuid", "The atmosphere is toxic, people are afraid to speak up in meetings."),
    ("r12", "Zuid", "Ik ben uitgeblust door de werkdruk en heb geen motivatie meer."),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {**os.environ, "ANALYSER_CACHE_DIR": str(tmp_path_factory.mktemp("app-cache"))}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the app did not start within 90 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_upload_browse_correct_and_download(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    survey = tmp_path / "survey.csv"
    survey.write_bytes(
        ("respondent_id;team;opmerking\r\n" + "".join(f"{i};{t};{c}\r\n" for i, t, c in ROWS)).encode("cp1252")
    )
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(120_000)
        page.goto(app_url)
        page.get_by_text("Sleep een export").wait_for()
        page.locator("input[type=file]").set_input_files(str(survey))
        page.get_by_role("button", name="Analyseer").click()
        page.get_by_text("Klaar: 12 rijen geanalyseerd").wait_for()
        page.screenshot(path=str(SHOTS / "1-upload.png"), full_page=True)

        def open_page(name: str, wait_text: str, shot: str) -> None:
            page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
            page.get_by_text(wait_text).first.wait_for()
            page.wait_for_timeout(1500)  # charts finish drawing
            page.screenshot(path=str(SHOTS / shot), full_page=True)

        open_page("Overzicht", "Vertrouwensdimensies", "2-overview.png")
        open_page("Thema's", "Kernwoorden", "3-themes.png")
        open_page("Acties", "Acties voor deze week", "4-actions.png")
        open_page("Opmerkingen", "Labels corrigeren", "5-comments.png")
        # Correct one comment's tone and save it.
        tone = page.locator('[data-testid="stForm"]').get_by_role("combobox", name="Toon")
        tone.fill("Positief")  # the combobox filters as you type; Enter picks the match
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Bewaar correctie").click()
        page.get_by_text("Correctie bewaard (1 in totaal).").wait_for()
        open_page("Downloads", "Gelabelde opmerkingen (Excel)", "6-downloads.png")
        with page.expect_download() as download:
            page.get_by_role("button", name="Gelabelde opmerkingen (Excel)").click()
        target = tmp_path / "labelled.xlsx"
        download.value.save_as(target)
        # The LLM assistant against a server on a real socket (scripted answers: verbatim quotes, sent ids).
        server = ScriptedServer(lambda body: (200, good_answer(body), 0.0))
        try:
            open_page("Assistent (LLM)", "De LLM-assistent staat uit", "7-assistant-off.png")
            page.get_by_role("textbox", name="Adres van de API (base URL)").fill(server.url)
            page.get_by_role("textbox", name="Model", exact=True).fill("scripted")
            page.get_by_role("button", name="Instellingen opslaan").click()
            page.get_by_role("button", name="Vraag de assistent").click()
            page.get_by_text("kregen een gecontroleerde suggestie").wait_for()
            page.get_by_text("Promises not kept").first.wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SHOTS / "7-assistant.png"), full_page=True)
        finally:
            server.stop()
        assert server.requests and "Noord" not in server.sent_text
        browser.close()
    sheet = load_workbook(target)["comments"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert [r[header.index("id")] for r in rows[1:]] == [r[0] for r in ROWS]
    frame = {r[header.index("id")]: r for r in rows[1:]}
    assert "transparency" in frame["r1"][header.index("dimensions")]
    assert (SHOTS / "5-comments.png").stat().st_size > 10_000
