"""The staff review web application: queue, referral page, corrections and decisions.

Server-rendered (Jinja2, autoescaped; document text is never marked safe), so the core
flow works with plain forms; ``static/review.js`` only adds highlights, live checks and
keyboard shortcuts. Every page, image and JSON answer needs a signed-in user.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from models.config import Settings
from models.referral import REASON_TEXT, ReasonCode
from pipeline.store import Store, StoredReferral
from pipeline.web import accounts, evidence, review
from pipeline.web.security import SessionMiddleware, csrf_ok, load_secret

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"

HERE = Path(__file__).resolve().parent
REVIEW_CODES = [c for c in ReasonCode if c != ReasonCode.PREAUTH_REQUIRED]
REJECT_CODES = [
    ReasonCode.NO_REIMBURSABLE_DIAGNOSIS,
    ReasonCode.INVALID_CODE,
    ReasonCode.NON_BILLABLE_CODE,
    ReasonCode.MISSING_FREQUENCY,
    ReasonCode.MISSING_DURATION,
    ReasonCode.MISSING_PRESCRIBER,
    ReasonCode.UNREADABLE_DOCUMENT,
]


class SignInRequired(Exception):
    """Raised by ``signed_in`` for an anonymous request."""


class _Invalid(Exception):
    def __init__(self, message: str, values: dict) -> None:
        super().__init__(message)
        self.message, self.values = message, values


class BadCsrf(Exception):
    """A form was posted without the session's CSRF token."""


def reason_words(code: str) -> str:
    return REASON_TEXT[ReasonCode(code)] if code in ReasonCode.__members__ else code


def age_words(moment: datetime, now: datetime | None = None) -> str:
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def create_app(settings: Settings, store: Store) -> FastAPI:
    app = FastAPI(title="Referral review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = store
    data_dir = settings.data_dir.resolve()
    app.add_middleware(SessionMiddleware, secret=load_secret(data_dir))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    templates = Jinja2Templates(env=environment)
    templates.env.filters["reason"] = reason_words
    templates.env.filters["age"] = age_words
    templates.env.filters["frequency"] = review.frequency_words
    templates.env.filters["duration"] = review.duration_words

    def render(request: Request, template: str, status_code: int = 200, **context) -> Response:
        context |= {"user": request.scope["session"].get("user"),
                    "csrf": request.scope["session"]["csrf"]}  # fmt: skip
        response = templates.TemplateResponse(request, template, context, status_code=status_code)
        response.headers["cache-control"] = "no-store"
        return response

    # -- errors ----------------------------------------------------------------------------

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> Response:
        if request.url.path.startswith("/api/") or request.method != "GET":
            return JSONResponse({"error": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(BadCsrf)
    async def _bad_csrf(_request: Request, _exc: BadCsrf) -> Response:
        return PlainTextResponse("The form had expired; go back and try again.", 403)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, _exc: RequestValidationError) -> Response:
        return PlainTextResponse("Bad request", 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        return PlainTextResponse(str(exc.detail), exc.status_code)

    # -- who is asking -----------------------------------------------------------------------

    def signed_in(request: Request) -> accounts.User:
        name = request.scope["session"].get("user")
        user = accounts.find_user(store, name) if name else None
        if user is None:
            request.scope["session"].pop("user", None)
            raise SignInRequired
        request.state.user = user
        return user

    async def checked_form(request: Request) -> dict[str, str]:
        if request.method == "POST":
            form = await request.form()
            if not csrf_ok(request.scope["session"], form.get("csrf")):
                raise BadCsrf
        return {}

    staff = APIRouter(dependencies=[Depends(signed_in), Depends(checked_form)])

    # -- sign-in ---------------------------------------------------------------------------

    @app.get("/login")
    async def login_page(request: Request, next: str = "/queue") -> Response:
        return render(request, "login.html", next=_local(next), error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        session = request.scope["session"]
        if not csrf_ok(session, form.get("csrf")):
            raise BadCsrf
        name, target = str(form.get("name", "")), _local(str(form.get("next", "/queue")))
        result = accounts.sign_in(store, name, str(form.get("password", "")))
        if result.user is None:
            if result.locked_for is not None:
                wait = int(result.locked_for.total_seconds()) + 1
                error, status = f"Too many failed sign-ins. Try again in {wait} seconds.", 429
            else:
                error, status = "Wrong name or password.", 401
            return render(request, "login.html", status, next=target, error=error, name=name)
        session.clear()
        session.update(user=result.user.name, csrf=_new_token())
        return RedirectResponse(target, status_code=303)

    @staff.post("/logout")
    async def logout(request: Request) -> Response:
        request.scope["session"].clear()
        return RedirectResponse("/login", status_code=303)

    # -- lists -----------------------------------------------------------------------------

    @staff.get("/")
    async def home() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @staff.get("/queue")
    async def queue(request: Request, reason: str = "", payer: str = "") -> Response:
        items = store.review_queue(reason=reason or None, payer=payer or None)
        payers = sorted({i.payer_name for i in store.review_queue() if i.payer_name})
        return render(
            request, "queue.html", items=items, view="queue", reason=reason, payer=payer,
            payers=payers, reason_codes=REVIEW_CODES, title="Review queue",
            now=datetime.now(UTC), counts=store.counts(),
        )  # fmt: skip

    @staff.get("/referrals")
    async def by_status(request: Request, status: str = "accepted") -> Response:
        if status not in ("accepted", "rejected", "needs_review"):
            return PlainTextResponse("Unknown status", 400)
        items = store.by_status(status)
        return render(
            request, "queue.html", items=items, view=status, reason="", payer="", payers=[],
            reason_codes=[], title=status.replace("_", " ").capitalize(),
            now=datetime.now(UTC), counts=store.counts(),
        )  # fmt: skip

    @staff.get("/search")
    async def search(request: Request, q: str = "") -> Response:
        items = store.search(q[:200]) if q.strip() else []
        return render(
            request, "queue.html", items=items, view="search", reason="", payer="", payers=[],
            reason_codes=[], title="Search", q=q, now=datetime.now(UTC), counts=store.counts(),
        )  # fmt: skip

    @staff.get("/files")
    async def files(request: Request) -> Response:
        unreadable = store.review_queue(reason=ReasonCode.UNREADABLE_DOCUMENT.value)
        return render(
            request, "files.html", quarantined=store.quarantined(), unreadable=unreadable,
            now=datetime.now(UTC), counts=store.counts(), view="files",
        )  # fmt: skip

    @staff.get("/reports/latest")
    async def latest_report(request: Request) -> Response:
        """The newest daily report of rejected referrals, as the service wrote it.

        Served by day only (never a path from the request); the report is static HTML
        with its own styles, so it gets a policy that allows those and nothing else.
        """
        from pipeline.report.delivery import report_dir

        reports = sorted(report_dir(settings).glob("rejected-????-??-??.html"))
        if not reports:
            raise StarletteHTTPException(404, "No daily report has been written yet")
        return FileResponse(
            reports[-1],
            media_type="text/html",
            headers={"content-security-policy": REPORT_CSP},
        )

    @staff.post("/files/{document_id}/retry")
    async def retry(request: Request, document_id: int) -> Response:
        store.retry_quarantined(document_id, actor=request.state.user.name)
        return RedirectResponse("/files", status_code=303)

    # -- one referral --------------------------------------------------------------------

    def _stored(document_id: int) -> StoredReferral:
        stored = store.get(document_id)
        if stored is None:
            raise StarletteHTTPException(404, "No such referral")
        return stored

    def _page(request: Request, stored: StoredReferral, **extra) -> Response:
        status_code = extra.pop("status_code", 200)
        waiting = [item.id for item in store.review_queue()]
        here = waiting.index(stored.id) if stored.id in waiting else None
        later = [i for i in waiting if i > stored.id] if here is None else waiting[here + 1 :]
        earlier = waiting[:here] if here is not None else []
        found = evidence.boxes(stored.record, stored.pages)
        context = {
            "r": stored,
            "rec": stored.record,
            "boxes": found,
            "next_id": later[0] if later else None,
            "prev_id": earlier[-1] if earlier else None,
            "reject_codes": REJECT_CODES,
            "form": _form_values(stored.record),
            "errors": [],
            "view": "queue",
            "now": datetime.now(UTC),
            "counts": store.counts(),
            "words": _lines(stored),
        } | extra
        return render(request, "referral.html", status_code, **context)

    @staff.get("/referrals/{document_id}")
    async def referral(request: Request, document_id: int) -> Response:
        return _page(request, _stored(document_id))

    @staff.get("/referrals/{document_id}/boxes.css")
    async def boxes_css(document_id: int) -> Response:
        stored = _stored(document_id)
        css = "\n".join(box.css for box in evidence.boxes(stored.record, stored.pages).values())
        return Response(css, media_type="text/css", headers={"cache-control": "no-store"})

    @staff.get("/referrals/{document_id}/pages/{number}/image")
    async def page_image(document_id: int, number: int) -> Response:
        stored = _stored(document_id)
        page = next((p for p in stored.pages if p.number == number and p.image_path), None)
        if page is None:
            raise StarletteHTTPException(404, "No such page image")
        path = (data_dir / page.image_path).resolve()
        if not path.is_relative_to(data_dir) or not path.is_file():
            raise StarletteHTTPException(404, "No such page image")
        return FileResponse(path, headers={"cache-control": "private, max-age=300"})

    async def _corrected(request: Request, stored: StoredReferral) -> tuple[dict, dict]:
        """(record, form values): the corrections posted, decided again; raises on bad input."""
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in _FIELDS} | {
            "text_checked": str(form.get("text_checked", ""))
        }
        codes = [
            review.CodeEntry(str(typed), int(origin) if str(origin).isdigit() else None)
            for typed, origin in zip(form.getlist("code"), form.getlist("code_from"), strict=False)
        ]
        values["codes"] = [(c.typed, c.origin) for c in codes]
        try:
            return review.corrected_record(stored, values, codes, settings), values
        except (review.CorrectionError, ValueError) as exc:
            raise _Invalid(_message(exc), values) from exc

    @staff.post("/referrals/{document_id}/correct")
    async def correct(request: Request, document_id: int) -> Response:
        user = request.state.user
        stored = _stored(document_id)
        note = str((await request.form()).get("note", "")).strip()[:2000] or None
        try:
            record, _values = await _corrected(request, stored)
        except _Invalid as exc:
            return _page(request, stored, form=exc.values, errors=[exc.message], status_code=400)
        store.set_decision(document_id, record, actor=user.name, note=note)
        return RedirectResponse(f"/referrals/{document_id}#decision", status_code=303)

    @staff.post("/referrals/{document_id}/preview")
    async def preview(request: Request, document_id: int) -> Response:
        """The decision the corrections would get, without saving (for the page's script)."""
        stored = _stored(document_id)
        try:
            record, _values = await _corrected(request, stored)
        except _Invalid as exc:
            return JSONResponse({"ok": False, "error": exc.message})
        decision = record["decision"]
        messages = [reason["message"] for reason in decision["reasons"]]
        return JSONResponse({"ok": True, "status": decision["status"], "reasons": messages})

    @staff.post("/referrals/{document_id}/decide")
    async def decide(request: Request, document_id: int) -> Response:
        user = request.state.user
        stored = _stored(document_id)
        form = await request.form()
        action = str(form.get("action", ""))
        note = str(form.get("note", "")).strip()[:2000] or None
        written = " ".join(str(form.get("reason_text", "")).split())[:500]
        waiting = [item.id for item in store.review_queue()]
        try:
            record = review.decided_record(stored, action, str(form.get("reason", "")), written)
        except review.CorrectionError as exc:
            return _page(request, stored, errors=[str(exc)], status_code=400)
        store.set_decision(document_id, record, actor=user.name, note=note or written or None)
        later = [i for i in waiting if i != document_id and i > document_id]
        if action != "requeue" and later:
            return RedirectResponse(f"/referrals/{later[0]}", status_code=303)
        return RedirectResponse("/queue", status_code=303)

    # -- small JSON checks for the page's script -------------------------------------------

    @staff.get("/api/codes/{code}")
    async def code_api(code: str) -> Response:
        return JSONResponse(review.code_facts(code[:16], settings))

    @staff.get("/api/timing")
    async def timing_api(frequency: str = "", duration: str = "") -> Response:
        answer: dict = {}
        for key, parse, words in (
            ("frequency", review.parse_frequency, review.frequency_words),
            ("duration", review.parse_duration, review.duration_words),
        ):
            typed = (frequency if key == "frequency" else duration)[:100]
            try:
                value = parse(typed)
            except review.CorrectionError as exc:
                answer[key] = {"ok": False, "error": str(exc)}
                continue
            dumped = value.model_dump(mode="json") if value else None
            answer[key] = {"ok": True, "value": dumped, "words": words(dumped)}
        return JSONResponse(answer)

    app.include_router(staff)
    return app


_FIELDS = (
    "patient_name", "patient_dob", "prescriber_name", "prescriber_credentials",
    "prescriber_npi", "rx_date", "payer_name", "payer_kind", "claim", "frequency",
    "duration", "visits",
)  # fmt: skip


def _form_values(record: dict) -> dict:
    patient, prescriber, payer = record["patient"], record["prescriber"], record["payer"]
    return {
        "patient_name": patient.get("name") or "",
        "patient_dob": patient.get("dob") or "",
        "prescriber_name": prescriber.get("name") or "",
        "prescriber_credentials": prescriber.get("credentials") or "",
        "prescriber_npi": prescriber.get("npi") or "",
        "rx_date": record.get("rx_date") or "",
        "payer_name": payer.get("name") or "",
        "payer_kind": payer.get("kind") or "",
        "claim": payer.get("claim_number") or "",
        "frequency": (record.get("frequency") or {}).get("text") or "",
        "duration": (record.get("duration") or {}).get("text") or "",
        "visits": str(record.get("visits") or ""),
        "codes": [(d["code"], i) for i, d in enumerate(record["diagnoses"])],
        "text_checked": "",
    }


def _lines(stored: StoredReferral) -> dict[int, list[str]]:
    """Each page's words as lines of text (shown as text, escaped like everything else)."""
    pages: dict[int, list[str]] = {}
    for page in stored.pages:
        lines: dict[int, list[str]] = {}
        for word in page.words:
            lines.setdefault(word.line, []).append(word.text)
        pages[page.number] = [" ".join(words) for _, words in sorted(lines.items())]
    return pages


def _message(exc: Exception) -> str:
    if isinstance(exc, review.CorrectionError):
        return str(exc)
    return "A value was not accepted: " + str(exc).splitlines()[0][:200]


def _local(target: str) -> str:
    """Only a path on this site is a place to go after sign-in (no open redirects)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _new_token() -> str:
    return secrets.token_urlsafe(32)
