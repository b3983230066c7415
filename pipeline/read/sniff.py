"""Deciding a file's type from its content, never its name.

Fax services name files arbitrarily (``.dat``, no extension, a PDF called ``.tif``),
so the magic bytes decide.
"""

from __future__ import annotations

import re

PDF = "application/pdf"
TIFF = "image/tiff"
PNG = "image/png"
JPEG = "image/jpeg"
EMAIL = "message/rfc822"

# "Name: value", or a folded header whose value starts on the next, indented line.
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:(?:[ \t]|\r?\n[ \t])", re.MULTILINE)
_MAIL_HEADERS = (b"from:", b"to:", b"subject:", b"date:", b"mime-version:", b"received:")


def media_type(head: bytes) -> str | None:
    """The media type of a file from its first bytes, or None when it is none we read."""
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if b"%PDF-" in head[:1024]:
        return PDF
    if _looks_like_email(head):
        return EMAIL
    return None


def _looks_like_email(head: bytes) -> bool:
    """RFC 5322: starts with header lines, at least two of them ones every e-mail has."""
    text = head.lstrip()
    if not _HEADER_LINE.match(text):
        return False
    header_block = text.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0].lower()
    found = sum(1 for name in _MAIL_HEADERS if re.search(rb"(?m)^" + name, header_block))
    return found >= 2
