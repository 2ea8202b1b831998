"""Parser for CSV: one line per row, ``header: value`` pairs joined by ``; ``."""

from __future__ import annotations

import csv
import io

from aibox.errors import EmptyDocumentError, UnreadableFileError
from aibox.pipeline.encoding import decode_bytes
from aibox.pipeline.types import Document

# csv.Sniffer's regular expressions are slow on long samples; the dialect shows early.
_SNIFF_CHARS = 16_384
_DELIMITERS = ",;\t|"


def parse_csv(data: bytes, file_type: str) -> Document:
    """Render each row of the CSV in ``data`` as ``field: value; field: value``."""
    text, encoding = decode_bytes(data)
    if not text.strip():
        raise EmptyDocumentError("file contains no text")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    lines: list[str] = []
    header: list[str] | None = None
    try:
        for row in reader:
            if header is None:
                header = [" ".join(name.split()) for name in row]
                continue
            line = "; ".join(
                f"{_field_name(header, column)}: {' '.join(value.split())}"
                for column, value in enumerate(row)
                if value.strip()
            )
            if line:
                lines.append(line)
    except csv.Error as exc:
        raise UnreadableFileError(f"CSV is not valid: {exc} (line {reader.line_num})") from None
    if not lines:
        raise EmptyDocumentError("CSV has a header row but no data rows")
    return Document(text="\n".join(lines), file_type=file_type, encoding=encoding)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The dialect csv.Sniffer finds in the first lines, else plain comma-separated."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return csv.excel


def _field_name(header: list[str], column: int) -> str:
    """The header of ``column``, or "column N" where the header is missing or blank."""
    if column < len(header) and header[column]:
        return header[column]
    return f"column {column + 1}"
