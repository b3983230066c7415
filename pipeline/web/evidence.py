"""Where each field of a referral stood on its page, as a box in page-image pixels.

Diagnoses carry their evidence in the record. The other fields do not, so they are found
again in the stored words of the pages: the first run of consecutive words that spells
the value (a date also in the ways it is usually written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.store import StoredPage

_EDGE = re.compile(r"^[^\w&/-]+|[^\w&/]+$")


@dataclass(frozen=True)
class Box:
    """A field's place: page number, the text found there, and the box as page fractions."""

    key: str
    page: int
    text: str
    left: float
    top: float
    width: float
    height: float

    @property
    def css(self) -> str:
        return (
            f"#box-{self.key}{{left:{self.left:.3f}%;top:{self.top:.3f}%;"
            f"width:{self.width:.3f}%;height:{self.height:.3f}%}}"
        )


def boxes(record: dict, pages: list[StoredPage]) -> dict[str, Box]:
    """Field key (``dx-0``, ``patient-name``, ...) to its box, for the fields found."""
    sized = {page.number: page for page in pages if page.width and page.height}
    found: dict[str, Box] = {}
    for index, diagnosis in enumerate(record.get("diagnoses") or []):
        evidence = diagnosis.get("evidence") or {}
        page = sized.get(evidence.get("page"))
        if page is not None and evidence.get("bbox"):
            found[f"dx-{index}"] = _box(f"dx-{index}", page, evidence["text"], evidence["bbox"])
    wanted = {
        "patient-name": [(record.get("patient") or {}).get("name")],
        "patient-dob": _date_forms((record.get("patient") or {}).get("dob")),
        "prescriber-name": [(record.get("prescriber") or {}).get("name")],
        "prescriber-credentials": [(record.get("prescriber") or {}).get("credentials")],
        "prescriber-npi": [(record.get("prescriber") or {}).get("npi")],
        "rx-date": _date_forms(record.get("rx_date")),
        "payer-name": [(record.get("payer") or {}).get("name")],
        "payer-claim": [(record.get("payer") or {}).get("claim_number")],
        "visits": [str(record["visits"]) + " visits"] if record.get("visits") else [],
        "frequency": [(record.get("frequency") or {}).get("text")],
        "duration": [(record.get("duration") or {}).get("text")],
    }
    for key, forms in wanted.items():
        for form in forms:
            hit = _find(form, sized.values(), key) if form else None
            if hit is not None:
                found[key] = hit
                break
    return found


def _box(key: str, page: StoredPage, text: str, bbox) -> Box:
    x0, y0, x1, y1 = (float(v) for v in bbox)
    pad = 4.0
    x0, y0 = max(0.0, x0 - pad), max(0.0, y0 - pad)
    x1, y1 = min(float(page.width), x1 + pad), min(float(page.height), y1 + pad)
    return Box(
        key=key,
        page=page.number,
        text=text,
        left=x0 / page.width * 100,
        top=y0 / page.height * 100,
        width=max(0.0, x1 - x0) / page.width * 100,
        height=max(0.0, y1 - y0) / page.height * 100,
    )


def _norm(text: str) -> str:
    return _EDGE.sub("", text).lower()


def _find(value: str, pages, key: str) -> Box | None:
    tokens = [t for t in (_norm(part) for part in value.split()) if t]
    if not tokens:
        return None
    for page in pages:
        words = [w for w in page.words if w.bbox is not None]
        normed = [_norm(w.text) for w in words]
        for start in range(len(words) - len(tokens) + 1):
            if all(_matches(normed[start + i], token) for i, token in enumerate(tokens)):
                run = words[start : start + len(tokens)]
                bbox = (
                    min(w.bbox[0] for w in run),
                    min(w.bbox[1] for w in run),
                    max(w.bbox[2] for w in run),
                    max(w.bbox[3] for w in run),
                )
                return _box(key, page, " ".join(w.text for w in run), bbox)
    return None


def _matches(word: str, token: str) -> bool:
    # A single word may carry its label ("DOB:07/22/1990"), so containment counts for long
    # tokens; short tokens must match whole, or "MD" would be found inside every word.
    return word == token or (len(token) >= 6 and token in word)


def _date_forms(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return []
    return [
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.month}/{day.day}/{day.year}",
        f"{day.month:02d}-{day.day:02d}-{day.year}",
        f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}",
        f"{day.month}/{day.day}/{day.year % 100:02d}",
        day.isoformat(),
        day.strftime("%B %-d, %Y"),
        day.strftime("%b %-d, %Y"),
        f"{day.month:02d}.{day.day:02d}.{day.year}",
    ]
