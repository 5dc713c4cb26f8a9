"""Writing results: CSV, Excel, Parquet, JSON and JSON Lines, by extension.

Spreadsheet exports are safe against formula injection: in CSV a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe (the reader removes it again); in Excel every text cell is
stored as text, so nothing a respondent typed can run as a formula.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError

if TYPE_CHECKING:
    from .pipeline import AnalysisResult

FORMATS = {".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".json": "json", ".jsonl": "jsonl"}
_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_CELL_LIMIT = 32767
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise_formula(value: object) -> object:
    """Prefix an apostrophe to text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def _metadata_rows(result: AnalysisResult) -> list[tuple[str, str]]:
    def flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return [row for k, v in value.items() for row in flatten(f"{prefix}.{k}" if prefix else str(k), v)]
        if isinstance(value, list):
            return [(prefix, "; ".join(str(v) for v in value))]
        return [(prefix, "" if value is None else str(value))]

    return flatten("", result.metadata.to_dict())


def _write_xlsx(result: AnalysisResult, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def add_sheet(title: str, header: list[str], rows: Any) -> None:
        sheet = workbook.create_sheet(title)
        head = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            head.append(cell)
        sheet.append(head)
        for row in rows:
            cells = []
            for value in row:
                if isinstance(value, float) and np.isnan(value):
                    value = None
                if isinstance(value, str):
                    value = _ILLEGAL_XML.sub("", value)
                    if len(value) > EXCEL_CELL_LIMIT:
                        note = f" …[cut: {len(value)} characters, Excel's limit is {EXCEL_CELL_LIMIT}]"
                        value = value[: EXCEL_CELL_LIMIT - len(note)] + note
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula
                cells.append(cell)
            sheet.append(cells)

    frame = result.comments
    add_sheet("comments", list(frame.columns), frame.itertuples(index=False, name=None))
    taxonomy = result.taxonomy
    add_sheet(
        "labels",
        ["key", "kind", "name_nl", "name_en", "description_nl", "description_en"],
        [
            (l.key, l.kind, l.name["nl"], l.name["en"], l.description["nl"], l.description["en"])
            for l in taxonomy.labels
        ],
    )
    add_sheet("run", ["setting", "value"], _metadata_rows(result))
    workbook.save(path)


def check_output_path(path: str | Path, formats: dict[str, str] | tuple[str, ...] = tuple(FORMATS)) -> Path:
    """Refuse an output path before any work is done: unknown extension or missing folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise InputError(
            f"Cannot write '{path.name}': the extension '{suffix or '(none)'}' is not an output format here.",
            f"Use one of: {', '.join(formats)}.",
        )
    if not path.parent.exists():
        raise InputError(f"The folder {path.parent} does not exist.", "Create it or write somewhere else.")
    return path


def write_result(result: AnalysisResult, path: str | Path) -> Path:
    """Write the labelled comments to ``path``; the format follows the extension."""
    path = check_output_path(path)
    suffix = path.suffix.lower()
    frame = result.comments
    kind = FORMATS[suffix]
    try:
        if kind == "csv":
            safe = frame.apply(lambda column: column.map(neutralise_formula))
            safe.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig")
        elif kind == "xlsx":
            _write_xlsx(result, path)
        elif kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            metadata = dict(table.schema.metadata or {})
            metadata[b"trust_analyser"] = json.dumps(result.metadata.to_dict(), default=str).encode()
            pq.write_table(table.replace_schema_metadata(metadata), path)
        elif kind == "json":
            records = json.loads(frame.to_json(orient="records", force_ascii=False))
            document = {"metadata": result.metadata.to_dict(), "comments": records}
            path.write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        else:
            frame.to_json(path, orient="records", lines=True, force_ascii=False)
    except PermissionError as exc:
        raise InputError(
            f"Cannot write {path}: permission denied.", "Close the file if it is open in Excel, or choose another path."
        ) from exc
    return path
