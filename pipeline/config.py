"""Loading ``config.toml`` into :class:`models.config.Settings`, once, at the edge."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from models.config import Settings


class ConfigError(Exception):
    """The configuration file is missing or invalid; the message names the bad key."""


def load_settings(path: Path) -> Settings:
    """Read and validate the file; relative paths in it are taken from its own folder."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    raw["base_dir"] = path.resolve().parent
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc


def default_settings() -> Settings:
    """Settings for running without a file (tests, the benchmark): the project's config."""
    project_config = Path(__file__).resolve().parent.parent / "config.toml"
    if project_config.exists():
        return load_settings(project_config)
    return Settings()
