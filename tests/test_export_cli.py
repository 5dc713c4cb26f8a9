from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from analyser import analyse
from analyser.cli import main
from analyser.export import EXCEL_CELL_LIMIT

from .conftest import write

SURVEY = (
    "respondent_id;team;opmerking\n"
    '1;A;"=HYPERLINK(""http://evil"";""klik"") niemand vertelt ons iets"\n'  # quoted as Excel writes it
    "2;A;+31 6 12345678 bel me maar, mijn manager bedankt ons nooit\n"
    "3;B;@channel we were never asked about the new roster\n"
    "4;B;- meer overleg graag met het management over de reorganisatie\n"
    "5;B;Great teamwork between planning and the warehouse\n"
)


@pytest.fixture(scope="module")
def result(analyser, tmp_path_factory):  # type: ignore[no-untyped-def]
    path = write(tmp_path_factory.mktemp("in") / "survey.csv", SURVEY)
    return analyse(path, analyser=analyser)


def test_csv_export_neutralises_formulas_and_reads_back(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = result.save(tmp_path / "out.csv")
    raw = path.read_text(encoding="utf-8-sig")
    for line in raw.splitlines()[1:]:
        text_cell = line.split(",", 3)[3]
        assert not text_cell.lstrip('"').startswith(("=", "+", "-", "@")), line
    assert "'=HYPERLINK" in raw and "'+31" in raw and "'@channel" in raw
    # Reading our own export back restores the text exactly.
    from analyser.reading import read_survey

    again = read_survey(path, text_columns=["text"], id_column="id")
    assert again.frame["text"].tolist() == result.comments["text"].tolist()


def test_xlsx_export_stores_text_never_formulas(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = result.save(tmp_path / "out.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["comments", "labels", "run"]
    sheet = workbook["comments"]
    header = [c.value for c in sheet[1]]
    text_col = header.index("text") + 1
    cells = [sheet.cell(row=r, column=text_col) for r in range(2, sheet.max_row + 1)]
    assert cells[0].value.startswith("=HYPERLINK")
    assert all(c.data_type == "s" for c in cells)  # text, not formula
    run = {r[0].value: r[1].value for r in workbook["run"].iter_rows(min_row=2)}
    assert run["encoder.name"] == "use-multilingual"
    assert run["taxonomy.version"].startswith("1.0+")


def test_parquet_and_json_exports(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_parquet(result.save(tmp_path / "out.parquet"))
    assert frame["id"].tolist() == ["1", "2", "3", "4", "5"]
    document = json.loads(result.save(tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["metadata"]["encoder"]["name"] == "use-multilingual"
    assert [c["id"] for c in document["comments"]] == ["1", "2", "3", "4", "5"]
    lines = result.save(tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5


def test_excel_cell_limit_is_respected(analyser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    long_text = "Niemand vertelt ons iets over de plannen. " * 1500  # ~63,000 characters
    frame = pd.DataFrame({"comment": [long_text, "Goede samenwerking in het team"]})
    result = analyse(frame, analyser=analyser, text_columns="comment")
    assert result.comments["status"].tolist() == ["too_long", "ok"]
    workbook = load_workbook(result.save(tmp_path / "long.xlsx"))
    cell = workbook["comments"].cell(row=2, column=[c.value for c in workbook["comments"][1]].index("text") + 1)
    assert len(cell.value) <= EXCEL_CELL_LIMIT and "cut:" in cell.value


def test_unknown_output_extension(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from analyser.errors import InputError

    with pytest.raises(InputError, match="extension '.docx'"):
        result.save(tmp_path / "out.docx")


# ------------------------------------------------------------------ CLI


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analyser", *args], capture_output=True, text=True, timeout=600)


def test_cli_analyse_writes_every_row(tmp_path: Path) -> None:
    path = write(tmp_path / "survey.csv", SURVEY)
    done = run_cli("analyse", str(path), "--out", str(tmp_path / "out.xlsx"), "--text-column", "opmerking")
    assert done.returncode == 0, done.stderr
    assert "Wrote 5 rows" in done.stdout
    frame = pd.read_excel(tmp_path / "out.xlsx", dtype=str)
    assert frame["id"].tolist() == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", [], "is empty"),
        (bytes(range(256)) * 8, [], "not a text file"),
        (b"id,team\n1,A\n2,B\n", [], "No column of free-text"),
        (b"id,comment\n1,Meer uitleg graag van het MT\n", ["--text-column", "nope"], "no column named 'nope'"),
        (b"id,comment\n1,Meer uitleg graag van het MT\n", ["--id-column", "nr"], "no column named 'nr'"),
        (b"\x81\x8d\x8f\x90\x9d" * 100, [], "encoding of survey.csv cannot be recognised"),
        (b"id,comment\n", [], "no data rows"),
        (b"id,comment\n1,Meer uitleg graag van het MT\n", ["--sheet", "Blad1"], "--sheet applies to Excel"),
        (
            b"id,comment\n1,Meer uitleg graag van het MT\n",
            ["--encoder", "/no/such/model", "--classifier", "zero-shot"],
            "cannot be loaded",
        ),
        (
            b"id,comment\n1,Meer uitleg graag van het MT\n",
            ["--encoder", "minilm"],
            "no trained model in",
        ),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, content: bytes, args: list[str], message: str) -> None:
    path = tmp_path / "survey.csv"
    path.write_bytes(content)
    done = run_cli("analyse", str(path), "--out", str(tmp_path / "out.csv"), *args)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_cli_zero_row_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Leeg"
    workbook.active.append(["id", "comment"])
    workbook.save(tmp_path / "s.xlsx")
    done = run_cli("analyse", str(tmp_path / "s.xlsx"), "--out", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "no sheet with data rows" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("analyse", str(tmp_path / "s.xlsx"), "--out", str(tmp_path / "o.csv"), "--sheet", "Leeg")
    assert done.returncode == 2 and "Sheet 'Leeg'" in done.stderr


def test_cli_usage_errors_and_help() -> None:
    done = run_cli("analyse")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    helptext = run_cli("analyse", "--help").stdout
    for option in ("--out", "--text-column", "--id-column", "--sheet", "--encoder", "--language", "--encoding"):
        assert option in helptext


def test_cli_labels_prints_the_taxonomy(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    out = io.StringIO()
    assert main(["labels", "--lang", "nl", "--verbose"], out=out) == 0
    text = out.getvalue()
    for name in ("Transparantie", "Betrouwbaarheid", "Erkenning & waardering", "Inclusieve besluitvorming", "Retentie"):
        assert name in text
    out = io.StringIO()
    main(["labels"], out=out)
    assert "Inclusive decision-making" in out.getvalue() and "inclusive_decisions" in out.getvalue()
