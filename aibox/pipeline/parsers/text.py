"""Parser for plain text: decode the bytes, keep the text as is."""

from __future__ import annotations

from aibox.errors import EmptyDocumentError
from aibox.pipeline.encoding import decode_bytes
from aibox.pipeline.types import Document


def parse_text(data: bytes, file_type: str) -> Document:
    """Decode ``data`` into a Document of type ``file_type``."""
    text, encoding = decode_bytes(data)
    if not text.strip():
        raise EmptyDocumentError("file contains no text")
    return Document(text=text, file_type=file_type, encoding=encoding)
