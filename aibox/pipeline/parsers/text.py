"""Parser for plain-text formats (txt, md): decode the bytes, keep the text as is."""

from __future__ import annotations

from aibox.errors import EmptyDocumentError, UnsupportedFileTypeError
from aibox.pipeline.encoding import decode_bytes
from aibox.pipeline.parsers.sniff import sniff_binary
from aibox.pipeline.types import Document


def parse_text(data: bytes, file_type: str) -> Document:
    """Decode ``data`` declared as ``file_type`` into a Document."""
    magic = sniff_binary(data)
    if magic is not None:
        raise UnsupportedFileTypeError(
            f"file declared as {file_type} is actually {magic.description}; "
            f"unsupported file type: {magic.file_type}"
        )
    text, encoding = decode_bytes(data)
    if not text.strip():
        raise EmptyDocumentError("file contains no text")
    return Document(text=text, file_type=file_type, encoding=encoding)
