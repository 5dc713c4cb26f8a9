from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from analyser.errors import InputError
from analyser.reading import read_survey, read_table, sniff_delimiter, suggest_text_columns

from .conftest import write

ROWS = [
    ("r1", "Planning", "De communicatie over de reorganisatie is slecht, niemand legt uit waarom."),
    ("r2", "Magazijn", "Onze teamleider komt zijn afspraken na en geeft het goede voorbeeld."),
    ("r3", "IT", "Nobody asked us before the new tooling was rolled out, again."),
    ("r4", "IT", "Ik voel me gewaardeerd, mijn leidinggevende bedankt ons regelmatig."),
]


def _csv(delimiter: str, quote_all: bool = False) -> str:
    lines = [delimiter.join(["respondent_id", "team", "opmerking"])]
    for row in ROWS:
        cells = [f'"{c}"' if quote_all or delimiter in c else c for c in row]
        lines.append(delimiter.join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    path = write(tmp_path / "survey.csv", _csv(delimiter))
    table = read_survey(path)
    assert table.info.delimiter == delimiter
    assert table.frame["text"].tolist() == [r[2] for r in ROWS]
    assert table.frame["team"].tolist() == [r[1] for r in ROWS]
    assert table.frame["id"].tolist() == ["r1", "r2", "r3", "r4"]


def test_sniffer_ignores_commas_inside_free_text() -> None:
    text = "id;comment\n1;Goed, maar traag, echt\n2;Prima, dank\n3;Slecht, heel slecht\n"
    assert sniff_delimiter(text) == ";"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    content = (
        "id;comment\n1;Geen waardering voor ons werk – échte teleurstelling, €0 bonus\n2;Café “De Hoek” is dicht\n"
    )
    path = write(tmp_path / "survey.csv", content, encoding)
    table = read_survey(path, text_columns=["comment"])
    assert table.info.encoding == expected
    assert table.frame["text"][0] == "Geen waardering voor ons werk – échte teleurstelling, €0 bonus"
    assert table.frame["text"][1] == "Café “De Hoek” is dicht"


def test_tsv_and_text_and_json_formats(tmp_path: Path) -> None:
    tsv = write(tmp_path / "s.tsv", _csv("\t"))
    assert read_survey(tsv).frame["text"].tolist() == [r[2] for r in ROWS]

    txt = write(tmp_path / "s.txt", "\n".join(r[2] for r in ROWS) + "\n\n")
    table = read_survey(txt)
    assert table.frame["text"].tolist() == [r[2] for r in ROWS]
    assert table.frame["id"].tolist() == ["row-00001", "row-00002", "row-00003", "row-00004"]
    assert any("blank line" in n for n in table.info.notes)

    records = [{"id": r[0], "team": r[1], "answer": r[2], "score": 7} for r in ROWS]
    js = write(tmp_path / "s.json", json.dumps({"responses": records}))
    table = read_survey(js)
    assert table.frame["text"].tolist() == [r[2] for r in ROWS]
    assert table.frame["score"].tolist() == ["7"] * 4

    jsonl = write(tmp_path / "s.jsonl", "\n".join(json.dumps(r) for r in records))
    assert read_survey(jsonl).frame["id"].tolist() == ["r1", "r2", "r3", "r4"]


def test_parquet_input(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pd.DataFrame(ROWS, columns=["id", "team", "comment"]).to_parquet(path)
    assert read_survey(path).frame["text"].tolist() == [r[2] for r in ROWS]


def _workbook(path: Path, sheets: dict[str, list[tuple]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def test_excel_sheet_choice(tmp_path: Path) -> None:
    header = ("respondent_id", "team", "comment")
    path = _workbook(
        tmp_path / "s.xlsx",
        {
            "Info": [],
            "Answers": [header, *ROWS],
            "Other": [header, ("x1", "HR", "Meer inspraak in roosters graag, nu wordt alles opgelegd")],
        },
    )
    table = read_survey(path)
    assert table.info.sheet == "Answers"  # the first sheet with data
    assert len(table.frame) == 4
    assert any("--sheet" in n for n in table.info.notes)
    other = read_survey(path, sheet="Other")
    assert other.frame["id"].tolist() == ["x1"]
    with pytest.raises(InputError, match="no sheet named 'Missing'.*'Answers'"):
        read_survey(path, sheet="Missing")
    with pytest.raises(InputError, match="Sheet 'Info'.*no data rows"):
        read_survey(path, sheet="Info")


def test_excel_renamed_to_csv_is_read_as_excel(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "s.xlsx", {"Sheet1": [("id", "comment"), *[(r[0], r[2]) for r in ROWS]]})
    renamed = path.rename(tmp_path / "export.csv")
    assert read_survey(renamed).frame["text"].tolist() == [r[2] for r in ROWS]


def test_text_column_is_found_and_others_are_carried(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "respondent_id": ["a", "b", "c", "d"],
            "wave": ["2026-Q1"] * 4,
            "score": ["7", "8", "6", "9"],
            "comment": [r[2] for r in ROWS],
            "status": ["x", "y", "z", "w"],
        }
    )
    assert suggest_text_columns(frame) == ["comment"]
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    table = read_survey(path)
    assert table.info.text_columns == ["comment"]
    assert table.info.id_column == "respondent_id"
    # A carried column named like an output column is kept under another name.
    assert list(table.frame.columns) == ["id", "row", "wave", "score", "input_status", "text"]
    assert table.frame["input_status"].tolist() == ["x", "y", "z", "w"]


def test_several_open_questions(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "good": ["De samenwerking in ons team is echt heel goed", "Fijne collega's en een goede sfeer"],
            "better": ["Meer uitleg over besluiten van het MT graag", ""],
        }
    )
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    table = read_survey(path, text_columns=["good", "better"])
    assert table.frame["id"].tolist() == ["a:q1", "a:q2", "b:q1", "b:q2"]
    assert table.frame["question"].tolist() == ["good", "better", "good", "better"]
    assert table.frame["row"].tolist() == [1, 1, 2, 2]
    assert table.frame["text"].tolist()[3] == ""


def test_duplicate_and_blank_ids_stay_unique(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "id,comment\n7,Meer uitleg over besluiten graag\n7,Niemand vraagt ons iets ooit\n"
        ",Goede sfeer in het team hier\n",
    )
    table = read_survey(path, id_column="id")
    assert table.frame["id"].tolist() == ["7", "7~2", "row-00003"]
    assert table.frame["id"].is_unique


def test_preamble_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "# Illustrative sample\n" + _csv(","))
    table = read_survey(path)
    assert len(table.frame) == 4
    assert any("skipped 1 comment line" in n for n in table.info.notes)


def test_formula_escape_of_our_own_export_is_undone(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv", "id,comment\n1,'- meer overleg graag met het management\n2,'=1+1 is wat het MT rekent\n"
    )
    assert read_survey(path).frame["text"].tolist() == [
        "- meer overleg graag met het management",
        "=1+1 is wat het MT rekent",
    ]


# ------------------------------------------------------------- bad input


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is empty"):
        read_survey(write(tmp_path / "s.csv", ""))


def test_binary_file_renamed_csv(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError, match="not a text file"):
        read_survey(path)


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no data rows"):
        read_survey(write(tmp_path / "s.csv", "id,comment\n"))


def test_no_text_column(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "id,team,score\n1,A,7\n2,B,8\n3,A,9\n")
    with pytest.raises(InputError, match="No column of free-text.*--text-column"):
        read_survey(path)


def test_named_column_missing(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", _csv(","))
    with pytest.raises(InputError, match="no column named 'Comments'.*'opmerking'"):
        read_survey(path, text_columns=["Comments"])
    with pytest.raises(InputError, match="no column named 'nr'"):
        read_survey(path, id_column="nr")


def test_unreadable_encoding(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    # UTF-32 without a byte order mark: every character is padded with NULs
    # after the first; plus bytes cp1252 leaves undefined.
    path.write_bytes(
        b"\x81\x8d\x8f\x90\x9d" * 50 + "id,comment\n1,hallo daar\n".encode("utf-32-le")[:0] + b"\x81\x9d" * 100
    )
    with pytest.raises(InputError, match="encoding of s.csv cannot be recognised"):
        read_survey(path)


def test_forced_wrong_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "id,comment\n1,Één keer per jaar een gesprek is te weinig\n", "cp1252")
    with pytest.raises(InputError, match="cannot be read as utf-8"):
        read_survey(path, encoding="utf-8")


def test_unbalanced_quotes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv", 'id,comment,team\n1,"Open quote never closed,A\n2,Tweede rij met tekst,B\n3,x,y,z,w\n'
    )
    with pytest.raises(InputError, match="never closed"):
        read_table(path)
    # A stray quote inside an unquoted cell is read as it is.
    lenient = write(tmp_path / "l.csv", 'id,comment\n1,Mijn 24" scherm is te klein voor het werk\n2,Prima zo\n')
    assert read_table(lenient)[0]["comment"].tolist() == ['Mijn 24" scherm is te klein voor het werk', "Prima zo"]
    ragged = write(tmp_path / "r.csv", "id,comment\n1,Goed\n2,Slecht,x,y\n")
    with pytest.raises(InputError, match="Row 3 of r.csv has 4 fields but the header has 2"):
        read_table(ragged)


def test_one_megabyte_cell_is_read(tmp_path: Path) -> None:
    big = "Veel te lang verhaal. " * 50000
    path = write(tmp_path / "s.csv", f'id,comment\n1,"{big}"\n2,Korte opmerking over de sfeer hier\n')
    table = read_survey(path, text_columns=["comment"])
    assert len(table.frame["text"][0]) == len(big)


def test_unsupported_and_old_formats(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="extension '.docx'"):
        read_survey(write(tmp_path / "s.docx", "hello"))
    old = tmp_path / "s.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(InputError, match="save it as Excel workbook"):
        read_survey(old)
    with pytest.raises(InputError, match="does not exist"):
        read_survey(tmp_path / "missing.csv")
