"""Reading exports (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030, and Parquet) and writing files.

Reading keeps every CSV cell as text, so that `0012` stays `0012` and `12.5` reaches the
validator as written; the validator decides what a cell means. Each row keeps the line
number the user sees in the file, so every later message can point at it.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable
import difflib
import hashlib
import io as _io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from .errors import InputFileError, Location, MappingError, OutputError
from .schema import CONTRACT_COLUMNS, REQUIRED_COLUMNS

CSV_SUFFIXES = {".csv", ".txt"}
_VISIBLE = re.compile(rb"\S")
PARQUET_SUFFIXES = {".parquet", ".pq"}
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030",
             "gb18030": "gb18030"}


@dataclass(frozen=True, eq=False)
class ColumnMapping:
    """Source header -> contract column, for exports whose headers differ (统计月份 -> period)."""

    columns: dict[str, str]
    source: str = "<mapping>"

    def rename(self, header: list[str]) -> list[str]:
        return [self.columns.get(name.strip(), name.strip()) for name in header]


@dataclass(frozen=True, eq=False)
class Export:
    """A file as read: raw columns plus what is needed to point back into it."""

    path: str
    format: str  # "csv" or "parquet"
    table: pa.Table
    lines: np.ndarray  # for each row: CSV line number (header = 1) or Parquet row index
    encoding: str | None = None
    sha256: str = ""
    blank_lines: int = 0  # empty CSV lines, not data, left out and counted here
    notes: tuple[str, ...] = field(default=())

    @property
    def rows(self) -> int:
        return self.table.num_rows

    @property
    def line_label(self) -> str:
        return "line" if self.format == "csv" else "row index"

    @property
    def extra_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.table.column_names if c not in CONTRACT_COLUMNS)


def load_mapping(path: str | Path) -> ColumnMapping:
    """A YAML file with `columns: {source header: contract column}`."""
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError("column-mapping file not found", where=Location(path=source)) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read the column mapping ({exc})", where=Location(path=source)) from None
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict) or not columns:
        raise MappingError("expected a mapping 'columns: {source header: contract column}'",
                           where=Location(path=source))
    for src, dst in columns.items():
        if dst not in CONTRACT_COLUMNS:
            close = difflib.get_close_matches(str(dst), CONTRACT_COLUMNS, n=1)
            raise MappingError(
                f"{src!r} maps to {dst!r}, which is not a column of the data contract",
                where=Location(path=source, value=dst),
                hint=f"Did you mean {close[0]!r}?" if close else "See `kpi schema` for the contract's columns",
            )
    targets = list(columns.values())
    dupes = sorted({d for d in targets if targets.count(d) > 1})
    if dupes:
        raise MappingError(f"several source columns map to {', '.join(dupes)}", where=Location(path=source))
    return ColumnMapping({str(k).strip(): str(v) for k, v in columns.items()}, source)


def read_export(path: str | Path, *, encoding: str | None = None, mapping: ColumnMapping | None = None) -> Export:
    """Read a CSV or Parquet export, choosing by content first and suffix second."""
    p = Path(path)
    where = Location(path=str(path))
    if not p.exists():
        raise InputFileError("file not found", where=where, hint="Check the path and the current folder")
    if p.is_dir():
        raise InputFileError("this is a folder, not a file", where=where, hint="Give a .csv or .parquet export")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read the file ({exc.strerror})", where=where) from None
    if not data.strip():
        raise InputFileError("the file is empty", where=where,
                             hint="Export again: a branch-month export has a header and one row per branch per month")
    digest = hashlib.sha256(data).hexdigest()
    suffix = p.suffix.lower()
    if data[:4] == b"PAR1" or suffix in PARQUET_SUFFIXES:
        export = _read_parquet(data, str(path), digest, mapping)
    elif suffix in CSV_SUFFIXES:
        export = _read_csv(data, str(path), digest, encoding, mapping)
    else:
        kind = _guess_kind(data)
        raise InputFileError(
            f"not a CSV or Parquet file{kind}", where=where,
            hint="Export the data as .csv (UTF-8 or GBK) or .parquet; CSV files must end in .csv or .txt",
        )
    _check_columns(export)
    return export


def _guess_kind(data: bytes) -> str:
    if data[:2] == b"PK":
        return " (it looks like an Excel workbook or a zip archive)"
    if data[:1] in (b"{", b"["):
        return " (it looks like JSON)"
    return ""


def _read_parquet(data: bytes, path: str, digest: str, mapping: ColumnMapping | None) -> Export:
    where = Location(path=path)
    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        truncated = data[:4] == b"PAR1"
        raise InputFileError(
            "the Parquet file is truncated (its footer is missing)" if truncated else "not a valid Parquet file",
            where=where, hint="Export it again; a file cut short in copying cannot be read",
        )
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputFileError(f"the Parquet file is corrupt ({str(exc).splitlines()[0]})", where=where,
                             hint="Export it again; a file cut short in copying cannot be read") from None
    if mapping is not None:
        table = table.rename_columns(mapping.rename(table.column_names))
    _no_duplicate_columns(table.column_names, path)
    lines = np.arange(table.num_rows, dtype=np.int64)
    return Export(path, "parquet", table, lines, None, digest)


def _is_utf8(data: bytes) -> bool:
    """Arrow's UTF-8 check: the whole file at memory speed, without making a Python string of it."""
    buffer = pa.py_buffer(data)
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buffer]).cast(pa.large_string())
        return True
    except pa.ArrowInvalid:
        return False


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf") or _is_utf8(data):
        return "utf-8"
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "unknown"


def _read_csv(data: bytes, path: str, digest: str, encoding: str | None, mapping: ColumnMapping | None) -> Export:
    where = Location(path=path)
    if b"\x00" in data[:4096]:
        raise InputFileError("not a CSV or Parquet file (it holds binary data)", where=where,
                             hint="Export the data as .csv or .parquet")
    if encoding is None:
        codec = detect_encoding(data)
    else:
        codec = ENCODINGS.get(encoding.lower().replace("_", "-"), encoding)
        try:
            codecs.lookup(codec)
        except LookupError:
            raise InputFileError(f"unknown encoding {encoding!r}", where=where,
                                 hint="Use utf-8, gbk or gb18030, or leave --encoding out to detect it") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        if codec != "utf-8" or encoding is not None:  # detection has already checked UTF-8
            data = data.decode(codec).encode("utf-8")  # Arrow reads UTF-8
    except (UnicodeDecodeError, LookupError) as exc:
        stop = exc.start if isinstance(exc, UnicodeDecodeError) else None
        if codec == "unknown":  # neither UTF-8 nor GB18030 reads it: point at the furthest either got
            stop = max(_decodes_up_to(data, "utf-8"), _decodes_up_to(data, "gb18030"))
        line = data[:stop].count(b"\n") + 1 if stop is not None else None
        raise InputFileError(
            f"cannot decode the file as {encoding or 'UTF-8 or GBK/GB18030'}", where=Location(path=path, line=line),
            hint="Give the encoding with --encoding (utf-8, gbk, gb18030), or export the file again as UTF-8",
        ) from None
    body_start = data.index(b"\n") + 1 if b"\n" in data else len(data)
    header = next(csv.reader([data[:body_start].decode("utf-8")]), [])
    if mapping is not None:
        header = mapping.rename(header)
    else:
        header = [h.strip() for h in header]
    _no_duplicate_columns(header, path)
    if not _VISIBLE.search(data, body_start):
        raise InputFileError("the file has a header but no rows", where=where,
                             hint="Export again with the months and branches you want evaluated")
    body = pa.py_buffer(data)[body_start:]  # no copy
    quoted = data.find(b'"', body_start) >= 0
    read_options = pacsv.ReadOptions(column_names=header, block_size=1 << 24)
    parse_options = pacsv.ParseOptions(ignore_empty_lines=False, newlines_in_values=quoted)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(pa.BufferReader(body), read_options, parse_options, convert_options)
    except pa.ArrowInvalid as exc:
        line, fields = _bad_field_count(body, len(header))
        if line is None:
            raise InputFileError(f"cannot parse the CSV ({exc})", where=where) from None
        raise InputFileError(
            f"the row has {fields} fields but the header has {len(header)}",
            where=Location(path=path, line=line + 1),
            hint="Check for a missing or extra comma, or a quoted value with a line break in it",
        ) from None
    lines = _line_numbers(table, quoted=quoted)
    table, lines, blank = _drop_blank_rows(table, lines)
    if table.num_rows == 0:
        raise InputFileError("the file has a header but no rows", where=where,
                             hint="Export again with the months and branches you want evaluated")
    notes = (f"{blank} empty line(s) in the file were not rows and were left out",) if blank else ()
    return Export(path, "csv", table, lines, "gb18030" if codec == "gb18030" else "utf-8", digest, blank, notes)


def _decodes_up_to(data: bytes, codec: str) -> int:
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)


def _line_numbers(table: pa.Table, *, quoted: bool) -> np.ndarray:
    """The line each row starts on (header = 1): one line per row, plus the line breaks inside quoted values."""
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    if not quoted or table.num_rows == 0:
        return lines
    breaks = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        breaks += np.asarray(pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy(zero_copy_only=False))
    lines[1:] += np.cumsum(breaks)[:-1]
    return lines


def _bad_field_count(body: bytes, expected: int) -> tuple[int | None, int]:
    """Find the first row whose field count differs from the header's (error path only)."""
    found: list[tuple[int, int]] = []

    def handler(row):
        found.append((row.number, row.actual_columns))
        return "error"

    try:
        pacsv.read_csv(_io.BytesIO(body), pacsv.ReadOptions(column_names=[f"c{i}" for i in range(expected)],
                                                            use_threads=False),
                       pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=handler),
                       pacsv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(expected)}))
    except pa.ArrowInvalid:
        pass
    return found[0] if found else (None, 0)


def _drop_blank_rows(table: pa.Table, lines: np.ndarray) -> tuple[pa.Table, np.ndarray, int]:
    if table.num_columns == 0:
        return table, lines, 0
    blank = np.ones(table.num_rows, dtype=bool)
    for column in table.columns:
        blank &= column.is_null().to_numpy(zero_copy_only=False)
    count = int(blank.sum())
    if count:
        keep = ~blank
        table = table.filter(pa.array(keep))
        lines = lines[keep]
    return table, lines, count


def _no_duplicate_columns(names: list[str], path: str) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError(f"the header names {', '.join(map(repr, dupes))} more than once",
                             where=Location(path=path), hint="Each column may appear once")


def _check_columns(export: Export) -> None:
    present = export.table.column_names
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if not missing:
        return
    if not set(present) & set(CONTRACT_COLUMNS):
        shown = ", ".join(present[:4]) + ("…" if len(present) > 4 else "")
        raise InputFileError(
            f"none of the data contract's columns is in the header (it has {shown})",
            where=Location(path=export.path),
            hint="Map the export's own headers to the contract with --mapping FILE "
                 "(mappings/chinese_headers.yaml is one for Chinese headers), or see `kpi schema`",
        )
    first = missing[0]
    unmatched = [c for c in present if c not in CONTRACT_COLUMNS]
    close = difflib.get_close_matches(first, unmatched, n=1, cutoff=0.6)
    hint = (f"The file has {close[0]!r}: rename it to {first!r}, or map it with --mapping" if close
            else "Add the column (its cells may be blank), or map the export's own header with --mapping")
    others = f" (and {len(missing) - 1} more: {', '.join(missing[1:4])}{'…' if len(missing) > 4 else ''})" \
        if len(missing) > 1 else ""
    raise InputFileError(f"required column {first!r} is missing{others}", where=Location(path=export.path),
                         hint=hint)


def write_atomic(path: str | Path, content: bytes | str | Iterable[bytes | str]) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file.

    `content` may be an iterable of pieces, so a large report streams to disk."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError("the folder does not exist", where=Location(path=str(directory)),
                          hint="Create it first, or write the report somewhere else")
    pieces = [content] if isinstance(content, (str, bytes)) else content
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write in this folder ({exc.strerror})", where=Location(path=str(target))) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would: reports are shared with others
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write the file ({exc.strerror})", where=Location(path=str(target))) from None
        raise


def write_table_atomic(path: str | Path, table: pa.Table) -> None:
    """A table to CSV or Parquet by the path's suffix, atomically."""
    suffix = Path(path).suffix.lower()
    sink = pa.BufferOutputStream()
    if suffix in PARQUET_SUFFIXES:
        pq.write_table(table, sink)
    elif suffix in CSV_SUFFIXES:
        pacsv.write_csv(table, sink)
    else:
        raise OutputError("the file must end in .csv or .parquet", where=Location(path=str(path)))
    write_atomic(path, sink.getvalue().to_pybytes())
