"""Logging set-up: plain or one JSON object per line, to standard error.

Records carry document ids and hashes only; callers never pass names, dates of birth
or document text (protected health information) into a log record.
"""

from __future__ import annotations

import json
import logging
import sys

from models.config import LogSettings

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, default=str)


class Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        return f"{line} {extras}".rstrip()


def configure(settings: LogSettings, json_lines: bool | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if (json_lines or settings.json_lines) else Plain())
    root = logging.getLogger("referrals")
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    root.propagate = False
