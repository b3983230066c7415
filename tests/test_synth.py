"""Tests for the synthetic referral generator (synth/)."""

from __future__ import annotations

import email
import io
import json
import re
from email import policy
from pathlib import Path

import pdfplumber
import pytest
import simple_icd_10_cm as icd
from click.testing import CliRunner
from PIL import Image, ImageOps

from synth import codes
from synth.content import luhn_npi_check_digit, npi_is_valid
from synth.generate import RENDERINGS, generate, main

SEED = 4242
COUNT = 2 * len(RENDERINGS)
TRUTH_KEYS = {
    "diagnoses",
    "frequency",
    "duration",
    "visits",
    "patient",
    "prescriber",
    "rx_date",
    "payer",
    "status",
    "reasons",
    "rendering",
    "layout",
    "scenario",
    "hand_filled",
}
REASONS = {
    "UNREADABLE_DOCUMENT",
    "NO_DIAGNOSIS_CODE",
    "NO_REIMBURSABLE_DIAGNOSIS",
    "INVALID_CODE",
    "NON_BILLABLE_CODE",
    "MISSING_FREQUENCY",
    "MISSING_DURATION",
    "MISSING_PRESCRIBER",
    "LOW_CONFIDENCE",
    "PREAUTH_REQUIRED",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth")
    paths = generate(out, COUNT, SEED)
    assert len(paths) == COUNT
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert sorted(truth) == sorted(p.name for p in paths)
    return out, truth


def _kind(data: bytes) -> str:
    if data.startswith(b"%PDF"):
        return "pdf"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return "other"


def test_deterministic_and_prefix_stable(corpus, tmp_path):
    out, truth = corpus
    again = tmp_path / "again"
    paths = generate(again, COUNT // 2, SEED, jobs=1)  # serial run, half as many documents
    truth2 = json.loads((again / "truth.json").read_text(encoding="utf-8"))
    for p in paths:
        assert p.read_bytes() == (out / p.name).read_bytes(), p.name
        assert truth2[p.name] == truth[p.name]
    other = tmp_path / "other"
    generate(other, 3, SEED + 1, jobs=1)
    truth3 = json.loads((other / "truth.json").read_text(encoding="utf-8"))
    assert [truth3[k]["patient"] for k in sorted(truth3)] != [
        truth[k]["patient"] for k in sorted(truth)[:3]
    ]


def test_every_rendering_present_with_right_format(corpus):
    out, truth = corpus
    seen = {t["rendering"] for t in truth.values()}
    assert seen == set(RENDERINGS)
    for name, t in truth.items():
        data = (out / name).read_bytes()
        kind = _kind(data)
        r = t["rendering"]
        if r in ("text_pdf", "scanned_pdf", "mixed_pdf"):
            assert kind == "pdf", name
        elif r in ("fax_g4", "fax_g3"):
            assert kind == "tiff", name
        elif r == "rotated":
            assert kind in ("pdf", "tiff"), name
        elif r == "photo":
            assert kind == "jpeg", name
        elif r == "png":
            assert kind == "png", name
        elif r == "email":
            msg = email.message_from_bytes(data, policy=policy.default)
            assert msg["Date"] and msg["From"] and msg["Subject"] is not None, name
            for part in msg.iter_attachments():
                payload = part.get_content()
                if t["status"] != "needs_review" or "UNREADABLE_DOCUMENT" not in t["reasons"]:
                    assert _kind(payload) in ("pdf", "tiff", "jpeg", "png"), name


def test_fax_tiffs_are_real_faxes(corpus):
    out, truth = corpus
    n = 0
    for name, t in truth.items():
        data = (out / name).read_bytes()
        if _kind(data) != "tiff":
            continue
        im = Image.open(io.BytesIO(data))
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            assert im.mode == "1", name
            assert im.width == 1728, name
            dpi = tuple(round(v) for v in im.info["dpi"])
            assert dpi in ((204, 98), (204, 196)), (name, dpi)
            assert im.height == (1078 if dpi[1] == 98 else 2156), name
            assert im.info["compression"] in ("group3", "group4"), name
            if t["rendering"] == "fax_g4":
                assert im.info["compression"] == "group4"
            if t["rendering"] == "fax_g3":
                assert im.info["compression"] == "group3"
        n += 1
    assert n >= 2


def test_truth_shape_and_consistency(corpus):
    _, truth = corpus
    for name, t in truth.items():
        assert set(t) == TRUTH_KEYS, name
        assert t["status"] in ("accepted", "needs_review", "rejected")
        assert t["reasons"] == sorted(t["reasons"]) and set(t["reasons"]) <= REASONS
        assert "LOW_CONFIDENCE" not in t["reasons"]
        for c in t["diagnoses"]:
            assert re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", c), (name, c)
        assert len(set(t["diagnoses"])) == len(t["diagnoses"])
        if "UNREADABLE_DOCUMENT" in t["reasons"]:
            assert t["reasons"] == ["UNREADABLE_DOCUMENT"] and t["diagnoses"] == []
            continue
        status, reasons = codes.decide(
            False,
            t["diagnoses"],
            t["frequency"] is not None,
            t["duration"] is not None,
            t["prescriber"]["name"] is not None,
            t["payer"]["name"],
        )
        assert (status, reasons) == (t["status"], t["reasons"]), name
        if t["frequency"]:
            assert set(t["frequency"]) == {"count", "count_max", "period", "period_unit"}
            assert t["frequency"]["period_unit"] in ("d", "wk", "mo")
        if t["duration"]:
            assert set(t["duration"]) == {"value", "value_max", "unit"}
            assert t["duration"]["unit"] in ("d", "wk", "mo", "a")
        assert set(t["payer"]) == {"name", "kind", "claim_number"}
        assert t["payer"]["kind"] in (None, "lni", "pip", "commercial")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", t["patient"]["dob"])
        assert t["rx_date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", t["rx_date"])
        if t["rendering"] == "email":
            assert t["rx_date"] is not None  # stated, or the Date header's


def test_npis_pass_luhn(corpus):
    _, truth = corpus
    npis = [t["prescriber"]["npi"] for t in truth.values() if t["prescriber"]["npi"]]
    assert npis
    for npi in npis:
        assert npi_is_valid(npi), npi
    assert luhn_npi_check_digit("123456789") == "3"  # the CMS example NPI 1234567893
    assert npi_is_valid("1245319599") and not npi_is_valid("1245319598")


def test_accepted_codes_are_billable_reimbursable_leaves(corpus):
    _, truth = corpus
    accepted = [t for t in truth.values() if t["status"] == "accepted"]
    assert accepted
    for t in accepted:
        assert t["diagnoses"]
        for c in t["diagnoses"]:
            assert icd.is_valid_item(c) and icd.is_leaf(c), c
        assert any(codes.is_reimbursable(c) for c in t["diagnoses"])
        assert t["frequency"] and t["duration"] and t["prescriber"]["name"]


def _squash(s: str) -> str:
    return re.sub(r"[\s.]", "", s).upper()


def test_text_pdfs_contain_their_codes(corpus):
    out, truth = corpus
    checked = 0
    for name, t in truth.items():
        if t["rendering"] not in ("text_pdf", "mixed_pdf") or not t["diagnoses"]:
            continue
        with pdfplumber.open(out / name) as pdf:
            text = "\n".join(p.extract_text() or "" for p in pdf.pages)
        if t["rendering"] == "text_pdf":
            flat = _squash(text)
            for c in t["diagnoses"]:
                assert c.replace(".", "") in flat, (name, c)
            checked += 1
        else:
            assert text.strip(), name  # the mixed PDF's first page has a text layer
    assert checked >= 1


def test_photo_exif_transpose_gives_upright_page(corpus):
    out, truth = corpus
    for name, t in truth.items():
        if t["rendering"] != "photo":
            continue
        im = ImageOps.exif_transpose(Image.open(out / name))
        assert im.height > im.width, name


def test_code_pools_follow_the_contract():
    for c in ("S39.012A", "S13.4XXA", "M75.121", "M54.50", "M79.10"):
        assert codes.is_reimbursable(c), c
    for c in ("F41.1", "Z00.00", "R53.83", "M62.830"):
        assert codes.is_billable(c) and not codes.is_reimbursable(c), c
    assert not codes.is_billable("S13.4") and not codes.is_billable("M54")
    import random

    rng = random.Random(0)
    for _ in range(30):
        assert codes.is_reimbursable(codes.pick_reimbursable(rng))
        c = codes.pick_nonreimbursable(rng)
        assert codes.is_billable(c) and not codes.is_reimbursable(c)
        c = codes.pick_nonbillable(rng)
        assert codes.is_valid(c) and not codes.is_billable(c)
        bad, _ = codes.pick_invalid(rng)
        assert not icd.is_valid_item(bad) and not icd.is_valid_item(bad.replace(".", ""))


def test_decision_matches_contract_examples():
    assert codes.decide(False, ["S39.012A", "M54.50"], True, True, True, "Premera") == (
        "accepted",
        ["PREAUTH_REQUIRED"],
    )
    assert codes.decide(False, ["S16.1XXA", "M54.2"], True, False, True, "L&I") == (
        "needs_review",
        ["MISSING_DURATION"],
    )
    assert codes.decide(False, ["F41.1", "R53.83"], True, True, True, "Regence") == (
        "rejected",
        ["NO_REIMBURSABLE_DIAGNOSIS", "PREAUTH_REQUIRED"],
    )
    assert codes.decide(False, [], False, False, False, "Regence") == (
        "needs_review",
        ["NO_DIAGNOSIS_CODE"],
    )
    assert codes.decide(True, ["M54.50"], True, True, True, "Kaiser Permanente") == (
        "needs_review",
        ["UNREADABLE_DOCUMENT"],
    )
    assert codes.decide(False, ["S13.4", "F41.1"], False, True, False, None) == (
        "needs_review",
        ["MISSING_FREQUENCY", "MISSING_PRESCRIBER", "NON_BILLABLE_CODE"],
    )


def test_cli_and_bad_rendering(tmp_path):
    res = CliRunner().invoke(
        main,
        [
            "--out",
            str(tmp_path / "c"),
            "--count",
            "2",
            "--seed",
            "1",
            "--renderings",
            "text_pdf,email",
            "--jobs",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    truth = json.loads((tmp_path / "c" / "truth.json").read_text(encoding="utf-8"))
    assert {t["rendering"] for t in truth.values()} == {"text_pdf", "email"}
    res = CliRunner().invoke(main, ["--out", str(tmp_path / "d"), "--renderings", "nope"])
    assert res.exit_code != 0
    with pytest.raises(ValueError):
        generate(tmp_path / "e", 1, 0, ["nope"])
