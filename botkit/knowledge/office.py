"""Word (.docx, python-docx) and Excel (.xlsx, openpyxl) files read into sections: Word headings give the
path, paragraphs and list items are units, table rows become sentences; each sheet of a workbook is a
section of row sentences."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from botkit.errors import BotkitError
from botkit.knowledge.sections import (
    Section,
    SectionWriter,
    header_row,
    is_label_text,
    readable_heading,
    table_units,
    tidy,
)

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def docx_sections(path: Path, document_title: str) -> list[Section]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BotkitError(f"{path}: unreadable Word document ({exc})") from exc
    writer = SectionWriter(tidy(document.core_properties.title or "") or document_title)
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for unit in table_units(_docx_rows(block), header_rows=1):
                writer.unit(unit)
            continue
        style = (block.style.name if block.style is not None else "") or ""
        heading = _HEADING_STYLE.match(style)
        if heading or style.lower() == "title":
            writer.heading(int(heading.group(1)) if heading else 1, readable_heading(tidy(block.text)))
        elif _bold_only(block):
            writer.label(tidy(block.text))
        else:
            for line in block.text.split("\n"):  # a manual line break ends a unit, like <br>
                writer.unit(line)
    return writer.sections


def _bold_only(paragraph) -> bool:
    """A short paragraph in bold ("Returns") stands for a heading in documents written without styles."""
    runs = [r for r in paragraph.runs if r.text.strip()]
    return bool(runs) and all(r.bold for r in runs) and is_label_text(tidy(paragraph.text))


def _docx_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:  # a merged cell is listed once per grid column it spans
                seen.add(id(cell._tc))
                cells.append(tidy(cell.text))
        rows.append(cells)
    return rows


def xlsx_sections(path: Path, document_title: str) -> list[Section]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BotkitError(f"{path}: unreadable Excel workbook ({exc})") from exc
    sections = []
    try:
        for sheet in workbook.worksheets:
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            rows = [r for r in rows if any(r)]
            start = header_row(rows)  # rows above the header are the sheet's caption ("Prices from 1 May")
            caption = [" ".join(c for c in row if c) for row in rows[:start]]
            units = caption + table_units(rows[start:], header_rows=1 if len(rows) - start > 1 else 0)
            if units:
                path_ = (document_title,) if len(workbook.worksheets) == 1 else (document_title, sheet.title)
                sections.append(Section(path_, units))
    finally:
        workbook.close()
    return sections


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return tidy(str(value))
