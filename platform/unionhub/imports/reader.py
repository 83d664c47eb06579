"""Reading the tabular files the federation sends: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030)
or XLSX, with Chinese headers in any order. Rows are streamed, cells read as text."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

SNIFF_BYTES = 1 << 20


class FileRejected(ValueError):
    """The whole file is refused before anything is written (e.g. a required column is
    missing); the message says why."""


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3:
            return "utf-8"
    return "gb18030"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class Table:
    """Header → column index, plus warnings about ignored columns."""

    columns: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    @property
    def keys(self) -> tuple[str, ...]:
        """The known columns present in the file, in the order of ``iter_values`` tuples."""
        return tuple(self.columns)


def _map_header(header: Sequence[str], required: Sequence[str], optional: Sequence[str]
                ) -> Table:
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    known = set(required) | set(optional)
    cols: dict[str, int] = {}
    warnings = []
    for i, h in enumerate(cleaned):
        if h in known and h not in cols:
            cols[h] = i
        elif h:
            warnings.append(f"忽略未知列「{h}」")
    missing = [r for r in required if r not in cols]
    if missing:
        raise FileRejected(f"缺少必需的列: {', '.join(missing)}")
    return Table(cols, warnings)


def _picker(idx: tuple[int, ...]) -> Any:
    """The wanted cells of a raw row as a tuple, in C (the hot loop of a large import)."""
    get = itemgetter(*idx)
    return get if len(idx) > 1 else (lambda raw: (get(raw),))


def iter_values(path: str | Path, required: Sequence[str], optional: Sequence[str] = ()
                ) -> tuple[Table, Iterator[tuple[int, tuple[str, ...]]]]:
    """Open ``path``; return its header map and an iterator of (line number, values in
    ``table.keys`` order, not yet stripped of surrounding spaces). Line numbers are the
    file's own (the header is line 1), so error reports match what the user sees in Excel
    or a text editor."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _iter_xlsx(path, required, optional)
    return _iter_csv(path, required, optional)


def iter_rows(path: str | Path, required: Sequence[str], optional: Sequence[str] = ()
              ) -> tuple[Table, Iterator[tuple[int, dict[str, str]]]]:
    """Like :func:`iter_values`, with each row as a dict keyed by column name."""
    table, values = iter_values(path, required, optional)
    keys = table.keys
    return table, ((line, {k: v.strip() for k, v in zip(keys, row, strict=True)})
                   for line, row in values)


def _iter_csv(path: Path, required: Sequence[str], optional: Sequence[str]
              ) -> tuple[Table, Iterator[tuple[int, tuple[str, ...]]]]:
    with path.open("rb") as fh:
        enc = detect_encoding(fh.read(SNIFF_BYTES))
    fh2: IO[str] = path.open("r", encoding=enc, newline="")
    reader = csv.reader(fh2)
    try:
        header = next(reader)
    except StopIteration:
        fh2.close()
        raise FileRejected("文件是空的") from None
    except UnicodeDecodeError as exc:
        fh2.close()
        raise FileRejected("无法识别文件编码（支持 UTF-8 与 GBK/GB18030）") from exc
    try:
        table = _map_header(header, required, optional)
    except FileRejected:
        fh2.close()
        raise

    idx = tuple(table.columns.values())
    width = max(idx) + 1
    pick = _picker(idx)

    def rows() -> Iterator[tuple[int, tuple[str, ...]]]:
        with fh2:
            for line_no, raw in enumerate(reader, start=2):
                if len(raw) < width:
                    if not any(c.strip() for c in raw):
                        continue
                    raw = raw + [""] * (width - len(raw))
                yield line_no, pick(raw)

    return table, rows()


def _iter_xlsx(path: Path, required: Sequence[str], optional: Sequence[str]
               ) -> tuple[Table, Iterator[tuple[int, tuple[str, ...]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FileRejected(f"无法打开 Excel 文件: {exc.__class__.__name__}") from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header = [_cell_text(c) for c in next(it)]
    except StopIteration:
        wb.close()
        raise FileRejected("文件是空的") from None
    try:
        table = _map_header(header, required, optional)
    except FileRejected:
        wb.close()
        raise

    idx = tuple(table.columns.values())

    def rows() -> Iterator[tuple[int, tuple[str, ...]]]:
        try:
            for line_no, raw in enumerate(it, start=2):
                cells = [_cell_text(c) for c in raw]
                if not any(cells):
                    continue
                cells += [""] * (max(idx) + 1 - len(cells))
                yield line_no, tuple(cells[i] for i in idx)
        finally:
            wb.close()

    return table, rows()
