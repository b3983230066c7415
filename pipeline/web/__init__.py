"""The staff review web application (FastAPI, server-rendered with Jinja2)."""

from pipeline.web.accounts import add_user
from pipeline.web.app import create_app

__all__ = ["add_user", "create_app"]
