"""Typed failures of the read stage; each becomes an UNREADABLE_DOCUMENT record, never a crash."""

from __future__ import annotations

from models.document import DocumentProblem


class UnreadableDocument(Exception):
    """The whole input cannot be read; ``problem`` says why in a fixed vocabulary."""

    def __init__(self, problem: DocumentProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
