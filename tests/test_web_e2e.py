"""The review web application in a real browser: Debian's chromium driven by Playwright.

The app is served by uvicorn on 127.0.0.1 (a free port, in a thread) over a store the
pipeline filled from the shared samples. Playwright never downloads a browser here: it
starts /usr/bin/chromium (Debian package ``chromium``).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from models.config import Settings
from pipeline.process import Pipeline, Processed
from pipeline.store import Store
from pipeline.web import add_user, create_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.test_web import PASSWORD, process_samples, save, web_settings, with_wrong_code

if not CHROMIUM.exists():
    message = "Debian chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def renamed(done: Processed, name: str) -> Processed:
    referral = done.referral.model_copy(deep=True)
    referral.patient.name = name
    return Processed(referral=referral, read=done.read)


@pytest.fixture(scope="session")
def processed(pipeline: Pipeline) -> dict[str, Processed]:
    return process_samples(pipeline)


@pytest.fixture
def served(tmp_path: Path, settings: Settings, processed: dict[str, Processed]):
    data_dir = tmp_path / "data"
    config = web_settings(settings, data_dir)
    store = Store.open(config.database_url())
    fax = processed["fax-order.tif"]
    ids = {
        "fax": save(store, data_dir, "fax-order.tif", fax),
        "letter": save(store, data_dir, "rx-letter.pdf", processed["rx-letter.pdf"]),
        "misread": save(
            store, data_dir, "fax-misread.tif", without_frequency(with_wrong_code(fax)), "c" * 64
        ),
        "other": save(store, data_dir, "fax-other.tif", renamed(fax, "Ana Other"), "b" * 64),
    }
    add_user(store, "dana", "reviewer", PASSWORD)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store, ids
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield page
        browser.close()
        assert not [e for e in errors if "Content Security Policy" in e], errors


def without_frequency(done: Processed) -> Processed:
    """The fax as if its frequency line had been lost (MISSING_FREQUENCY)."""
    from models.referral import REASON_TEXT, Reason, ReasonCode

    referral = done.referral.model_copy(deep=True)
    referral.frequency = None
    missing = ReasonCode.MISSING_FREQUENCY
    referral.decision.reasons = [
        *referral.decision.reasons,
        Reason(code=missing, message=REASON_TEXT[missing]),
    ]
    return Processed(referral=referral, read=done.read)


def test_review_in_a_browser(served, page):
    base, store, ids = served
    expect = sync_api.expect

    # Signing in: any page sends an anonymous visitor to the sign-in form first.
    page.goto(f"{base}/queue")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("input[name=name]", "dana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/queue$"))
    expect(page.locator("#list")).to_contain_text("Tomas Reyes")
    expect(page.locator("#list")).to_contain_text("No treatment duration")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"))

    # The referral made from the real fax: its page image beside the fields.
    page.click(f"#list a.open[href='/referrals/{ids['fax']}']")
    expect(page).to_have_url(re.compile(rf"/referrals/{ids['fax']}$"))
    image = page.locator("#page-1 img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") > 1000

    # Selecting a code shows where it was written.
    box = page.locator("#box-dx-0")
    expect(box).to_be_hidden()
    page.click("a.source[data-box='box-dx-0']")
    expect(box).to_be_visible()
    shown, sheet = box.bounding_box(), image.bounding_box()
    stored = store.get(ids["fax"])
    x0, y0, _x1, _y1 = stored.record["diagnoses"][0]["evidence"]["bbox"]
    width, height = stored.pages[0].width, stored.pages[0].height
    assert abs((shown["x"] - sheet["x"]) / sheet["width"] - (x0 - 4) / width) < 0.01
    assert abs((shown["y"] - sheet["y"]) / sheet["height"] - (y0 - 4) / height) < 0.01
    assert shown["width"] > 5 and shown["height"] > 5
    page.screenshot(path=str(SCREENSHOTS / "referral.png"))

    # Correcting the missing duration, in the clinic's shorthand.
    page.fill("#f-duration", "x 6 wks")
    expect(page.locator("#duration-normal")).to_have_text("6 weeks")
    if "LOW_CONFIDENCE" in [r["code"] for r in stored.record["decision"]["reasons"]]:
        expect(page.locator("#preview")).to_contain_text("hard to read")
        page.check("input[name=text_checked]")  # staff checked the doubted text
    expect(page.locator("#preview")).to_contain_text("If saved: accepted")
    page.click("#save")
    expect(page.locator("#status")).to_have_text("accepted")
    expect(page.locator(".history")).to_contain_text("dana corrected: accepted")
    assert store.get(ids["fax"]).record["duration"]["value"] == 6

    # A misread code and a missing frequency: checked as typed, then corrected.
    page.goto(f"{base}/referrals/{ids['misread']}")
    expect(page.locator("#status")).to_have_text("needs review")
    page.fill("#code-1", "S16.1XXA")
    expect(page.locator("#code-1 ~ .code-facts")).to_contain_text("reimbursable")
    page.fill("#f-frequency", "2x/wk")
    expect(page.locator("#frequency-normal")).to_contain_text("2")
    page.fill("#f-duration", "x 6 wks")
    page.check("input[name=text_checked]")
    page.click("#save")
    expect(page.locator("#status")).to_have_text("accepted")
    corrected = store.get(ids["misread"]).record
    assert corrected["diagnoses"][0]["code"] == "S16.1XXA"
    assert corrected["frequency"]["count"] == 2 and corrected["frequency"]["period_unit"] == "wk"

    # Rejecting another, with a reason chosen from the list.
    page.goto(f"{base}/referrals/{ids['other']}")
    page.select_option("#reject-reason", "NO_REIMBURSABLE_DIAGNOSIS")
    page.click("#reject")
    page.wait_for_load_state()
    assert store.get(ids["other"]).status == "rejected"
    assert store.get(ids["other"]).history[-1].actor == "dana"

    # Signing out ends the session: the queue asks for a sign-in again.
    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{base}/queue")
    expect(page).to_have_url(re.compile(r"/login"))
