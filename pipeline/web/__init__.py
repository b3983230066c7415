"""The staff review web application (FastAPI, server-rendered with Jinja2).

``create_app`` is imported on first use, so that the CLI (which registers the ``users``
and ``serve`` commands from here) does not load FastAPI for every other command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.web.accounts import add_user

if TYPE_CHECKING:
    from pipeline.web.app import create_app

__all__ = ["add_user", "create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from pipeline.web.app import create_app

        return create_app
    raise AttributeError(name)
