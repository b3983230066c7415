"""Page layouts: turn Facts into pages of display items, many different ways."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, replace

from synth.content import Facts, fax_stamp, fmt_date
from synth.ink import BLACK, PAGE_H, PAGE_W, Ink, Page, shift, width, wrap

# fmt: off
FAMILIES = [
    "sans", "serif", "mono", "cond", "scond",
]
# fmt: on
ACCENTS = [BLACK, (0.1, 0.2, 0.45), (0.0, 0.3, 0.35), (0.35, 0.1, 0.1), (0.2, 0.2, 0.2)]
INKS = [(0.08, 0.15, 0.55), (0.05, 0.05, 0.12), (0.12, 0.12, 0.35), (0.1, 0.1, 0.1)]
# fmt: off
MASSAGE_CLINICS = [
    "Evergreen Medical Massage", "Sound Therapeutic Massage", "Cascade Bodywork & Massage",
    "Harbor Medical Massage", "Rainier Massage Therapy",
]
# fmt: on


@dataclass
class Style:
    fam: str
    size: float
    head_fam: str
    accent: tuple
    label_bold: bool
    hand_font: str
    ink: tuple
    hand_p: float
    margin: float
    leading: float
    colon: str
    upper_labels: bool
    digital: bool = False

    def f(self, v=""):
        return self.fam + (f"-{v}" if v else "")

    def h(self, v="b"):
        return self.head_fam + (f"-{v}" if v else "")


def make_style(rng: random.Random, hand_fonts: list[str], digital: bool) -> Style:
    fam = rng.choice(FAMILIES)
    size = rng.choice([9.5, 10, 10, 10.5, 11, 11, 11.5, 12])
    if fam == "mono":
        size = min(size, 10.5)
    return Style(
        fam=fam,
        size=size,
        head_fam=rng.choice([fam, fam, "sans", "serif", "cond"]),
        accent=rng.choice(ACCENTS),
        label_bold=rng.random() < 0.5,
        hand_font=rng.choice(hand_fonts),
        ink=rng.choice(INKS),
        hand_p=0.0 if digital else rng.choice([0.0, 0.0, 0.0, 0.4, 0.7]),
        margin=rng.uniform(42, 72),
        leading=rng.uniform(1.25, 1.6),
        colon=rng.choice([":", ":", ":", ""]),
        upper_labels=rng.random() < 0.2,
        digital=digital,
    )


# ----------------------------------------------------------------------------- wording

LABELS = {
    "patient": ["Patient", "Patient name", "Name", "Pt", "Patient Name", "Re", "Client"],
    "dob": ["DOB", "Date of birth", "D.O.B.", "Birthdate", "Birth date"],
    "payer": ["Insurance", "Payer", "Ins", "Carrier", "Insurance carrier", "Coverage"],
    "claim": ["Claim #", "Claim No.", "Claim number", "Claim"],
    "member": ["Member ID", "ID #", "Subscriber ID", "Member #"],
    "group": ["Group #", "Grp", "Group no."],
    "dx": [
        "Diagnosis",
        "Dx",
        "ICD-10",
        "Dx/ICD-10",
        "Diagnoses",
        "ICD-10 codes",
        "Diagnosis code(s)",
        "Dx code(s)",
        "Diagnosis (ICD-10)",
    ],
    "freq": ["Frequency", "Freq", "Frequency of visits", "Frequency of treatment"],
    "dur": ["Duration", "Dur", "Length of treatment", "Duration of care", "For"],
    "freqdur": ["Freq/Dur", "Frequency/Duration", "Freq & Duration", "Frequency & duration"],
    "visits": ["Total visits", "# of visits", "Visits", "Number of sessions"],
    "date": ["Date", "Rx date", "Date of order", "Order date", "Date written", "Dated"],
    "prescriber": [
        "Prescriber",
        "Referring provider",
        "Ordering provider",
        "Physician",
        "Provider",
        "Signed by",
        "Referring physician",
    ],
    "npi": ["NPI", "NPI #", "NPI No.", "Provider NPI"],
    "treatment": ["Treatment", "Therapy requested", "Order", "Services", "Rx"],
    "injury": ["Date of injury", "DOI", "Injury date", "Date of accident"],
    "phone": ["Phone", "Ph", "Tel", "Home phone"],
}
# fmt: off
TITLES = [
    "Prescription", "Rx", "Referral for Massage Therapy", "Order for Medical Massage",
    "MASSAGE THERAPY PRESCRIPTION", "Medical Massage Referral", "Referral / Order",
    "PRESCRIPTION FOR MASSAGE THERAPY", "Therapy Referral", "Massage Therapy Order",
]
# fmt: on
# fmt: off
TREATMENTS = [
    "Medical massage therapy", "Massage therapy - evaluate and treat",
    "Therapeutic massage, myofascial release", "Soft tissue mobilization / massage",
    "Medical massage, trigger point therapy", "Massage therapy (evaluate & treat)",
]
# fmt: on


class Words:
    """Per-document label wording, chosen once so a document is self-consistent."""

    def __init__(self, rng: random.Random, st: Style):
        self.rng = rng
        self.st = st
        self.chosen = {k: rng.choice(v) for k, v in LABELS.items()}

    def __call__(self, key: str) -> str:
        lab = self.chosen[key]
        if self.st.upper_labels:
            lab = lab.upper()
        return lab + self.st.colon


def patient_name(f: Facts, rng: random.Random) -> str:
    p = f.patient
    r = rng.random()
    if r < 0.7:
        return f"{p.first} {p.last}"
    if r < 0.9:
        return f"{p.last}, {p.first}"
    return f"{p.last.upper()}, {p.first.upper()}"


def prescriber_name(f: Facts, rng: random.Random, allow_dr=True) -> str:
    p = f.prescriber
    assert p is not None
    if f.show_cred:
        r = rng.random()
        if r < 0.7:
            return f"{p.first} {p.last}, {f.cred_text}"
        if r < 0.9:
            return f"{p.first} {p.last} {f.cred_text}"
        return f"{p.first.upper()} {p.last.upper()}, {f.cred_text}"
    if allow_dr and p.cred in ("MD", "DO", "ND", "DC") and rng.random() < 0.5:
        return f"Dr. {p.first} {p.last}"
    return f"{p.first} {p.last}"


def provider_line(p) -> str:
    return f"{p.first} {p.last}, {p.cred}"


def dx_lines(f: Facts, rng: random.Random, allow_desc=True) -> list[str]:
    if not f.dx:
        lines = list(f.dx_only_desc)
        if rng.random() < 0.3:
            lines = [d.lower() for d in lines]
        return lines
    style = rng.randrange(5)
    numbered = rng.random() < 0.3
    out = []
    if style == 4 or not allow_desc:
        sep = rng.choice([", ", "; ", "  ", ", "])
        return [sep.join(d.written for d in f.dx)]
    for i, d in enumerate(f.dx):
        if d.desc is None:
            s = d.written
        elif style == 0:
            s = f"{d.written}  {d.desc}"
        elif style == 1:
            s = f"{d.written} - {d.desc}"
        elif style == 2:
            s = f"{d.desc} ({d.written})"
        else:
            s = f"{d.written}: {d.desc}"
        out.append(f"{i + 1}. {s}" if numbered else s)
    return out


def order_items(f: Facts, rng: random.Random, w: Words) -> list[tuple[str, str]]:
    """(label, value) pairs for frequency / duration / visits, as the document prints them."""
    items = []
    if f.shorthand:
        items.append((w("freqdur"), f.shorthand))
    else:
        if f.freq_text and f.dur_text and rng.random() < 0.3:
            items.append((w("freqdur"), f"{f.freq_text} {_xdur(f.dur_text, rng)}"))
        else:
            if f.freq_text or rng.random() < 0.6:
                items.append((w("freq"), f.freq_text or ""))
            if f.dur_text or rng.random() < 0.6:
                items.append((w("dur"), f.dur_text or ""))
    if f.visits_text:
        items.append(("", f.visits_text))
    return items


def _xdur(dur_text: str, rng: random.Random) -> str:
    if dur_text.startswith(("x", "for")):
        return dur_text
    return rng.choice(["x ", "for ", "x "]) + dur_text


def order_sentence(f: Facts, rng: random.Random) -> str:
    """The order in prose, e.g. 'medical massage twice weekly for 6 weeks'."""
    what = rng.choice(
        ["medical massage", "massage therapy", "therapeutic massage", "medical massage therapy"]
    )
    if f.shorthand:
        return f"{what} {f.shorthand}"
    parts = [what]
    if f.freq_text:
        parts.append(f.freq_text)
    if f.dur_text:
        parts.append(_xdur(f.dur_text, rng))
    s = " ".join(parts)
    if f.visits_text and not f.visits_text.startswith(("Total", "#", "Number")):
        s += f", {f.visits_text.strip('()')}"
    return s


def scribble(rng: random.Random, x: float, y: float, w: float, h: float) -> list:
    pts = []
    n = 70
    a1, a2 = rng.uniform(2, 5), rng.uniform(6, 12)
    p1, p2 = rng.uniform(0, 6), rng.uniform(0, 6)
    for i in range(n):
        t = i / (n - 1)
        px = x + t * w + math.sin(t * a2 * math.pi + p2) * w * 0.03
        py = y - h * 0.5 * (math.sin(t * a1 * math.pi + p1) * 0.6 + math.sin(t * a2 * 3.1) * 0.4)
        pts.append((px, py))
    return pts


# ----------------------------------------------------------------------------- flow


class Flow:
    def __init__(self, st: Style, x: float, w: float, top: float, bottom: float, decorate=None):
        self.st, self.x, self.w, self.top, self.bottom = st, x, w, top, bottom
        self.decorate = decorate
        self.pages: list[Page] = []
        self.new_page()

    def new_page(self):
        self.pages.append(Page())
        self.y = self.top
        if self.decorate:
            ink = Ink()
            self.y = self.decorate(ink, len(self.pages), self.y) or self.y
            self.pages[-1].items.extend(ink.items)

    def add(self, fn, gap: float = 8, break_before: bool = False):
        ink = Ink()
        h = fn(ink, self.x, 0.0, self.w)
        if break_before or (self.y + h > self.bottom and self.y > self.top + 1):
            self.new_page()
        self.pages[-1].items.extend(shift(it, 0, self.y) for it in ink.items)
        self.y += h + gap

    def space(self, h: float):
        self.y += h


# ----------------------------------------------------------------------------- blocks


def kv_block(pairs, st: Style, rng: random.Random, tab: float | None, underline: bool):
    """Label: value lines. Values may be hand-written, on a rule, or wrapped."""

    def fn(ink: Ink, x, y, w):
        lf = st.f("b") if st.label_bold else st.f()
        for label, value in pairs:
            hand = bool(value) and len(value) <= 40 and rng.random() < st.hand_p
            vfont = st.hand_font if hand else st.f()
            vsize = st.size * (1.25 if hand else 1.0)
            color = st.ink if hand else BLACK
            lw = width(label, lf, st.size) + st.size * 0.75 if label else 0
            vx = x + max(tab or 0, lw) if label else x
            base = y + st.size * 1.05
            if label:
                ink.text(x, base, label, lf, st.size)
            lines = wrap(value, vfont, vsize, x + w - vx) if value else [""]
            for i, ln in enumerate(lines):
                b = base + i * st.size * st.leading
                if hand:
                    b += rng.uniform(-1.5, 1.0)
                ink.text(vx + (rng.uniform(0, 6) if hand else 0), b, ln, vfont, vsize, color, hand)
                if underline:
                    ink.line(
                        vx - 2,
                        base + i * st.size * st.leading + 2.5,
                        x + w * 0.9,
                        base + i * st.size * st.leading + 2.5,
                        0.5,
                    )
            y += max(1, len(lines)) * st.size * st.leading + (2 if hand else 0)
        return y

    return fn


def heading_block(s: str, font: str, size: float, color, align: str = "left", rule=False):
    def fn(ink: Ink, x, y, w):
        base = y + size
        if align == "center":
            ink.ctext(x + w / 2, base, s, font, size, color)
        elif align == "right":
            ink.rtext(x + w, base, s, font, size, color)
        else:
            ink.text(x, base, s, font, size, color)
        y = base + size * 0.35
        if rule:
            ink.line(x, y + 2, x + w, y + 2, 0.8, color)
            y += 4
        return y

    return fn


def para_block(s: str, font: str, size: float, leading: float, color=BLACK, hand=False):
    def fn(ink: Ink, x, y, w):
        return ink.para(x, y, w, s, font, size, size * leading, color, hand)

    return fn


def lines_block(lines, font, size, leading, indent=0.0, color=BLACK, hand=False):
    def fn(ink: Ink, x, y, w):
        for ln in lines:
            y = ink.para(x + indent, y, w - indent, ln, font, size, size * leading, color, hand)
        return y

    return fn


def signature_block(
    f: Facts, st: Style, rng: random.Random, w_: Words, with_date: bool, style: int | None = None
):
    style = rng.randrange(3) if style is None else style
    date_s = fmt_date(f.rx_date, rng) if (with_date and f.show_rx_date) else None

    def fn(ink: Ink, x, y, w):
        y += 6
        sx = x + rng.uniform(0, 40)
        if style == 0:
            lbl = rng.choice(["Signature:", "Provider signature:", "Signed:", ""])
            lx = ink.text(x, y + 30, lbl, st.f(), st.size) + 6 if lbl else x
            ink.poly(
                scribble(rng, lx + 5, y + 22, rng.uniform(90, 150), rng.uniform(12, 22)),
                rng.uniform(0.9, 1.6),
                st.ink,
            )
            ink.line(lx, y + 32, lx + 190, y + 32, 0.6)
            if date_s:
                dx = lx + 205
                ink.text(dx, y + 30, w_("date") + " " + date_s, st.f(), st.size)
            y += 36
        else:
            ink.poly(
                scribble(rng, sx + 5, y + 20, rng.uniform(90, 160), rng.uniform(12, 22)),
                rng.uniform(0.9, 1.6),
                st.ink,
            )
            ink.line(sx, y + 30, sx + 200, y + 30, 0.6)
            y += 30
            if date_s and style == 1:
                ink.text(sx + 230, y, date_s, st.f(), st.size)
                ink.text(sx + 230, y + st.size * 1.3, "Date", st.f(), st.size * 0.8)
        if f.prescriber:
            y += st.size * 1.35
            ink.text(sx if style else x, y, prescriber_name(f, rng), st.f("b"), st.size)
            if f.show_npi:
                y += st.size * 1.3
                ink.text(sx if style else x, y, f"{w_('npi')} {f.prescriber.npi}", st.f(), st.size)
        elif style != 0:
            y += st.size * 1.3
            ink.text(
                sx,
                y,
                rng.choice(["Provider signature", "Signature", "Authorized signature"]),
                st.f(),
                st.size * 0.8,
            )
        if date_s and style == 2:
            y += st.size * 1.3
            ink.text(sx, y, w_("date") + " " + date_s, st.f(), st.size)
        return y + 4

    return fn


# ----------------------------------------------------------------------------- headers


def clinic_lines(f: Facts, rng: random.Random) -> list[str]:
    c = f.clinic
    addr = f"{c['street']}, {c['city']}, WA {c['zip']}"
    ph = rng.choice(["Tel", "Phone", "Ph", "P"]), rng.choice(["Fax", "F", "Fax:"])
    phone = f"{ph[0]} {c['phone']}   {ph[1].rstrip(':')} {c['fax']}"
    if rng.random() < 0.5:
        return [addr, phone]
    return [c["street"], f"{c['city']}, WA {c['zip']}", phone]


def providers_for_letterhead(f: Facts, rng: random.Random) -> list:
    if f.prescriber is None:
        return []
    ps = [f.prescriber, *f.other_providers]
    rng.shuffle(ps)
    return ps


def header_center(f, st, rng):
    def fn(ink: Ink, x, y, w):
        size = rng.uniform(15, 22)
        ink.ctext(x + w / 2, y + size, f.clinic["name"], st.h("b"), size, st.accent)
        y += size + 6
        for ln in clinic_lines(f, rng):
            ink.ctext(x + w / 2, y + st.size * 0.9, ln, st.h(""), st.size * 0.9, st.accent)
            y += st.size * 1.25
        provs = providers_for_letterhead(f, rng) if rng.random() < 0.5 else []
        if provs:
            s = "   ·   ".join(provider_line(p) for p in provs)
            for ln in wrap(s, st.h("i"), st.size * 0.85, w):
                ink.ctext(x + w / 2, y + st.size * 0.9, ln, st.h("i"), st.size * 0.85, st.accent)
                y += st.size * 1.2
        ink.line(x, y + 4, x + w, y + 4, rng.choice([0.6, 1.2, 2.0]), st.accent)
        return y + 10

    return fn


def header_left_right(f, st, rng):
    def fn(ink: Ink, x, y, w):
        size = rng.uniform(14, 20)
        ink.text(x, y + size, f.clinic["name"], st.h("b"), size, st.accent)
        yl = y + size + 6
        for ln in clinic_lines(f, rng):
            ink.text(x, yl + st.size * 0.9, ln, st.h(""), st.size * 0.88, st.accent)
            yl += st.size * 1.2
        yr = y + 4
        for p in providers_for_letterhead(f, rng):
            ink.rtext(
                x + w, yr + st.size * 0.9, provider_line(p), st.h(""), st.size * 0.85, st.accent
            )
            yr += st.size * 1.15
        y = max(yl, yr)
        ink.line(x, y + 4, x + w, y + 4, 0.8, st.accent)
        return y + 10

    return fn


def header_banner(f, st, rng):
    def fn(ink: Ink, x, y, w):
        size = rng.uniform(15, 19)
        h = size + st.size * 2.6
        ink.rect(x - 6, y, w + 12, h, 0, None, st.accent if st.accent != BLACK else (0.2,) * 3)
        ink.text(x + 4, y + size + 4, f.clinic["name"], st.h("b"), size, (1, 1, 1))
        lines = clinic_lines(f, rng)
        ink.text(
            x + 4,
            y + size + 4 + st.size * 1.4,
            "  |  ".join(lines),
            st.h(""),
            st.size * 0.8,
            (1, 1, 1),
        )
        y += h + 6
        provs = providers_for_letterhead(f, rng) if rng.random() < 0.6 else []
        if provs:
            s = ", ".join(provider_line(p) for p in provs)
            y = ink.para(x, y, w, s, st.h("i"), st.size * 0.85)
        return y + 4

    return fn


def sidebar_decorator(f, st, rng, x0, wside):
    provs = providers_for_letterhead(f, rng)
    lines = clinic_lines(f, rng)
    name = f.clinic["name"]
    size = rng.uniform(13, 17)

    def deco(ink: Ink, page_no: int, y):
        if page_no > 1:
            return None
        yy = 60
        for ln in wrap(name, st.h("b"), size, wside):
            ink.text(x0, yy, ln, st.h("b"), size, st.accent)
            yy += size * 1.15
        yy += 6
        for ln in lines:
            yy = ink.para(x0, yy, wside, ln, st.h(""), st.size * 0.78, color=st.accent)
        yy += 14
        if provs:
            ink.text(
                x0,
                yy,
                rng.choice(["Providers", "Our Providers", "Medical Staff"]),
                st.h("b"),
                st.size * 0.85,
                st.accent,
            )
            yy += st.size * 1.3
            for p in provs:
                yy = ink.para(
                    x0, yy, wside, provider_line(p), st.h(""), st.size * 0.78, color=st.accent
                )
                yy += 3
        ink.line(x0 + wside + 8, 50, x0 + wside + 8, PAGE_H - 50, 0.8, st.accent)
        return None

    return deco


# ----------------------------------------------------------------------------- layouts


def _common_fields(f: Facts, rng: random.Random, w: Words) -> dict[str, list]:
    pat = [
        (w("patient"), patient_name(f, rng)),
        (w("dob"), fmt_date(f.dob, rng, allow_short_year=False)),
    ]
    if rng.random() < 0.3:
        pat.append(
            (w("phone"), f"({rng.choice(['206', '425', '253'])}) 555-01{rng.randint(0, 99):02d}")
        )
    if f.injury_date and rng.random() < 0.7:
        pat.append((w("injury"), fmt_date(f.injury_date, rng)))
    pay = []
    if f.payer_key:
        pay.append((w("payer"), f.payer_text))
        if f.claim_number:
            lab = w("claim")
            if f.payer_kind == "lni" and rng.random() < 0.5:
                lab = "L&I claim #" + w.st.colon
            pay.append((lab, f.claim_number))
        if f.member_id:
            pay.append((w("member"), f.member_id))
        if f.group_no:
            pay.append((w("group"), f.group_no))
    return {"patient": pat, "payer": pay}


def _notes_lines(f: Facts, rng: random.Random) -> list[str]:
    notes = list(f.history)
    if f.meds and rng.random() < 0.6:
        notes.append("Current meds: " + "; ".join(f.meds) + ".")
    if f.cpt and rng.random() < 0.5:
        notes.append("CPT: " + ", ".join(f.cpt))
    if f.followup:
        notes.append(f.followup)
    rng.shuffle(notes)
    return notes


def layout_letterhead(f: Facts, rng: random.Random, st: Style, two_page: bool) -> tuple[list, str]:
    w = Words(rng, st)
    variant = rng.choice(["center", "left_right", "banner", "sidebar"])
    m = st.margin
    if variant == "sidebar":
        wside = rng.uniform(110, 140)
        x = m + wside + 22
        flow = Flow(st, x, PAGE_W - m - x, 56, PAGE_H - 56, sidebar_decorator(f, st, rng, m, wside))
    else:
        flow = Flow(st, m, PAGE_W - 2 * m, rng.uniform(36, 60), PAGE_H - 50)
        hdr = {"center": header_center, "left_right": header_left_right, "banner": header_banner}[
            variant
        ]
        flow.add(hdr(f, st, rng), gap=10)
    title = rng.choice(TITLES)
    align = rng.choice(["left", "center"])
    flow.add(
        heading_block(
            title,
            st.h("b"),
            st.size * rng.uniform(1.2, 1.6),
            st.accent,
            align,
            rule=rng.random() < 0.3,
        ),
        gap=8,
    )
    fields = _common_fields(f, rng, w)
    date_pos = rng.choice(["top", "top", "sig", "field"]) if f.show_rx_date else None
    if date_pos == "top":
        ds = fmt_date(f.rx_date, rng)
        lbl = w("date") + " " if rng.random() < 0.6 else ""
        flow.add(heading_block(lbl + ds, st.f(), st.size, BLACK, "right"), gap=4)
    tab = rng.choice([None, 90.0, 110.0])
    underline = st.hand_p > 0 and rng.random() < 0.5
    two_col = rng.random() < 0.35 and variant != "sidebar"
    if two_col and fields["payer"]:
        left = kv_block(fields["patient"], st, rng, None, underline)
        right = kv_block(fields["payer"], st, rng, None, underline)

        def cols(ink, x, y, wd, left=left, right=right):
            ink1, ink2 = Ink(), Ink()
            y1 = left(ink1, x, y, wd / 2 - 10)
            y2 = right(ink2, x + wd / 2 + 10, y, wd / 2 - 10)
            ink.items.extend(ink1.items + ink2.items)
            return max(y1, y2)

        flow.add(cols, gap=10)
    else:
        blocks = [fields["patient"], fields["payer"]]
        if rng.random() < 0.25:
            blocks.reverse()
        for b in blocks:
            if b:
                flow.add(kv_block(b, st, rng, tab, underline), gap=8)
    notes = _notes_lines(f, rng)
    notes_first = rng.random() < 0.5 or two_page
    if notes and notes_first:
        lbl = rng.choice(["History:", "Notes:", "Clinical notes:", "HPI:", "Comments:"])
        flow.add(kv_block([(lbl, " ".join(notes))], st, rng, tab, False), gap=8)
    if two_page:
        extra = [
            "Exam: tenderness to palpation of the paraspinal muscles, decreased range of motion.",
            "Patient education provided regarding posture, ergonomics and home stretching.",
            "Work status: modified duty, no lifting over 20 lbs.",
        ]
        flow.add(para_block(" ".join(rng.sample(extra, 2)), st.f(), st.size, st.leading), gap=8)
    dx_label = w("dx")
    dxl = dx_lines(f, rng)
    hand_dx = rng.random() < st.hand_p and all(len(ln) <= 40 for ln in dxl)

    def dx_fn(ink, x, y, wd, dxl=dxl, hand=hand_dx):
        lf = st.f("b") if st.label_bold else st.f()
        ink.text(x, y + st.size, dx_label, lf, st.size)
        tabx = max(tab or 0, width(dx_label, lf, st.size) + st.size * 0.75)
        vfont = st.hand_font if hand else st.f()
        vsize = st.size * (1.25 if hand else 1)
        if len(dxl) > 1 and rng.random() < 0.5:
            y += st.size * st.leading
            tabx = 18
        for ln in dxl:
            y = ink.para(
                x + tabx,
                y,
                wd - tabx,
                ln,
                vfont,
                vsize,
                vsize * st.leading,
                st.ink if hand else BLACK,
                hand,
            )
        return y

    flow.add(dx_fn, gap=8, break_before=two_page)
    orders = [(w("treatment"), rng.choice(TREATMENTS)), *order_items(f, rng, w)]
    if rng.random() < 0.3:
        orders.pop(0)
    if date_pos == "field":
        orders.append((w("date"), fmt_date(f.rx_date, rng)))
    flow.add(kv_block(orders, st, rng, tab, underline), gap=8)
    if notes and not notes_first:
        flow.add(para_block(" ".join(notes), st.f(), st.size, st.leading), gap=8)
    flow.add(signature_block(f, st, rng, w, date_pos == "sig"), gap=6)
    name = "letterhead_2page" if two_page else f"letterhead_{variant}"
    if two_col:
        name += "_2col"
    return flow.pages, name


def layout_letter(f: Facts, rng: random.Random, st: Style) -> tuple[list, str]:
    st = replace(st, hand_p=0.0)
    w = Words(rng, st)
    m = st.margin
    flow = Flow(st, m, PAGE_W - 2 * m, rng.uniform(40, 64), PAGE_H - 50)
    flow.add(rng.choice([header_center, header_left_right, header_banner])(f, st, rng), gap=18)
    if f.show_rx_date:
        flow.add(
            heading_block(
                fmt_date(f.rx_date, rng), st.f(), st.size, BLACK, rng.choice(["left", "right"])
            ),
            gap=14,
        )
    if rng.random() < 0.4:
        to = rng.choice(MASSAGE_CLINICS)
        flow.add(lines_block([to, "Attn: Intake"], st.f(), st.size, 1.3), gap=12)
    pn = patient_name(f, rng)
    if rng.random() < 0.5:
        flow.add(
            kv_block(
                [("RE:", f"{pn}, DOB {fmt_date(f.dob, rng, allow_short_year=False)}")],
                st,
                rng,
                None,
                False,
            ),
            gap=10,
        )
        intro = rng.choice(
            [
                "I am referring the above patient for {order}.",
                "Please see the above patient for {order}.",
                "The above-named patient is referred for {order}.",
            ]
        )
    else:
        dob = fmt_date(f.dob, rng, allow_short_year=False)
        intro = rng.choice(
            [
                f"Please see my patient, {pn} (DOB {dob}), for {{order}}.",
                f"I am referring my patient {pn}, date of birth {dob}, for {{order}}.",
                f"{pn} (DOB: {dob}) has been under my care and would benefit from {{order}}.",
            ]
        )
    order = (
        order_sentence(f, rng)
        if (f.freq_text or f.dur_text or f.shorthand)
        else rng.choice(["medical massage therapy", "massage therapy, evaluate and treat"])
    )
    greet = rng.choice(
        [
            "Dear massage therapist,",
            "Dear Colleague,",
            "To whom it may concern:",
            "Dear Provider,",
            "Hello,",
        ]
    )
    flow.add(para_block(greet, st.f(), st.size, st.leading), gap=8)
    paras = [intro.format(order=order)]
    pron = rng.choice([("She", "Her", "has"), ("He", "His", "has"), ("They", "Their", "have")])
    if f.dx:
        if rng.random() < 0.5:
            parts = []
            for d in f.dx:
                parts.append(f"{d.desc} ({d.written})" if d.desc else d.written)
            dx_s = f"{pron[0]} {pron[2]} the following diagnoses: " + "; ".join(parts) + "."
        else:
            dx_s = "Diagnosis codes: " + ", ".join(d.written for d in f.dx) + "."
    else:
        dx_s = (
            f"{pron[0]} {pron[2]} been diagnosed with "
            + " and ".join(d[0].lower() + d[1:] for d in f.dx_only_desc)
            + "."
        )
    paras.append(dx_s)
    hist = " ".join(f.history)
    if f.meds:
        hist += (
            f" {pron[0]} currently take{'s' if pron[2] == 'has' else ''} "
            + ", ".join(m_.lower() if i else m_ for i, m_ in enumerate(f.meds))
            + "."
        )
    paras.insert(rng.randint(1, 2), hist)
    if f.payer_key:
        ins = f"{pron[1]} insurance is {f.payer_text}"
        if f.claim_number:
            ins += f", claim # {f.claim_number}"
        if f.member_id:
            ins += f", member ID {f.member_id}"
        paras.append(ins + ".")
    if f.followup:
        paras.append(f"{f.followup} I will continue to follow {pron[1].lower()} progress.")
    paras.append(
        rng.choice(
            [
                "Please do not hesitate to contact my office with any questions.",
                "Thank you for your care of this patient.",
                "Please send progress notes to our office.",
            ]
        )
    )
    for p in paras:
        flow.add(para_block(p, st.f(), st.size, st.leading), gap=st.size * 0.8)
    flow.add(
        para_block(
            rng.choice(["Sincerely,", "Thank you,", "Regards,", "Best regards,"]),
            st.f(),
            st.size,
            st.leading,
        ),
        gap=0,
    )
    flow.add(signature_block(f, st, rng, w, False, style=1), gap=4)
    return flow.pages, "letter"


def _cell(ink: Ink, x, y, w, h, label, value, st: Style, rng, hand_p, lsize):
    ink.rect(x, y, w, h, 0.6)
    ink.text(x + 3, y + lsize + 1.5, label, st.f(), lsize)
    if value:
        hand = rng.random() < hand_p
        font = st.hand_font if hand else st.f()
        size = min(st.size * (1.25 if hand else 1.0), h - lsize - 2)
        slack = 1.1 if hand else 1.0
        while width(value, font, size) * slack > w - 8 and size > 5:
            size -= 0.5
        ink.text(
            x + 5 + (rng.uniform(0, 10) if hand else 0),
            y + h - 4 + (rng.uniform(-1.5, 0.5) if hand else 0),
            value,
            font,
            size,
            st.ink if hand else BLACK,
            hand,
        )


def _checkbox(ink: Ink, x, y, size, checked: bool, st: Style, hand: bool):
    ink.rect(x, y - size, size, size, 0.6)
    if checked:
        if hand:
            ink.poly(
                [
                    (x - 1, y - size * 0.5),
                    (x + size * 0.4, y + 1),
                    (x + size * 1.3, y - size * 1.4),
                ],
                1.4,
                st.ink,
            )
        else:
            ink.text(x + size * 0.15, y - size * 0.12, "X", "sans-b", size * 0.9)


FREQ_BOXES = [
    ((1, None, 1, "wk"), "1x/week"),
    ((2, None, 1, "wk"), "2x/week"),
    ((3, None, 1, "wk"), "3x/week"),
    ((1, 2, 1, "wk"), "1-2x/week"),
]
DUR_BOXES = [
    ((4, None, "wk"), "4 weeks"),
    ((6, None, "wk"), "6 weeks"),
    ((8, None, "wk"), "8 weeks"),
    ((12, None, "wk"), "12 weeks"),
]


def layout_form(f: Facts, rng: random.Random, st: Style) -> tuple[list, str]:
    w = Words(rng, st)
    m = min(st.margin, 54)
    x0, W = m, PAGE_W - 2 * m
    flow = Flow(st, x0, W, rng.uniform(36, 56), PAGE_H - 40)
    hdr = rng.choice([header_center, header_left_right, header_banner])
    flow.add(hdr(f, st, rng), gap=6)
    flow.add(
        heading_block(
            rng.choice(
                [
                    "MASSAGE THERAPY REFERRAL FORM",
                    "REFERRAL FORM",
                    "Medical Massage Prescription",
                    "Therapy Order Form",
                    "MASSAGE THERAPY ORDER",
                ]
            ),
            st.h("b"),
            st.size * 1.4,
            st.accent,
            "center",
        ),
        gap=8,
    )
    lsize = max(6.5, st.size * 0.7)
    h = st.size * 1.25 + lsize + 8
    hp = st.hand_p if st.hand_p else 0.0
    two_col = rng.random() < 0.4
    sect_fill = rng.choice([(0.85,) * 3, (0.92,) * 3, None])

    def section(title):
        def fn(ink, x, y, wd):
            if sect_fill:
                ink.rect(x, y, wd, st.size * 1.5, 0.6, BLACK, sect_fill)
            else:
                ink.line(x, y + st.size * 1.5, x + wd, y + st.size * 1.5, 1.0)
            ink.text(x + 4, y + st.size * 1.1, title, st.f("b"), st.size * 0.95)
            return y + st.size * 1.5

        return fn

    def row(cells):
        def fn(ink, x, y, wd):
            cx = x
            for frac, label, value in cells:
                cw = wd * frac
                _cell(ink, cx, y, cw, h, label, value, st, rng, hp, lsize)
                cx += cw
            return y + h

        return fn

    pat = [
        (0.5, w("patient").rstrip(":"), patient_name(f, rng)),
        (0.25, w("dob").rstrip(":"), fmt_date(f.dob, rng, allow_short_year=False)),
        (0.25, "Sex", f.sex if rng.random() < 0.7 else ""),
    ]
    pay = [
        (0.5, w("payer").rstrip(":"), f.payer_text or ""),
        (
            0.5,
            ("L&I / PIP claim #" if rng.random() < 0.5 else w("claim").rstrip(":")),
            f.claim_number or "",
        ),
    ]
    pay2 = [
        (0.5, w("member").rstrip(":"), f.member_id or ""),
        (0.5, w("group").rstrip(":"), f.group_no or ""),
    ]
    inj = [
        (0.5, w("injury").rstrip(":"), fmt_date(f.injury_date, rng) if f.injury_date else ""),
        (
            0.5,
            "Phone",
            f"{f.clinic['phone'][:-4]}01{rng.randint(10, 99)}" if rng.random() < 0.5 else "",
        ),
    ]
    if two_col:

        def twocol(ink, x, y, wd):
            half = wd / 2 - 4
            y1 = section("PATIENT")(ink, x, y, half)
            for c in (
                [(1.0,) + pat[0][1:]],
                [(0.6,) + pat[1][1:], (0.4,) + pat[2][1:]],
                [(1.0,) + inj[0][1:]],
            ):
                y1 = row(c)(ink, x, y1, half)
            y2 = section("INSURANCE")(ink, x + half + 8, y, half)
            for c in (
                [(1.0,) + pay[0][1:]],
                [(1.0,) + pay[1][1:]],
                [(0.5,) + pay2[0][1:], (0.5,) + pay2[1][1:]],
            ):
                y2 = row(c)(ink, x + half + 8, y2, half)
            return max(y1, y2)

        flow.add(twocol, gap=8)
    else:
        flow.add(section(rng.choice(["PATIENT INFORMATION", "Patient", "PATIENT"])), gap=0)
        flow.add(row(pat), gap=0)
        flow.add(row(inj), gap=6)
        flow.add(section(rng.choice(["INSURANCE", "Insurance / Claim", "BILLING"])), gap=0)
        flow.add(row(pay), gap=0)
        flow.add(row(pay2), gap=8)

    flow.add(section(rng.choice(["DIAGNOSIS (ICD-10)", "DIAGNOSES", "Dx / ICD-10 codes"])), gap=0)
    dx_hand = rng.random() < hp
    n_rows = max(3, len(f.dx) + rng.randint(0, 1), len(f.dx_only_desc))

    def dx_table(ink, x, y, wd):
        cw = wd * 0.22
        ink.text(x + 3, y + lsize + 2, "ICD-10 code", st.f(), lsize)
        ink.text(x + cw + 3, y + lsize + 2, "Description", st.f(), lsize)
        y += lsize + 4
        rows = [(d.written, d.desc or "") for d in f.dx] or [("", d) for d in f.dx_only_desc]
        for i in range(n_rows):
            code, desc = rows[i] if i < len(rows) else ("", "")
            rh = st.size * 1.7
            ink.rect(x, y, cw, rh, 0.5)
            ink.rect(x + cw, y, wd - cw, rh, 0.5)
            font = st.hand_font if dx_hand else st.f()
            size = st.size * (1.2 if dx_hand else 1)
            color = st.ink if dx_hand else BLACK
            if code:
                ink.text(x + 5, y + rh - 5, code, font, size, color, dx_hand)
            if desc:
                dsize = size
                while width(desc, font, dsize) * (1.1 if dx_hand else 1) > wd - cw - 8 and (
                    dsize > 4.5
                ):
                    dsize -= 0.25
                ink.text(x + cw + 5, y + rh - 5, desc, font, dsize, color, dx_hand)
            y += rh
        return y

    flow.add(dx_table, gap=8)
    flow.add(section(rng.choice(["ORDERS", "TREATMENT ORDERED", "PRESCRIPTION"])), gap=0)
    use_boxes = rng.random() < 0.4 and f.shorthand is None and f.visits is None
    tr = rng.sample(
        [
            "Swedish/relaxation",
            "Medical massage",
            "Myofascial release",
            "Trigger point",
            "Lymphatic drainage",
            "Hydrotherapy",
        ],
        4,
    )
    tr_checked = {t for t in tr if t in ("Medical massage", "Myofascial release")} or {tr[0]}

    def boxes(ink, x, y, wd):
        y += st.size * 1.6
        bx = x + 4
        ink.text(bx, y, rng.choice(["Treatment:", "Modalities:"]), st.f("b"), st.size)
        bx += 80
        for t in tr:
            if bx + st.size * 1.3 + width(t, st.f(), st.size * 0.9) > x + wd:
                y += st.size * 1.5
                bx = x + 84
            _checkbox(ink, bx, y, st.size * 0.9, t in tr_checked, st, hp > 0)
            bx = ink.text(bx + st.size * 1.3, y, t, st.f(), st.size * 0.9) + 12
        if use_boxes:
            for label, opts, truth, text in (
                (w("freq"), FREQ_BOXES, f.freq, f.freq_text),
                (w("dur"), DUR_BOXES, f.dur, f.dur_text),
            ):
                y += st.size * 2.0
                bx = x + 4
                ink.text(bx, y, label, st.f("b"), st.size)
                bx += 80
                key = None
                if truth is not None:
                    key = tuple(truth.values())
                matched = False
                for k, lab in opts:
                    chk = key == k
                    matched |= chk
                    if bx + st.size * 1.3 + width(lab, st.f(), st.size * 0.9) > x + wd:
                        y += st.size * 1.5
                        bx = x + 84
                    _checkbox(ink, bx, y, st.size * 0.9, chk, st, hp > 0)
                    bx = ink.text(bx + st.size * 1.3, y, lab, st.f(), st.size * 0.9) + 12
                if bx + 120 > x + wd:
                    y += st.size * 1.5
                    bx = x + 84
                _checkbox(ink, bx, y, st.size * 0.9, truth is not None and not matched, st, hp > 0)
                bx = ink.text(bx + st.size * 1.3, y, "Other:", st.f(), st.size * 0.9) + 4
                ink.line(bx, y + 2, x + wd - 4, y + 2, 0.5)
                if truth is not None and not matched:
                    hand = hp > 0
                    ink.text(
                        bx + 4,
                        y,
                        text,
                        st.hand_font if hand else st.f(),
                        st.size * (1.2 if hand else 1),
                        st.ink if hand else BLACK,
                        hand,
                    )
        return y + 8

    flow.add(boxes, gap=4)
    if not use_boxes:
        items = order_items(f, rng, w)
        cells = [(1 / max(1, len(items)), lab.rstrip(":") or "Visits", val) for lab, val in items]
        if not cells:
            cells = [(0.5, w("freq").rstrip(":"), ""), (0.5, w("dur").rstrip(":"), "")]
        flow.add(row(cells), gap=8)
    notes = _notes_lines(f, rng)
    if notes and rng.random() < 0.7:
        flow.add(kv_block([("Comments:", " ".join(notes))], st, rng, None, False), gap=6)
    flow.add(section(rng.choice(["REFERRING PROVIDER", "PROVIDER", "Prescriber"])), gap=0)
    p = f.prescriber
    pname = f"{p.first} {p.last}" if p else ""
    flow.add(
        row(
            [
                (0.5, w("prescriber").rstrip(":"), pname),
                (0.2, "Credentials", f.cred_text if p and f.show_cred else ""),
                (0.3, "NPI", p.npi if p and f.show_npi else ""),
            ]
        ),
        gap=0,
    )

    def sig_row(ink, x, y, wd):
        _cell(ink, x, y, wd * 0.65, h + 10, "Signature", "", st, rng, 0, lsize)
        ink.poly(scribble(rng, x + 30, y + h, rng.uniform(90, 150), 14), 1.2, st.ink)
        ds = fmt_date(f.rx_date, rng) if f.show_rx_date else ""
        _cell(ink, x + wd * 0.65, y, wd * 0.35, h + 10, "Date", ds, st, rng, hp, lsize)
        return y + h + 10

    flow.add(sig_row, gap=6)
    return flow.pages, "form_2col" if two_col else "form"


def layout_chart_note(
    f: Facts, rng: random.Random, st: Style, single: bool = False
) -> tuple[list, str]:
    st = replace(st, hand_p=0.0)
    w = Words(rng, st)
    m = st.margin
    pn = patient_name(f, rng)
    dob = fmt_date(f.dob, rng, allow_short_year=False)
    mrn = f"{rng.randint(100000, 9999999)}"

    def deco(ink, page_no, y):
        if page_no == 1:
            return None
        ink.text(m, 40, f"{pn}   DOB {dob}   MRN {mrn}", st.f(), st.size * 0.85)
        ink.line(m, 46, PAGE_W - m, 46, 0.5)
        return 60

    flow = Flow(st, m, PAGE_W - 2 * m, rng.uniform(40, 56), PAGE_H - 60, deco)
    flow.add(rng.choice([header_left_right, header_center])(f, st, rng), gap=8)
    flow.add(
        heading_block(
            rng.choice(
                ["Progress Note", "OFFICE VISIT", "Clinic Note", "Visit Summary", "Chart Note"]
            ),
            st.h("b"),
            st.size * 1.35,
            st.accent,
        ),
        gap=6,
    )
    top = [(w("patient"), pn), (w("dob"), dob), ("MRN:", mrn)]
    if f.show_rx_date:
        top.append(
            (rng.choice(["Date of service:", "DOS:", "Visit date:"]), fmt_date(f.rx_date, rng))
        )
    if f.prescriber:
        top.append((w("prescriber"), prescriber_name(f, rng)))
    if f.payer_key:
        top.append(
            (
                w("payer"),
                f.payer_text + (f"  {w('claim')} {f.claim_number}" if f.claim_number else ""),
            )
        )
    flow.add(kv_block(top, st, rng, rng.choice([None, 110.0]), False), gap=10)
    sec = st.f("b")
    flow.add(
        heading_block(rng.choice(["SUBJECTIVE", "Subjective:", "S:", "HPI"]), sec, st.size, BLACK),
        gap=2,
    )
    flow.add(
        para_block(
            " ".join(f.history)
            + rng.choice(
                [
                    " Denies numbness or tingling.",
                    " Sleep disturbed by pain.",
                    " Pain worse at end of work day.",
                    "",
                ]
            ),
            st.f(),
            st.size,
            st.leading,
        ),
        gap=6,
    )
    if f.meds:
        flow.add(heading_block("Medications:", sec, st.size, BLACK), gap=2)
        flow.add(lines_block(f.meds, st.f(), st.size, st.leading, indent=12), gap=6)
    flow.add(
        heading_block(rng.choice(["OBJECTIVE", "Objective:", "O:", "Exam"]), sec, st.size, BLACK),
        gap=2,
    )
    flow.add(
        para_block(
            f"BP {rng.randint(105, 145)}/{rng.randint(65, 92)}, HR {rng.randint(58, 96)}. "
            + rng.choice(
                [
                    "Tenderness and hypertonicity of paraspinal muscles. ",
                    "Decreased cervical ROM with guarding. ",
                    "Palpable trigger points upper trapezius bilaterally. ",
                ]
            )
            + rng.choice(["Neuro intact.", "Strength 5/5 throughout.", "SLR negative."]),
            st.f(),
            st.size,
            st.leading,
        ),
        gap=6,
    )
    two_page = not single and rng.random() < 0.5
    flow.add(
        heading_block(
            rng.choice(["ASSESSMENT", "Assessment:", "A:", "Assessment/Plan"]), sec, st.size, BLACK
        ),
        gap=2,
        break_before=two_page,
    )
    flow.add(lines_block(dx_lines(f, rng), st.f(), st.size, st.leading, indent=12), gap=6)
    flow.add(heading_block(rng.choice(["PLAN", "Plan:", "P:"]), sec, st.size, BLACK), gap=2)
    plan = []
    if f.freq_text or f.dur_text or f.shorthand:
        plan.append("Referral to " + order_sentence(f, rng) + ".")
    else:
        plan.append("Referral to medical massage therapy.")
    if f.visits_text and f.visits_text.startswith(("Total", "#", "Number")):
        plan.append(f.visits_text + ".")
    if f.meds:
        plan.append(f"Continue {f.meds[0].split(' ')[0].lower()}.")
    if f.followup:
        plan.append(f.followup)
    if f.cpt:
        plan.append("Billing: " + ", ".join(f.cpt))
    rng.shuffle(plan)
    flow.add(lines_block([f"- {p}" for p in plan], st.f(), st.size, st.leading, indent=8), gap=10)
    if f.prescriber:
        who = prescriber_name(f, rng)
        when = ""
        if f.show_rx_date:
            when = f" on {fmt_date(f.rx_date, rng)} {rng.randint(8, 17)}:{rng.randint(0, 59):02d}"
        sig = f"Electronically signed by {who}{when}"
        if f.show_npi:
            sig += f"  NPI {f.prescriber.npi}"
        flow.add(para_block(sig, st.f("i"), st.size * 0.95, st.leading), gap=4)
    else:
        flow.add(signature_block(f, st, rng, w, False, style=1), gap=4)
    n = len(flow.pages)
    if n > 1:
        for i, pg in enumerate(flow.pages):
            ink = Ink()
            ink.rtext(PAGE_W - m, PAGE_H - 30, f"Page {i + 1} of {n}", st.f(), st.size * 0.8)
            pg.items.extend(ink.items)
    return flow.pages, "chart_note_2page" if n > 1 else "chart_note"


def layout_rx_pad(f: Facts, rng: random.Random, st: Style) -> tuple[list, str]:
    """A small prescription pad, hand-filled, lying somewhere on the scanned page."""
    pw, ph = rng.uniform(300, 380), rng.uniform(420, 520)
    px, py = rng.uniform(30, PAGE_W - pw - 30), rng.uniform(30, PAGE_H - ph - 30)
    ink = Ink()
    ink.rect(px, py, pw, ph, 0.8, (0.4, 0.4, 0.4))
    x, y, wd = px + 14, py + 14, pw - 28
    size = rng.uniform(11, 14)
    ink.ctext(px + pw / 2, y + size, f.clinic["name"], st.h("b"), size, st.accent)
    y += size + 4
    for ln in clinic_lines(f, rng):
        ink.ctext(px + pw / 2, y + 7.5, ln, st.h(""), 7.5, st.accent)
        y += 9.5
    provs = providers_for_letterhead(f, rng)
    if provs:
        s = "  ".join(provider_line(p) for p in provs)
        for ln in wrap(s, st.h("i"), 7, wd):
            ink.ctext(px + pw / 2, y + 7, ln, st.h("i"), 7, st.accent)
            y += 8.5
    ink.line(x, y + 4, x + wd, y + 4, 0.6, st.accent)
    y += 10
    hand = not st.digital and rng.random() < 0.85
    hf = st.hand_font if hand else st.f()
    hs = 13 if hand else st.size
    col = st.ink if hand else BLACK

    def field(label, value, lx, lw):
        ink.text(lx, y + 12, label, st.f(), 8)
        vx = lx + width(label, st.f(), 8) + 6
        ink.line(vx, y + 14, lx + lw, y + 14, 0.4)
        if value:
            s = hs
            while width(value, hf, s) * 1.1 > lx + lw - vx - 2 and s > 8:
                s -= 0.5
            ink.text(vx + 2, y + 11 + (rng.uniform(-1, 1) if hand else 0), value, hf, s, col, hand)

    field("Name", patient_name(f, rng), x, wd * 0.62)
    field("DOB", fmt_date(f.dob, rng, allow_short_year=False), x + wd * 0.64, wd * 0.36)
    y += 20
    field("Ins", f.payer_text or "", x, wd * 0.62)
    field("Date", fmt_date(f.rx_date, rng) if f.show_rx_date else "", x + wd * 0.64, wd * 0.36)
    if f.claim_number:
        y += 20
        field("Claim #", f.claim_number, x, wd * 0.62)
    y += 26
    ink.text(x, y + 26, "℞", "sans-b", 30, st.accent)
    y += 8
    body = [
        order_sentence(f, rng)
        if (f.freq_text or f.dur_text or f.shorthand)
        else "Medical massage therapy"
    ]
    if f.visits_text and f.visits_text.startswith(("Total", "#", "Number")):
        body.append(f.visits_text)
    if f.dx:
        body.append("Dx: " + ", ".join(d.written for d in f.dx))
    else:
        body.append("Dx: " + "; ".join(f.dx_only_desc))
    for ln in body:
        for sub in wrap(ln, hf, hs, wd - 40):
            ink.text(x + 36 + (rng.uniform(0, 4) if hand else 0), y + hs, sub, hf, hs, col, hand)
            y += hs * 1.45
        y += 2
    y = max(y + 10, py + ph - 86)
    ink.poly(scribble(rng, x + 20, y + 22, rng.uniform(80, 130), 14), 1.3, st.ink)
    ink.line(x, y + 30, x + wd * 0.7, y + 30, 0.5)
    ink.text(x, y + 40, "Signature", st.f(), 7)
    y += 44
    if f.prescriber:
        ink.text(x, y + 10, prescriber_name(f, rng, allow_dr=False), st.f("b"), 9)
        if f.show_npi:
            ink.text(x + wd * 0.55, y + 10, f"NPI {f.prescriber.npi}", st.f(), 8)
    ink.text(
        x,
        py + ph - 8,
        rng.choice(["Substitution permitted", "Refills: 0", "Void if altered"]),
        st.f(),
        6.5,
    )
    return [Page(ink.items)], "rx_pad"


def fax_cover_page(
    f: Facts, rng: random.Random, st: Style, n_pages: int, fax_date: dt.date
) -> Page:
    ink = Ink()
    m = st.margin
    x, wd = m, PAGE_W - 2 * m
    y = rng.uniform(60, 90)
    t = rng.choice(["FAX", "Fax Cover Sheet", "FACSIMILE TRANSMITTAL", "fax", "FAX COVER"])
    size = rng.uniform(26, 44)
    if rng.random() < 0.5:
        ink.ctext(x + wd / 2, y + size, t, st.h("b"), size)
    else:
        ink.text(x, y + size, t, st.h("b"), size)
    y += size + 16
    ink.text(x, y + 12, f.clinic["name"], st.f("b"), 12)
    y += 18
    for ln in clinic_lines(f, rng):
        ink.text(x, y + st.size, ln, st.f(), st.size)
        y += st.size * 1.3
    y += 14
    sender = f"{f.staff}, MA" if f.prescriber and rng.random() < 0.5 else f.clinic["name"]
    rows = [
        ("To:", rng.choice(MASSAGE_CLINICS)),
        ("Fax:", f"(206) 555-01{rng.randint(0, 99):02d}"),
        ("From:", sender),
        ("Phone:", f.clinic["phone"]),
        ("Date:", fmt_date(fax_date, rng)),
        (
            "Pages:",
            rng.choice([f"{n_pages}", f"{n_pages} (including cover)", f"{n_pages} incl. cover"]),
        ),
        (
            "Re:",
            rng.choice(
                [
                    "Massage referral",
                    "Referral",
                    "Rx for massage therapy",
                    "Patient referral",
                    "Orders",
                ]
            ),
        ),
    ]
    if rng.random() < 0.4:
        rows = rows[:2] + rows[4:6] + rows[2:4] + rows[6:]
    tab = rng.uniform(60, 90)
    for k, v in rows:
        ink.text(x, y + 13, k, st.f("b"), 12)
        ink.text(x + tab, y + 13, v, st.f(), 12)
        ink.line(x + tab - 4, y + 16, x + wd * 0.75, y + 16, 0.4)
        y += 24
    y += 10
    cx = x
    for opt in ["Urgent", "For Review", "Please Comment", "Please Reply"]:
        _checkbox(ink, cx, y + 10, 9, opt == "For Review" and rng.random() < 0.6, st, False)
        cx = ink.text(cx + 13, y + 10, opt, st.f(), 10) + 18
    y += 30
    ink.text(x, y + 11, "Comments:", st.f("b"), 11)
    y += 16
    y = ink.para(
        x,
        y,
        wd,
        rng.choice(
            [
                "Please see attached referral for medical massage. Call with questions.",
                "Attached: massage therapy order. Please schedule the patient.",
                "Referral attached. Please fax appointment confirmation back to our office.",
            ]
        ),
        st.f(),
        st.size,
    )
    y = max(y + 30, PAGE_H - 150)
    ink.para(
        x,
        y,
        wd,
        "CONFIDENTIALITY NOTICE: This facsimile contains protected health "
        "information that is privileged and confidential under federal and state law. "
        "If you are not the intended recipient, any review, disclosure, copying or "
        "distribution is prohibited. If you received this fax in error, please notify the "
        "sender immediately and destroy all copies.",
        st.f("i"),
        7.5,
    )
    return Page(ink.items)


def fax_header_items(f: Facts, rng: random.Random, fax_date: dt.date, n_pages: int) -> list:
    """The line a sending fax machine prints on top of every page."""
    stamp = fax_stamp(fax_date, rng)
    font = rng.choice(["mono", "mono", "sans", "cond"])
    size = rng.uniform(7, 9)
    c = f.clinic
    name = c["name"].upper()[: rng.randint(12, 24)]
    style = rng.randrange(3)
    out = []
    for i in range(n_pages):
        if style == 0:
            s = f"{stamp}   FROM: {c['fax_digits']}  {name}   TO: 2065550199   P.{i + 1}/{n_pages}"
        elif style == 1:
            s = f"{stamp}  {name}  {c['fax']}  >>  Page {i + 1:03d} of {n_pages:03d}"
        else:
            s = f"From: {name}  Fax: {c['fax']}  {stamp}  #{rng.randint(100, 999)} P{i + 1}"
        ink = Ink()
        ink.text(rng.uniform(10, 30), rng.uniform(11, 16), s, font, size)
        out.append(ink.items)
    return out


SINGLE_LAYOUTS = ["letterhead", "letterhead", "form", "letter", "chart_note1", "rx_pad"]
ALL_LAYOUTS = [
    "letterhead",
    "letterhead",
    "letterhead_2page",
    "form",
    "letter",
    "chart_note",
    "rx_pad",
    "fax_cover",
]


def build(f: Facts, rng: random.Random, st: Style, layout: str) -> tuple[list, str]:
    if layout == "letterhead":
        return layout_letterhead(f, rng, st, two_page=False)
    if layout == "letterhead_2page":
        return layout_letterhead(f, rng, st, two_page=True)
    if layout == "form":
        return layout_form(f, rng, st)
    if layout == "letter":
        return layout_letter(f, rng, st)
    if layout in ("chart_note", "chart_note1"):
        return layout_chart_note(f, rng, st, single=layout == "chart_note1")
    if layout == "rx_pad":
        return layout_rx_pad(f, rng, st)
    raise ValueError(layout)
