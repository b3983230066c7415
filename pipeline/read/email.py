"""E-mail referrals: the body is page 1 where it has text, then each attachment's pages.

Parsing is the standard library's (RFC 5322 and MIME); attachments are typed by their
bytes, like every other input, not by the declared content type or file name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from PIL import Image

from models.document import DocumentProblem, PageText, Word
from pipeline.read.errors import UnreadableDocument
from pipeline.read.sniff import EMAIL, media_type

AttachmentReader = Callable[[bytes, str, int], Iterator[tuple[PageText, Image.Image | None]]]


def parse_message(data: bytes) -> EmailMessage:
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except Exception as exc:  # the parser is lenient; this guards its rare hard failures
        raise UnreadableDocument(
            DocumentProblem.CORRUPT, f"e-mail cannot be parsed: {exc}"
        ) from exc
    if not isinstance(message, EmailMessage):
        raise UnreadableDocument(DocumentProblem.CORRUPT, "not an e-mail message")
    return message


def sent_date(message: EmailMessage) -> date | None:
    """The date the e-mail was sent, in the sender's own time zone as the header states it."""
    header = message.get("Date")
    if not header:
        return None
    try:
        return parsedate_to_datetime(str(header)).date()
    except (TypeError, ValueError, IndexError):
        return None


def read_email(
    message: EmailMessage, read_attachment: AttachmentReader
) -> Iterator[tuple[PageText, Image.Image | None]]:
    """Body page (method ``text``, no boxes), then attachment pages numbered on from it."""
    number = 1
    body = _body_text(message)
    if body and sum(ch.isalnum() for ch in body) > 0:
        yield text_page(body, number), None
        number += 1
    for part in message.iter_attachments():
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes) or not content:
            continue
        kind = media_type(content[:2048])
        if kind is None or kind == EMAIL:
            continue
        for page, image in read_attachment(content, kind, number):
            yield page, image
            number = page.number + 1


def text_page(text: str, number: int) -> PageText:
    """Plain text as a page of words without positions, one line per text line."""
    words = [
        Word(text=token, line=line)
        for line, row in enumerate(text.splitlines())
        for token in row.split()
    ]
    return PageText(number=number, method="text", words=words)


def _body_text(message: EmailMessage) -> str | None:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):
        raw = part.get_payload(decode=True) or b""
        content = raw.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        return _html_text(content)
    return content


class _TextOfHtml(HTMLParser):
    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "td"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    return "".join(parser.parts)
