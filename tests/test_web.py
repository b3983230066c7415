"""The staff review web application against a real SQLite store filled by the pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.config import PathSettings, Settings
from models.referral import Evidence
from pipeline.cli import main
from pipeline.process import Pipeline, Processed
from pipeline.read.pdf import render_page
from pipeline.store import Store
from pipeline.store.schema import UserRow
from pipeline.web import add_user, create_app
from tests.conftest import SAMPLES

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def process_samples(pipeline: Pipeline) -> dict[str, Processed]:
    return {name: pipeline.process(SAMPLES / name) for name in ("fax-order.tif", "rx-letter.pdf")}


@pytest.fixture(scope="session")
def processed(pipeline: Pipeline) -> dict[str, Processed]:
    return process_samples(pipeline)


def web_settings(settings: Settings, data_dir: Path) -> Settings:
    return settings.model_copy(
        update={"paths": PathSettings(inbox=data_dir / "in", data_dir=data_dir)}
    )


def save(store: Store, data_dir: Path, name: str, done: Processed, sha: str | None = None) -> int:
    """What the intake service does with a processed file: arrival, claim, pages, result."""
    referral, document = done.referral, done.read.document
    sha = sha or referral.source.sha256
    document_id, _ = store.record_arrival(sha, name, 1000, referral.source.media_type, f"a/{sha}")
    assert [job.id for job in store.claim_next(10)] == [document_id]
    images = dict(done.read.images)
    source = SAMPLES / name
    if referral.source.media_type == "application/pdf" and source.exists():
        for page in document.pages:
            images.setdefault(page.number, render_page(source.read_bytes(), page.number - 1,
                                                       _ocr()))  # fmt: skip
    folder = data_dir / "pages" / sha[:2] / sha
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for number, image in images.items():
        image.save(folder / f"{number}.png")
        paths[number] = str((folder / f"{number}.png").relative_to(data_dir))
    store.save_result(document_id, referral, document.pages, paths)
    return document_id


def _ocr():
    from pipeline.config import default_settings

    return default_settings().ocr


def with_wrong_code(done: Processed) -> Processed:
    """The fax as if OCR had misread its first code (S16.1XXA as S16.1X)."""
    referral = done.referral.model_copy(deep=True)
    first = referral.diagnoses[0]
    referral.diagnoses[0] = first.model_copy(
        update={
            "code": "S16.1X",
            "description": None,
            "billable": False,
            "category": None,
            "reimbursable": False,
        }  # fmt: skip
    )
    reasons = referral.decision.reasons
    from models.referral import REASON_TEXT, Reason, ReasonCode

    referral.decision.reasons = [
        Reason(code=ReasonCode.INVALID_CODE, message=REASON_TEXT[ReasonCode.INVALID_CODE]),
        *reasons,
    ]
    return Processed(referral=referral, read=done.read)


def with_script(done: Processed) -> Processed:
    """The letter as if its text had said <script>alert(1)</script> (name and a word)."""
    referral = done.referral.model_copy(deep=True)
    referral.patient.name = "<script>alert(1)</script>"
    referral.diagnoses[0].evidence = Evidence(page=1, text="<script>alert(1)</script>", bbox=None)
    read = done.read
    page = read.document.pages[0]
    word = page.words[0].model_copy(update={"text": "<script>alert(1)</script>"})
    page = page.model_copy(update={"words": [word, *page.words[1:]]})
    document = read.document.model_copy(update={"pages": [page]})
    return Processed(referral=referral, read=type(read)(document=document, images={}))


@pytest.fixture
def site(tmp_path: Path, settings: Settings, processed: dict[str, Processed]):
    data_dir = tmp_path / "data"
    config = web_settings(settings, data_dir)
    store = Store.open(config.database_url())
    ids = {
        "fax": save(store, data_dir, "fax-order.tif", processed["fax-order.tif"]),
        "letter": save(store, data_dir, "rx-letter.pdf", processed["rx-letter.pdf"]),
    }
    add_user(store, "dana", "reviewer", PASSWORD)
    app = create_app(config, store)
    with TestClient(app, follow_redirects=False) as client:
        client.review_app = app
        yield client, store, ids, data_dir
    store.close()


def sign_in(client: TestClient, name: str = "dana", password: str = PASSWORD):
    token = CSRF.search(client.get("/login").text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": token})


def token_of(client: TestClient, path: str) -> str:
    return CSRF.search(client.get(path).text).group(1)


def api_routes(routes):
    """Every API route, also inside included routers (FastAPI nests them lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and inner is not route:
            yield from api_routes(inner.routes)


def test_every_route_refuses_anonymous_requests(site):
    client, _store, ids, _ = site
    routes = [r for r in api_routes(client.review_app.routes) if r.path != "/login"]
    assert len(routes) >= 12
    for route in routes:
        path = route.path.format(document_id=ids["fax"], number=1, code="M54.50")
        for method in route.methods:
            response = client.request(method, path)
            assert response.status_code in (303, 401, 403), (method, path)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login")
    assert client.get(f"/referrals/{ids['fax']}/pages/1/image").status_code == 303


def test_sign_in_and_queue_in_plain_words(site):
    client, _store, ids, _ = site
    assert sign_in(client).status_code == 303
    page = client.get("/queue")
    assert page.status_code == 200
    assert "Tomas Reyes" in page.text
    assert "No treatment duration (how many weeks or months)" in page.text
    assert "Dana Whitfield" not in page.text  # accepted, so not waiting
    assert "Tomas Reyes" in client.get("/queue?reason=MISSING_DURATION").text
    assert "Tomas Reyes" not in client.get("/queue?reason=INVALID_CODE").text
    assert "Tomas Reyes" in client.get("/queue?payer=L%26I").text
    assert "Tomas Reyes" not in client.get("/queue?payer=Premera").text
    assert "Dana Whitfield" in client.get("/referrals?status=accepted").text
    assert "Unreadable documents" in client.get("/files").text
    for query in ("reyes", "1990-07-22", "s161xxa"):
        assert f"/referrals/{ids['fax']}" in client.get(f"/search?q={query}").text


def test_csp_and_cookie_flags(site):
    client, *_ = site
    login = client.get("/login")
    assert "default-src 'self'" in login.headers["content-security-policy"]
    assert "script-src 'self'" in login.headers["content-security-policy"]
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "content-security-policy" in client.get("/static/review.js").headers
    assert "<script>" not in re.sub(
        r'<script src="/static/review.js" defer></script>', "", login.text
    )
    with TestClient(client.review_app, base_url="https://review.example") as secure:
        assert "Secure" in secure.get("/login").headers["set-cookie"]


def test_form_without_csrf_is_refused(site):
    client, store, ids, _ = site
    sign_in(client)
    response = client.post(f"/referrals/{ids['fax']}/decide", data={"action": "accept"})
    assert response.status_code == 403
    wrong = client.post(
        f"/referrals/{ids['fax']}/decide", data={"action": "accept", "csrf": "forged"}
    )
    assert wrong.status_code == 403
    assert store.get(ids["fax"]).status == "needs_review"
    assert client.post("/login", data={"name": "dana", "password": PASSWORD}).status_code == 403


def test_document_text_is_escaped(site, processed):
    client, store, _ids, data_dir = site
    document_id = save(
        store, data_dir, "evil.pdf", with_script(processed["rx-letter.pdf"]), "e" * 64
    )
    sign_in(client)
    page = client.get(f"/referrals/{document_id}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in client.get("/search?q=script").text


def test_page_images_only_by_document_id(site, processed):
    client, store, ids, data_dir = site
    sign_in(client)
    own = client.get(f"/referrals/{ids['fax']}/pages/1/image")
    assert own.status_code == 200 and own.headers["content-type"] == "image/png"
    assert client.get(f"/referrals/{ids['fax']}/pages/2/image").status_code == 404
    assert client.get("/referrals/999/pages/1/image").status_code == 404
    for bad in ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "1%2F..%2F..%2Fpasswd"):
        status = client.get(f"/referrals/{ids['fax']}/pages/{bad}/image").status_code
        assert status in (400, 404), bad
    # A stored path that leads out of the data folder is not followed either.
    (data_dir.parent / "secret.png").write_bytes(b"not for you")
    sha = "d" * 64
    done = processed["fax-order.tif"]
    doc, _ = store.record_arrival(sha, "x.tif", 1, "image/tiff", "a/x")
    store.claim_next(1)
    store.save_result(doc, done.referral, done.read.document.pages, {1: "../secret.png"})
    assert client.get(f"/referrals/{doc}/pages/1/image").status_code == 404


def test_wrong_passwords_lock_the_account(site):
    client, store, *_ = site
    for _ in range(5):
        assert sign_in(client, password="wrong password").status_code in (401, 429)
    refused = sign_in(client)  # even the right password, while locked
    assert refused.status_code == 429
    assert "Try again in" in refused.text
    assert client.get("/queue").status_code == 303
    with Session(store.engine) as session:
        row = session.scalars(select(UserRow).where(UserRow.name == "dana")).one()
        assert row.failed_logins == 5 and row.locked_until is not None
    assert sign_in(client, "nobody", "whatever1").status_code == 401


def test_correcting_the_duration_accepts_and_is_audited(site):
    client, store, ids, _ = site
    sign_in(client)
    path = f"/referrals/{ids['fax']}"
    page = client.get(path)
    assert "No treatment duration" in page.text and "S16.1XXA" in page.text
    record = store.get(ids["fax"]).record
    form = {
        "csrf": CSRF.search(page.text).group(1),
        "code": [d["code"] for d in record["diagnoses"]],
        "code_from": [str(i) for i in range(len(record["diagnoses"]))],
        "patient_name": record["patient"]["name"],
        "patient_dob": record["patient"]["dob"],
        "prescriber_name": record["prescriber"]["name"],
        "prescriber_credentials": record["prescriber"]["credentials"],
        "prescriber_npi": record["prescriber"]["npi"],
        "rx_date": record["rx_date"],
        "payer_name": record["payer"]["name"],
        "payer_kind": record["payer"]["kind"],
        "claim": record["payer"]["claim_number"],
        "frequency": record["frequency"]["text"],
        "duration": "x 6 wks",
        "note": "duration phoned in by the clinic",
    }
    unsure = "LOW_CONFIDENCE" in stored_codes(record)
    preview = client.post(f"{path}/preview", data=form).json()
    if unsure:  # the pipeline doubted some text: it stays in review until staff check it
        assert preview["status"] == "needs_review"
        assert preview["reasons"] == ["Part of the document was hard to read; please check it"]
    else:
        assert preview["status"] == "accepted"
    form["text_checked"] = "1"
    preview = client.post(f"{path}/preview", data=form).json()
    assert preview["ok"] and preview["status"] == "accepted"
    assert store.get(ids["fax"]).status == "needs_review"  # a preview saves nothing
    response = client.post(f"{path}/correct", data=form)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)', response.text)
    stored = store.get(ids["fax"])
    assert stored.status == "accepted"
    assert stored.record["duration"] == {
        "value": 6.0, "value_max": None, "unit": "wk", "text": "x 6 wks"
    }  # fmt: skip
    assert stored.record["diagnoses"][0]["evidence"]["bbox"]  # still where it was written
    last = stored.history[-1]
    assert (last.actor, last.action) == ("dana", "corrected")
    assert last.detail["previous_status"] == "needs_review" and "duration" in last.detail["changed"]
    shown = client.get(path).text
    assert "6 weeks" in shown and "dana" in shown and "duration phoned in" in shown
    # A duration that cannot be read is refused with a message, nothing saved.
    bad = client.post(
        f"{path}/correct", data=form | {"duration": "soon", "csrf": token_of(client, path)}
    )
    assert bad.status_code == 400 and "cannot read" in bad.text


def stored_codes(record: dict) -> list[str]:
    return [reason["code"] for reason in record["decision"]["reasons"]]


def test_reject_with_reason_and_send_back(site):
    client, store, ids, _ = site
    sign_in(client)
    path = f"/referrals/{ids['fax']}"
    token = token_of(client, path)
    refused = client.post(f"{path}/decide", data={"csrf": token, "action": "reject"})
    assert refused.status_code == 400
    done = client.post(
        f"{path}/decide",
        data={"csrf": token, "action": "reject", "reason": "", "reason_text": "Patient moved away"},
    )
    assert done.status_code == 303, done.text[-3000:]
    stored = store.get(ids["fax"])
    assert stored.status == "rejected"
    assert stored.record["decision"]["reasons"][0]["message"] == "Patient moved away"
    assert "Tomas Reyes" in client.get("/referrals?status=rejected").text
    client.post(f"{path}/decide", data={"csrf": token, "action": "requeue", "note": "check"})
    assert store.get(ids["fax"]).status == "needs_review"
    assert ids["fax"] in [item.id for item in store.review_queue()]
    assert [e.actor for e in store.get(ids["fax"]).history][-2:] == ["dana", "dana"]


def test_highlight_boxes_are_page_percentages(site):
    client, store, ids, _ = site
    sign_in(client)
    stored = store.get(ids["fax"])
    page = client.get(f"/referrals/{ids['fax']}").text
    assert 'id="box-dx-0"' in page and 'href="#box-dx-0"' in page
    css = client.get(f"/referrals/{ids['fax']}/boxes.css")
    assert css.headers["content-type"].startswith("text/css")
    x0 = stored.record["diagnoses"][0]["evidence"]["bbox"][0]
    width = stored.pages[0].width
    left = float(re.search(r"#box-dx-0\{left:([\d.]+)%", css.text).group(1))
    assert abs(left - (x0 - 4) / width * 100) < 0.01
    assert "#box-patient-name{" in css.text  # found again in the page's words


def test_code_and_timing_checks(site):
    client, *_ = site
    sign_in(client)
    facts = client.get("/api/codes/s39012a").json()
    assert facts["code"] == "S39.012A" and facts["billable"] and facts["reimbursable"]
    assert facts["category"] == "strain" and facts["description"].startswith("Strain")
    assert client.get("/api/codes/S13.4").json()["billable"] is False
    assert client.get("/api/codes/F41.1").json()["reimbursable"] is False
    assert client.get("/api/codes/Q99.99X").json()["exists"] is False
    timing = client.get("/api/timing", params={"frequency": "2x/wk", "duration": "x 6 wks"}).json()
    assert timing["frequency"]["value"]["count"] == 2 and timing["frequency"]["words"] == (
        "2 sessions every week"
    )
    assert timing["duration"]["value"]["value"] == 6 and timing["duration"]["words"] == "6 weeks"
    assert client.get("/api/timing", params={"duration": "later"}).json()["duration"]["ok"] is False


def test_users_command_reads_password_from_stdin(tmp_path: Path, settings):
    config = tmp_path / "config.toml"
    config.write_text('[paths]\ndata_dir = "data"\n')
    runner = CliRunner()
    added = runner.invoke(
        main, ["--config", str(config), "users", "add", "erin", "--role", "admin"],
        input="a long enough secret\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    again = runner.invoke(
        main, ["--config", str(config), "users", "add", "erin"], input="another secret\n"
    )
    assert again.exit_code != 0 and "already exists" in again.output
    listed = runner.invoke(main, ["--config", str(config), "users", "list"])
    assert "erin\tadmin" in listed.output
    config_settings = web_settings(settings, tmp_path / "data")
    with Store.open(config_settings.database_url()) as store:
        app = create_app(config_settings, store)
        with TestClient(app, follow_redirects=False) as client:
            assert sign_in(client, "erin", "a long enough secret").status_code == 303
            assert client.get("/queue").status_code == 200
    assert (tmp_path / "data" / "web-secret.key").stat().st_mode & 0o077 == 0


def test_daily_report_is_linked_from_the_review_page(site):
    client, _store, _ids, data_dir = site
    sign_in(client)
    assert 'href="/reports/latest"' in client.get("/queue").text
    assert client.get("/reports/latest").status_code == 404  # none written yet
    folder = data_dir / "reports"  # the report's default folder under the data folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rejected-2026-11-25.html").write_text("<p>older</p>")
    (folder / "rejected-2026-11-26.html").write_text("<style>p{}</style><p>newest</p>")
    response = client.get("/reports/latest")
    assert response.status_code == 200 and "newest" in response.text
    assert "style-src 'unsafe-inline'" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]
