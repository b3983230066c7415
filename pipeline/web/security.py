"""Sessions, CSRF tokens and security headers for the review page.

The session is a cookie signed with a secret kept in the data folder (created on first
start, readable by the owner only): ``{"user": name, "csrf": token}``. It is HttpOnly,
SameSite=Lax and Secure whenever the request came over HTTPS. Every visitor gets a CSRF
token (the sign-in form needs one too); every POST must carry it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "referrals_session"
MAX_AGE = 10 * 3600  # one working day
SECRET_FILE = "web-secret.key"

CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def load_secret(data_dir: Path) -> str:
    """The signing secret, made on first start (owner-only file in the data folder)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


def csrf_ok(session: dict, sent: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and sent and hmac.compare_digest(str(expected), str(sent)))


class SessionMiddleware:
    """Loads the signed session into ``scope["session"]``, writes it back when changed,
    and adds the security headers (CSP first among them) to every response."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.signer = URLSafeTimedSerializer(secret, salt="referrals-session")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        session = self._load(connection.cookies.get(COOKIE))
        fresh = "csrf" not in session
        if fresh:
            session["csrf"] = secrets.token_urlsafe(32)
        scope["session"] = session
        before = dict(session)
        secure = connection.url.scheme == "https"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:  # a route may set a stricter policy of its own
                        headers[name] = value
                if secure:
                    headers["strict-transport-security"] = "max-age=31536000"
                if fresh or scope["session"] != before:
                    headers.append("set-cookie", self._cookie(scope["session"], secure))
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _load(self, raw: str | None) -> dict:
        if not raw:
            return {}
        try:
            value = self.signer.loads(raw, max_age=MAX_AGE)
        except BadSignature:
            return {}
        return dict(value) if isinstance(value, dict) else {}

    def _cookie(self, session: dict, secure: bool) -> str:
        if not session:
            return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        value = self.signer.dumps(session)
        flags = f"Path=/; Max-Age={MAX_AGE}; HttpOnly; SameSite=Lax"
        return f"{COOKIE}={value}; {flags}{'; Secure' if secure else ''}"
