"""Synthetic referral documents with ground truth, for testing and benchmarking the pipeline.

    referrals-synth --out DIR --count N --seed S [--renderings text_pdf,fax_g4,...] [--jobs J]

writes N documents into DIR plus DIR/truth.json ({file name: truth}); the same seed gives the
same bytes. Python API: generate(out_dir, count, seed, renderings=None) -> list[Path].

Fonts: DejaVu (Debian package fonts-dejavu-core / fonts-dejavu-extra, which must provide the
Condensed faces) is required. Hand-filled fields use the handwriting fonts of the Debian packages
fonts-dkg-handwriting and fonts-humor-sans when installed (`apt-get install -y
fonts-dkg-handwriting fonts-humor-sans`) and fall back to DejaVu Sans Condensed Oblique without
them; output bytes therefore depend on which of those fonts are installed.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click
import numpy as np

from synth import codes, effects
from synth.content import Facts, make_facts, pick_scenario
from synth.email_doc import body_referral, build_eml, sent_datetime, short_body
from synth.ink import Page, hand_fonts
from synth.layouts import build, fax_cover_page, fax_header_items, make_style
from synth.render import pdf_bytes

RENDERINGS = (
    "text_pdf",
    "scanned_pdf",
    "mixed_pdf",
    "fax_g4",
    "fax_g3",
    "rotated",
    "photo",
    "email",
    "png",
)
RENDERING_WEIGHTS = {
    "text_pdf": 14,
    "scanned_pdf": 13,
    "mixed_pdf": 7,
    "fax_g4": 16,
    "fax_g3": 8,
    "rotated": 8,
    "photo": 12,
    "email": 14,
    "png": 6,
}
SINGLE_PAGE = [
    "letterhead",
    "letterhead",
    "letterhead",
    "form",
    "form",
    "letter",
    "chart_note1",
    "rx_pad",
]
ANY_LAYOUT = SINGLE_PAGE + ["letterhead_2page", "chart_note", "fax_cover"]
INNER_FOR_COVER = [
    "letterhead",
    "letterhead",
    "form",
    "letter",
    "chart_note",
    "rx_pad",
    "letterhead_2page",
]


# ----------------------------------------------------------------------------- pages


def _pages(
    f: Facts, rng: random.Random, layout: str, digital: bool, single: bool, fax_header: bool
) -> tuple[list[Page], str]:
    """Lay the facts out; single=True guarantees one page."""
    fax_date = f.rx_date + dt.timedelta(days=rng.choice([0, 0, 0, 1, 2, 3]))
    for _ in range(6):
        st = make_style(rng, hand_fonts(), digital)
        if layout == "fax_cover":
            inner = rng.choice(INNER_FOR_COVER)
            pages, name = build(f, rng, st, inner)
            pages = [fax_cover_page(f, rng, st, len(pages) + 1, fax_date), *pages]
            name = "fax_cover+" + name
            fax_header = True
        else:
            pages, name = build(f, rng, st, layout)
        if not single or len(pages) == 1:
            break
        layout = rng.choice(["rx_pad", "form", "letterhead"])
    else:
        pages, name = build(f, rng, make_style(rng, hand_fonts(), digital), "rx_pad")
    headers = fax_header_items(f, rng, fax_date, len(pages)) if fax_header else None
    return pages, name, headers


def _pick_layout(rng: random.Random, rendering: str) -> str:
    if rendering in ("photo", "png"):
        return rng.choice(SINGLE_PAGE)
    if rendering == "mixed_pdf":
        return rng.choice(["fax_cover", "fax_cover", "letterhead_2page", "chart_note2"])
    if rendering in ("fax_g4", "fax_g3", "rotated"):
        return rng.choice(ANY_LAYOUT + ["fax_cover", "fax_cover"])
    return rng.choice(ANY_LAYOUT)


def _layout_pages(f, rng, layout, digital, single=False, fax_header=False, overlay=False):
    """Pages (and their layout name); the fax header line is merged into the pages unless
    overlay=True, in which case it is returned separately for the fax machine to print."""
    if layout == "chart_note2":
        for _ in range(8):
            pages, name, headers = _pages(f, rng, "chart_note", digital, single, fax_header)
            if len(pages) > 1:
                break
        else:
            pages, name, headers = _pages(f, rng, "letterhead_2page", digital, single, fax_header)
    else:
        pages, name, headers = _pages(f, rng, layout, digital, single, fax_header)
    if overlay:
        return pages, name, headers
    if headers:
        for page, items in zip(pages, headers, strict=True):
            page.items[:0] = items
    return pages, name


# ----------------------------------------------------------------------------- renderings


def _fax_tiff(pages, rng, nrng, compression, rotations=None, headers=None) -> bytes:
    rotations = rotations or [0] * len(pages)
    headers = headers or [None] * len(pages)
    fine = rng.random() < 0.3 or any(r % 180 == 90 for r in rotations)
    imgs = [
        effects.fax(p, rng, nrng, fine, r, Page(h) if h else None)
        for p, r, h in zip(pages, rotations, headers, strict=True)
    ]
    return effects.tiff_bytes(imgs, compression, fine)


def _scanned_pdf(pages, rng, nrng, rotations=None, first_vector=False) -> bytes:
    rotations = rotations or [0] * len(pages)
    specs = []
    for i, (p, r) in enumerate(zip(pages, rotations, strict=True)):
        if first_vector and i == 0:
            specs.append(("vector", p))
        else:
            specs.append(("image", *effects.scan(p, rng, nrng, r)))
    return pdf_bytes(specs)


def _ext(rng: random.Random, base: str) -> str:
    alt = {"pdf": ["PDF"], "tif": ["tiff", "TIF"], "jpg": ["jpeg", "JPG"], "png": ["PNG"]}
    if base in alt and rng.random() < 0.1:
        return rng.choice(alt[base])
    return base


def _truncated(data: bytes, rng: random.Random) -> bytes:
    first_stream = data.find(b"stream")
    cut = int(len(data) * rng.uniform(0.02, 0.3))
    if first_stream > 0:
        cut = min(cut, first_stream - rng.randint(1, 20))
    return data[: max(cut, 16)]


def _unreadable(f: Facts, rng: random.Random, nrng, rendering: str) -> tuple[str, bytes, str]:
    """(extension, bytes, kind) for a document that no one can read."""
    if rendering == "text_pdf":
        kind = rng.choice(["blank_page", "truncated_pdf"])
        data = pdf_bytes([("vector", Page())])
        if kind == "truncated_pdf":
            pages, _ = _layout_pages(f, rng, "letterhead", True)
            data = _truncated(pdf_bytes([("vector", p) for p in pages]), rng)
        return "pdf", data, kind
    if rendering in ("scanned_pdf", "mixed_pdf"):
        kind = rng.choice(["noise_page", "blank_scan", "truncated_pdf"])
        if kind == "truncated_pdf":
            pages, _ = _layout_pages(f, rng, "letterhead", False)
            return "pdf", _truncated(_scanned_pdf(pages, rng, nrng), rng), kind
        return (
            "pdf",
            pdf_bytes([("image", *effects.noise_page_jpeg(rng, nrng, blank=kind == "blank_scan"))]),
            kind,
        )
    if rendering in ("fax_g4", "fax_g3", "rotated"):
        kind = rng.choice(["noise_fax", "blank_fax"]) if rendering != "rotated" else "noise_fax"
        fine = rng.random() < 0.3
        imgs = [
            effects.blank_or_noise_fax(rng, nrng, fine, kind == "blank_fax")
            for _ in range(rng.randint(1, 2))
        ]
        comp = "group3" if rendering == "fax_g3" else "group4"
        return "tif", effects.tiff_bytes(imgs, comp, fine), kind
    if rendering == "photo":
        pages, _ = _layout_pages(f, rng, "letterhead", False, single=True)
        return "jpg", effects.photo(pages[0], rng, nrng, blur_out=True), "blurred_photo"
    if rendering == "png":
        import io

        from PIL import Image

        arr = nrng.integers(0, 256, (900, 700, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr, "RGB").save(buf, "PNG")
        return "png", buf.getvalue(), "noise_png"
    # e-mail: no body text, a truncated PDF attachment
    pages, _ = _layout_pages(f, rng, "letterhead", True)
    att = _truncated(pdf_bytes([("vector", p) for p in pages]), rng)
    sent = sent_datetime(f, rng)
    data = build_eml(
        f,
        rng,
        sent,
        None,
        [(att, "application", "pdf", "scan0001.pdf")],
        subject=rng.choice(["Scanned document", "Document", "(no subject)"]),
    )
    return "eml", data, "email_truncated_attachment"


def _email(f: Facts, rng: random.Random, nrng) -> tuple[bytes, str, dt.date]:
    sent = sent_datetime(f, rng)
    if rng.random() < 0.5:
        return build_eml(f, rng, sent, body_referral(f, rng), []), "email_body", sent.date()
    sub = rng.choice(["text_pdf", "text_pdf", "scanned_pdf", "fax_g4", "photo", "png"])
    layout = _pick_layout(rng, sub)
    pages, name, headers = _layout_pages(
        f,
        rng,
        layout,
        sub == "text_pdf",
        single=sub in ("photo", "png"),
        fax_header=sub == "fax_g4",
        overlay=True,
    )
    if sub != "fax_g4" and headers:
        for page, items in zip(pages, headers, strict=True):
            page.items[:0] = items
    stamp = sent.strftime("%Y%m%d")
    if sub == "text_pdf":
        att = (
            pdf_bytes([("vector", p) for p in pages]),
            "application",
            "pdf",
            rng.choice(["referral.pdf", f"Referral_{stamp}.pdf", "order.pdf"]),
        )
    elif sub == "scanned_pdf":
        att = (
            _scanned_pdf(pages, rng, nrng),
            "application",
            "pdf",
            rng.choice(["scan0001.pdf", f"SCAN_{stamp}.pdf", "document.pdf"]),
        )
    elif sub == "fax_g4":
        att = (
            _fax_tiff(pages, rng, nrng, "group4", headers=headers),
            "image",
            "tiff",
            f"fax_{stamp}.tif",
        )
    elif sub == "photo":
        att = (
            effects.photo(pages[0], rng, nrng),
            "image",
            "jpeg",
            f"IMG_{rng.randint(1000, 9999)}.jpg",
        )
    else:
        att = (
            effects.screenshot(pages[0], rng, nrng),
            "image",
            "png",
            f"Screenshot {sent.strftime('%Y-%m-%d')}.png",
        )
    data = build_eml(f, rng, sent, short_body(f, rng), [att])
    return data, f"email_attachment:{sub}/{name}", sent.date()


def make_document(index: int, seed: int, rendering: str) -> tuple[str, bytes, dict]:
    """One document: (file name, bytes, truth). Depends only on (index, seed, rendering)."""
    rng = random.Random(f"referral-synth/{seed}/{index}")
    nrng = np.random.default_rng(rng.getrandbits(63))
    scenario = pick_scenario(rng)
    f = make_facts(rng, scenario)
    rx_override = None
    hand_filled = False
    if scenario == "unreadable":
        ext, data, kind = _unreadable(f, rng, nrng, rendering)
        f.unreadable = kind
        layout = f"unreadable_{kind}"
    elif rendering == "email":
        ext = "eml"
        data, layout, rx_override = _email(f, rng, nrng)
    else:
        lay = _pick_layout(rng, rendering)
        digital = rendering in ("text_pdf", "mixed_pdf")
        is_fax = rendering in ("fax_g4", "fax_g3")
        rot_base = rng.choice(["fax", "scan"]) if rendering == "rotated" else None
        tiff_out = is_fax or rot_base == "fax"
        pages, layout, headers = _layout_pages(
            f,
            rng,
            lay,
            digital,
            single=rendering in ("photo", "png"),
            fax_header=tiff_out,
            overlay=True,
        )
        hand_filled = any(getattr(item, "hand", False) for page in pages for item in page.items)
        if headers and not tiff_out:  # e.g. a fax cover sheet in a PDF: printed, then scanned
            for page, items in zip(pages, headers, strict=True):
                page.items[:0] = items
        if rendering == "text_pdf":
            ext, data = "pdf", pdf_bytes([("vector", p) for p in pages])
        elif rendering == "scanned_pdf":
            ext, data = "pdf", _scanned_pdf(pages, rng, nrng)
        elif rendering == "mixed_pdf":
            ext, data = "pdf", _scanned_pdf(pages, rng, nrng, first_vector=True)
        elif is_fax:
            ext = "tif"
            data = _fax_tiff(
                pages, rng, nrng, "group4" if rendering == "fax_g4" else "group3", headers=headers
            )
        elif rendering == "rotated":
            angle = rng.choice([180, 180, 90, 270])
            if len(pages) > 1 and rng.random() < 0.6:
                rots = [0] * len(pages)
                rots[rng.randrange(len(pages))] = angle
            else:
                rots = [angle] * len(pages)
            layout += "@rot" + "-".join(str(r) for r in rots)
            if rot_base == "fax":
                ext = "tif"
                data = _fax_tiff(
                    pages, rng, nrng, rng.choice(["group4", "group3"]), rots, headers=headers
                )
            else:
                ext, data = "pdf", _scanned_pdf(pages, rng, nrng, rots)
        elif rendering == "photo":
            ext, data = "jpg", effects.photo(pages[0], rng, nrng)
        elif rendering == "png":
            ext, data = "png", effects.screenshot(pages[0], rng, nrng)
        else:
            raise click.BadParameter(f"unknown rendering {rendering!r}")
    truth = f.truth(rx_override)
    truth.update(
        {"rendering": rendering, "layout": layout, "scenario": scenario, "hand_filled": hand_filled}
    )
    name = f"ref-{index + 1:04d}.{_ext(rng, ext)}"
    return name, data, truth


def _job(args):
    return make_document(*args)


def _assign_renderings(count: int, seed: int, renderings: list[str]) -> list[str]:
    rng = random.Random(f"referral-synth/{seed}/renderings")
    first = list(renderings)
    rng.shuffle(first)
    weights = [RENDERING_WEIGHTS[r] for r in renderings]
    rest = [rng.choices(renderings, weights=weights)[0] for _ in range(max(0, count - len(first)))]
    return (first + rest)[:count]


def generate(
    out_dir: Path,
    count: int,
    seed: int,
    renderings: list[str] | None = None,
    jobs: int | None = None,
) -> list[Path]:
    """Write count documents and truth.json into out_dir; returns the documents' paths."""
    renderings = list(renderings or RENDERINGS)
    unknown = [r for r in renderings if r not in RENDERINGS]
    if unknown:
        raise ValueError(f"unknown renderings {unknown}; choose from {', '.join(RENDERINGS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    codes.pools()
    codes._by_prefix()
    tasks = [(i, seed, r) for i, r in enumerate(_assign_renderings(count, seed, renderings))]
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    if jobs > 1 and count > 4:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=ctx) as ex:
            results = list(ex.map(_job, tasks, chunksize=2))
    else:
        results = [_job(t) for t in tasks]
    truth: dict[str, dict] = {}
    paths = []
    for name, data, t in results:
        p = out_dir / name
        p.write_bytes(data)
        paths.append(p)
        truth[name] = t
    (out_dir / "truth.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return paths


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the documents and truth.json into.",
)
@click.option("--count", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--renderings",
    default=",".join(RENDERINGS),
    show_default=True,
    help="Comma-separated renderings to draw from.",
)
@click.option(
    "--jobs", default=None, type=click.IntRange(min=1), help="Worker processes (default: up to 2)."
)
def main(out_dir: Path, count: int, seed: int, renderings: str, jobs: int | None) -> None:
    """Generate synthetic referral documents with ground truth."""
    wanted = [r.strip() for r in renderings.split(",") if r.strip()]
    try:
        paths = generate(out_dir, count, seed, wanted, jobs)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--renderings") from e
    click.echo(f"wrote {len(paths)} documents and truth.json to {out_dir}", err=True)


if __name__ == "__main__":
    main()
