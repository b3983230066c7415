"""Shared fixtures: the project's settings, one pipeline per session, the shared samples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from models.config import Settings
from pipeline.config import default_settings
from pipeline.process import Pipeline

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
SAMPLES = SHARED / "samples"
SCHEMA = json.loads((SHARED / "spec" / "referral.schema.json").read_text())
# the browser tests: Debian's chromium, headless, quiet, and where screenshots go
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT / "docs" / "screenshots"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return default_settings()


@pytest.fixture(scope="session")
def pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings)


def assert_valid_record(record: dict) -> None:
    """Every record the project prints must satisfy the shared JSON Schema."""
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(record), key=str)
    assert not errors, [f"{e.message} at {list(e.path)}" for e in errors[:5]]
