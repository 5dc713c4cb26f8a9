"""Reading survey exports: CSV/TSV, Excel, JSON, JSON Lines, Parquet, text.

The reader turns any supported file into a table of strings and then into a
:class:`SurveyTable`: one row per (input row, open question) with a stable
``id``, the input ``row`` number, every other column carried through
untouched, and the raw comment text. It never drops a row: rows without text
stay in the table and are given a status later.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

DELIMITED = {".csv", ".tsv", ".tab"}
EXCEL = {".xlsx", ".xlsm"}
JSON = {".json"}
JSON_LINES = {".jsonl", ".ndjson"}
PARQUET = {".parquet", ".pq"}
TEXT = {".txt", ".text"}
SUPPORTED = sorted(DELIMITED | EXCEL | JSON | JSON_LINES | PARQUET | TEXT)

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Column names that survey tools use for a respondent or response id.
ID_NAME = re.compile(
    r"^(id|respondent|respondent[ _-]?(id|nr|nummer)|response[ _-]?id|record[ _-]?id|"
    r"resp[ _-]?id|nr|nummer|volgnummer|participant[ _-]?id|case[ _-]?id|uuid)$",
    re.IGNORECASE,
)
# Names the analyser writes itself; a carried column with one of these names
# is renamed so that nothing in the input is overwritten.
RESERVED = {
    "id",
    "row",
    "question",
    "text",
    "language",
    "status",
    "status_detail",
    "dimensions",
    "areas",
    "tone",
    "evidence",
    "duplicate_of",
}
# A CSV cell that our own export protected against formula injection starts
# with an apostrophe; undo that so exported files read back as they were.
_ESCAPED_FORMULA = re.compile(r"^'(?=[=+\-@\t\r])")


@dataclass
class InputInfo:
    """How a file was read; kept in the run metadata."""

    path: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    text_columns: list[str] = field(default_factory=list)
    id_column: str | None = None
    carried_columns: list[str] = field(default_factory=list)
    input_rows: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class SurveyTable:
    """Comments ready for analysis: one row per (input row, question)."""

    frame: pd.DataFrame
    info: InputInfo

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()


# --------------------------------------------------------------------- bytes


def _display(path: Path) -> str:
    return path.name


def decode_bytes(raw: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode file content, detecting UTF-8 (with or without BOM), UTF-16 and cp1252."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except LookupError as exc:
            raise InputError(f"Unknown encoding '{encoding}'.", "Use e.g. utf-8, cp1252 or latin-1.") from exc
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name} cannot be read as {encoding} (byte {exc.start}).",
                "Leave the encoding out to detect it, or export the file again as UTF-8.",
            ) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} starts like UTF-16 but is damaged.", "Export it again as UTF-8 CSV.") from exc
    if b"\x00" in raw[:65536]:
        raise InputError(
            f"{name} is not a text file: it contains binary data.",
            "If it is an Excel workbook, give it the .xlsx extension; otherwise export the survey again as CSV.",
        )
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for candidate in ("cp1252", "latin-1"):
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        # latin-1 decodes any byte; text full of control characters means the
        # guess is wrong rather than that the survey is full of them.
        controls = sum(1 for ch in text if ("\x80" <= ch <= "\x9f") or (ch < " " and ch not in "\t\r\n"))
        if controls <= max(2, len(text) // 200):
            return text, candidate
    raise InputError(
        f"The text encoding of {name} cannot be recognised (not UTF-8, UTF-16 or Windows-1252).",
        "Open it in Excel or a text editor and save it as 'CSV UTF-8', or pass --encoding.",
    )


def _looks_like(raw: bytes) -> str | None:
    if raw.startswith(b"PK\x03\x04"):
        return "zip"
    if raw.startswith(b"%PDF"):
        return "pdf"
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"  # Excel 97-2003 .xls or another old Office file
    if raw.startswith(b"PAR1"):
        return "parquet"
    return None


# ----------------------------------------------------------------- delimited


def sniff_delimiter(text: str) -> str | None:
    """Pick the delimiter that splits the first lines into a steady number of fields."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best: tuple[float, int, str] | None = None
    for delimiter in DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r][:200]
        if len(rows) < 1:
            continue
        counts = Counter(len(r) for r in rows)
        width, hits = counts.most_common(1)[0]
        if width < 2:
            continue
        consistency = hits / len(rows)
        if len(rows[0]) != width:
            consistency *= 0.5  # the header should have the common width
        candidate = (consistency, width, delimiter)
        if consistency >= 0.8 and (best is None or candidate[:2] > best[:2]):
            best = candidate
    if best:
        return best[2]
    # No steady split (e.g. an unclosed quote): trust the header line, so that
    # the parser reports the broken row instead of reading one wide column.
    header = sample.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS if header.count(d)}
    return max(counts, key=counts.__getitem__) if counts else None


def _strip_preamble(text: str) -> tuple[str, int]:
    """Drop leading '#' comment lines (e.g. the header of our sample survey)."""
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
        skipped += 1
    return "".join(lines[skipped:]), skipped


def _parse_rows(text: str, delimiter: str | None, name: str) -> list[list[str]]:
    """Parse CSV text; refuse a file whose unclosed quote swallowed later rows.

    Strict parsing first. Hand-edited exports often hold a stray quote inside
    an unquoted cell (``5" screen``), which the lenient parser reads fine; but
    a quote that never closes makes it read every following line into one
    cell, which would silently lose rows, so that is an error.
    """
    separator = delimiter or "\x1f"

    def parse(strict: bool) -> list[list[str]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=strict)
        return [row for row in reader if row and any(cell.strip() for cell in row)]

    try:
        return parse(strict=True)
    except csv.Error:
        rows = parse(strict=False)
    width = len(rows[0]) if rows else 0
    for number, row in enumerate(rows, start=1):
        for cell in row:
            swallowed = [line for line in cell.split("\n")[1:] if len(line.split(separator)) >= max(2, width)]
            if delimiter and swallowed:
                raise InputError(
                    f"{name} is not a consistent table: a quote opened in record {number} is never closed, "
                    "so the rows after it would be read as one comment.",
                    'Close the quote (a " inside a comment must be doubled as ""), or export the file again.',
                )
    return rows


def _read_delimited(path: Path, raw: bytes, info: InputInfo, encoding: str | None) -> pd.DataFrame:
    text, info.encoding = decode_bytes(raw, _display(path), encoding)
    text, skipped = _strip_preamble(text)
    if skipped:
        info.notes.append(f"skipped {skipped} comment line(s) starting with '#' before the header")
    if not text.strip():
        raise InputError(f"{_display(path)} has no rows.", "Export the survey again with its answers.")
    delimiter = sniff_delimiter(text)
    if delimiter is None and path.suffix.lower() in {".tsv", ".tab"}:
        delimiter = "\t"
    info.delimiter = delimiter
    rows = _parse_rows(text, delimiter, _display(path))
    if not rows:
        raise InputError(f"{_display(path)} has no rows.", "Export the survey again with its answers.")
    header, body = rows[0], rows[1:]
    width = len(header)
    for number, row in enumerate(body, start=2):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise InputError(
                f"Row {number} of {_display(path)} has {len(row)} fields but the header has {width}.",
                f"Quote comments that contain the delimiter ({DELIMITER_NAMES.get(delimiter or '', 'none')}), "
                "or export the file again from the survey tool.",
            )
    body = [row[:width] + [""] * (width - len(row)) for row in body]
    return pd.DataFrame(
        body, columns=_unique_names([h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]), dtype=str
    )


# ---------------------------------------------------------------- the others


def _read_excel(path: Path, info: InputInfo, sheet: str | None) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is a core dependency
        raise InputError("Reading Excel needs openpyxl.", "pip install openpyxl") from exc
    try:
        # From bytes, not the path: openpyxl refuses a workbook named .csv.
        workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(
            f"{_display(path)} cannot be opened as an Excel workbook ({exc.__class__.__name__}).",
            "Open it in Excel and save it again as .xlsx, or export the survey as CSV.",
        ) from exc
    try:
        info.sheets = list(workbook.sheetnames)
        if sheet is not None and sheet not in info.sheets:
            raise InputError(
                f"{_display(path)} has no sheet named '{sheet}'.",
                f"Choose one of: {', '.join(repr(s) for s in info.sheets)}.",
            )
        names = [sheet] if sheet is not None else info.sheets
        frames: dict[str, pd.DataFrame] = {}
        for name in names:
            rows = list(workbook[name].iter_rows(values_only=True))
            rows = [r for r in rows if any(v is not None and str(v).strip() for v in r)]
            if len(rows) >= 2:
                frames[name] = _frame_from_rows(rows)
                if sheet is None:
                    break
            elif sheet is not None:
                raise InputError(
                    f"Sheet '{name}' of {_display(path)} has no data rows.",
                    "Choose the sheet with the answers"
                    + (f" (sheets: {', '.join(repr(s) for s in info.sheets)})." if len(info.sheets) > 1 else "."),
                )
    finally:
        workbook.close()
    if not frames:
        raise InputError(
            f"{_display(path)} has no sheet with data rows (a header and at least one answer).",
            "Export the survey again with its answers.",
        )
    info.sheet = next(iter(frames))
    if sheet is None and len(info.sheets) > 1:
        info.notes.append(f"read sheet '{info.sheet}' of {len(info.sheets)}; choose another with --sheet")
    return frames[info.sheet]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame_from_rows(rows: list[tuple]) -> pd.DataFrame:
    width = max(len(r) for r in rows)
    header = [_cell(v).strip() for v in rows[0]] + [""] * (width - len(rows[0]))
    # Keep only columns that have a header or any data.
    body = [[_cell(v) for v in r] + [""] * (width - len(r)) for r in rows[1:]]
    keep = [i for i in range(width) if header[i] or any(row[i].strip() for row in body)]
    names = _unique_names([header[i] or f"column_{i + 1}" for i in keep])
    return pd.DataFrame([[row[i] for i in keep] for row in body], columns=names, dtype=str)


def _unique_names(names: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _records_frame(records: list, path: Path) -> pd.DataFrame:
    if not records:
        raise InputError(f"{_display(path)} holds no records.", "Export the survey again with its answers.")
    if all(isinstance(r, str) or r is None for r in records):
        return pd.DataFrame({"comment": ["" if r is None else r for r in records]}, dtype=str)
    if not all(isinstance(r, dict) for r in records):
        raise InputError(
            f"{_display(path)} mixes records of different kinds.",
            "Use a list of objects (one per response) or a list of strings.",
        )
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))

    def as_text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return pd.DataFrame([[as_text(r.get(c)) for c in columns] for r in records], columns=list(columns), dtype=str)


def _read_json(path: Path, raw: bytes, info: InputInfo, encoding: str | None, lines: bool) -> pd.DataFrame:
    text, info.encoding = decode_bytes(raw, _display(path), encoding)
    if not lines:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise InputError(
                    f"{_display(path)} is not valid JSON (line {exc.lineno}: {exc.msg}).",
                    "Fix the file or export it again.",
                ) from exc
            lines = True  # several JSON values: read it as JSON Lines
        else:
            if isinstance(data, dict):
                lists = [v for v in data.values() if isinstance(v, list)]
                if len(lists) != 1:
                    raise InputError(
                        f"{_display(path)} is a JSON object without one list of responses.",
                        "Use a list of objects, one per response, or JSON Lines.",
                    )
                data = lists[0]
            if not isinstance(data, list):
                raise InputError(f"{_display(path)} holds no list of responses.", "Use a list of objects.")
            return _records_frame(data, path)
    info.format = "jsonl"
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"Line {number} of {_display(path)} is not valid JSON ({exc.msg}).",
                "Every line of a JSON Lines file must be one JSON object.",
            ) from exc
    return _records_frame(records, path)


def _read_text(path: Path, raw: bytes, info: InputInfo, encoding: str | None) -> pd.DataFrame:
    text, info.encoding = decode_bytes(raw, _display(path), encoding)
    lines = text.splitlines()
    comments = [line for line in lines if line.strip()]
    if len(comments) < len(lines):
        info.notes.append(f"skipped {len(lines) - len(comments)} blank line(s) of the text file")
    if not comments:
        raise InputError(f"{_display(path)} has no lines of text.", "Put one comment per line.")
    return pd.DataFrame({"comment": comments}, dtype=str)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise InputError(
            f"{_display(path)} cannot be read as Parquet ({exc.__class__.__name__}).", "Export it again."
        ) from exc
    return frame.astype(str).where(frame.notna(), "")


def read_table(
    path: str | Path, sheet: str | None = None, encoding: str | None = None
) -> tuple[pd.DataFrame, InputInfo]:
    """Read any supported file into a table of strings, with how it was read."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"The file {path} does not exist.", "Check the path and the file name.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file.", "Give the path of the exported survey file.")
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"{_display(path)} is empty.", "Export the survey again; the file has no content.")
    kind = _looks_like(raw)
    if kind == "pdf":
        raise InputError(
            f"{_display(path)} is a PDF document.", "Export the answers from the survey tool as CSV or Excel."
        )
    if kind == "ole" or suffix in {".xls", ".ods"}:
        raise InputError(
            f"{_display(path)} is in an old or non-Excel spreadsheet format.",
            "Open it and save it as Excel workbook (.xlsx) or CSV.",
        )
    if kind == "zip" and suffix not in EXCEL:
        suffix = ".xlsx"  # an Excel workbook with the wrong name: read it as one
    if kind == "parquet":
        suffix = ".parquet"
    if suffix not in SUPPORTED:
        raise InputError(
            f"{_display(path)} has the extension '{suffix or '(none)'}', which is not supported.",
            f"Use one of: {', '.join(SUPPORTED)}.",
        )
    fmt = suffix.lstrip(".")
    info = InputInfo(path=str(path), format=fmt)
    if suffix in EXCEL:
        info.format = "xlsx"
        frame = _read_excel(path, info, sheet)
    elif sheet is not None:
        raise InputError(f"--sheet applies to Excel files, and {_display(path)} is not one.", "Leave --sheet out.")
    elif suffix in DELIMITED:
        frame = _read_delimited(path, raw, info, encoding)
    elif suffix in JSON or suffix in JSON_LINES:
        frame = _read_json(path, raw, info, encoding, lines=suffix in JSON_LINES)
    elif suffix in PARQUET:
        frame = _read_parquet(path)
    else:
        frame = _read_text(path, raw, info, encoding)
    frame.columns = _unique_names([str(c).strip() or f"column_{i + 1}" for i, c in enumerate(frame.columns)])
    frame = frame.fillna("").astype(str)
    if frame.empty:
        raise InputError(
            f"{_display(path)} has a header but no data rows.", "Export the survey again with its answers."
        )
    info.columns = list(frame.columns)
    info.input_rows = len(frame)
    return frame.reset_index(drop=True), info


# ------------------------------------------------------------------ columns


def text_column_scores(frame: pd.DataFrame) -> dict[str, float]:
    """How much each column looks like free text (0 = not at all).

    Free text has several words per cell and few repeated values; ids,
    teams, dates and scores do not.
    """
    scores = {}
    for column in frame.columns:
        values = frame[column].astype(str).str.strip()
        filled = values[values != ""]
        if filled.empty:
            scores[column] = 0.0
            continue
        sample = filled.head(5000)
        words = sample.str.split().str.len().mean()
        distinct = sample.nunique() / len(sample)
        numeric = pd.to_numeric(sample.str.replace(",", ".", regex=False), errors="coerce").notna().mean()
        if words < 2.5 or distinct < 0.3 or numeric > 0.5:
            scores[column] = 0.0
            continue
        scores[column] = float(words * distinct * (len(filled) / len(values)))
    return scores


def suggest_text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that look like free text, best first."""
    scores = text_column_scores(frame)
    return [c for c, s in sorted(scores.items(), key=lambda kv: -kv[1]) if s > 0]


def suggest_id_column(frame: pd.DataFrame) -> str | None:
    for column in frame.columns:
        if ID_NAME.match(str(column).strip()):
            values = frame[column].str.strip()
            if (values != "").all() and values.is_unique:
                return column
    return None


def suggest_group_columns(frame: pd.DataFrame, exclude: list[str] | None = None) -> list[str]:
    """Columns that split respondents into groups (team, department, wave...)."""
    exclude = set(exclude or [])
    out = []
    for column in frame.columns:
        if column in exclude:
            continue
        values = frame[column].str.strip()
        distinct = values[values != ""].nunique()
        if 2 <= distinct <= max(2, min(200, len(frame) // 3)):
            out.append(column)
    return out


def _missing_column(name: str, frame: pd.DataFrame, option: str) -> InputError:
    return InputError(
        f"There is no column named '{name}'.",
        f"Columns in the file: {', '.join(repr(c) for c in frame.columns)}. Pass one of them with {option}.",
    )


def select_columns(
    frame: pd.DataFrame,
    info: InputInfo,
    text_columns: list[str] | None = None,
    id_column: str | None = None,
) -> SurveyTable:
    """Choose the comment column(s) and the id column, and lay out the table."""
    if text_columns:
        for name in text_columns:
            if name not in frame.columns:
                raise _missing_column(name, frame, "--text-column")
    else:
        candidates = suggest_text_columns(frame)
        if not candidates:
            raise InputError(
                "No column of free-text comments was found (no column has several words per answer).",
                f"Columns in the file: {', '.join(repr(c) for c in frame.columns)}. "
                "Name the comment column with --text-column.",
            )
        text_columns = candidates[:1]
        if len(candidates) > 1:
            others = ", ".join(repr(c) for c in candidates[1:4])
            info.notes.append(
                f"analysed column '{text_columns[0]}'; {others} also look(s) like free text: "
                "name every open question with --text-column to analyse them too"
            )
    if id_column is not None:
        if id_column not in frame.columns:
            raise _missing_column(id_column, frame, "--id-column")
        if id_column in text_columns:
            raise InputError(f"'{id_column}' is both the id column and a text column.", "Choose different columns.")
    else:
        id_column = suggest_id_column(frame)
        if id_column in text_columns:
            id_column = None
    info.text_columns = list(text_columns)
    info.id_column = id_column

    width = max(5, len(str(len(frame))))
    rows = pd.Series(range(1, len(frame) + 1))
    if id_column is not None:
        base_ids = frame[id_column].str.strip()
        blank = base_ids == ""
        base_ids = base_ids.where(~blank, "row-" + rows.astype(str).str.zfill(width))
        if not base_ids.is_unique:
            repeated = base_ids.duplicated(keep=False).sum()
            info.notes.append(
                f"{repeated} rows share an id in column '{id_column}'; they got a suffix ~2, ~3... to stay unique"
            )
            counter = base_ids.groupby(base_ids).cumcount() + 1
            base_ids = base_ids.where(counter == 1, base_ids + "~" + counter.astype(str))
    else:
        base_ids = "row-" + rows.astype(str).str.zfill(width)

    carried = [c for c in frame.columns if c not in text_columns and c != id_column]
    info.carried_columns = carried
    renamed = {c: (f"input_{c}" if c in RESERVED else c) for c in carried}
    parts = []
    for number, column in enumerate(text_columns, start=1):
        part = pd.DataFrame({"id": base_ids if len(text_columns) == 1 else base_ids + f":q{number}"})
        part["row"] = rows.values
        for c in carried:
            part[renamed[c]] = frame[c].values
        if len(text_columns) > 1:
            part["question"] = column
        part["text"] = frame[column].map(lambda v: _ESCAPED_FORMULA.sub("", v)).values
        part["_order"] = range(len(part))
        part["_question"] = number
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    # Keep the input's order: every question of row 1, then of row 2...
    table = table.sort_values(["_order", "_question"], kind="stable").drop(columns=["_order", "_question"])
    return SurveyTable(frame=table.reset_index(drop=True), info=info)


def read_survey(
    path: str | Path,
    text_columns: list[str] | None = None,
    id_column: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
) -> SurveyTable:
    """Read a survey export and lay it out for analysis."""
    frame, info = read_table(path, sheet=sheet, encoding=encoding)
    return select_columns(frame, info, text_columns=text_columns, id_column=id_column)
