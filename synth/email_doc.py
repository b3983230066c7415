"""RFC 5322 e-mail referrals built with the standard library's email package."""

from __future__ import annotations

import datetime as dt
import html
import random
import unicodedata
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from synth.content import Facts, fmt_date
from synth.layouts import MASSAGE_CLINICS, dx_lines, order_sentence, patient_name, prescriber_name


def _ascii(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s.lower() if ch.isascii() and ch.isalnum())


def sent_datetime(f: Facts, rng: random.Random) -> dt.datetime:
    day = f.rx_date + dt.timedelta(days=rng.choice([0, 0, 1, 1, 2, 3]))
    try:
        tz = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no tz database: approximate Pacific time
        tz = dt.timezone(dt.timedelta(hours=-7 if 3 < day.month < 11 else -8))
    return dt.datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(7, 18),
        rng.randint(0, 59),
        rng.randint(0, 59),
        tzinfo=tz,
    )


def _signature(f: Facts, rng: random.Random) -> list[str]:
    c = f.clinic
    out = []
    if f.prescriber:
        out.append(prescriber_name(f, rng))
        if f.show_npi:
            out.append(
                f"NPI {f.prescriber.npi}" if rng.random() < 0.6 else f"NPI: {f.prescriber.npi}"
            )
    else:
        out.append(rng.choice(["Front desk", "Referral coordinator", "Medical records"]))
    out.append(c["name"])
    if rng.random() < 0.7:
        out.append(f"{c['street']}, {c['city']}, WA {c['zip']}")
    out.append(f"Tel {c['phone']}  Fax {c['fax']}")
    return out


def body_referral(f: Facts, rng: random.Random) -> str:
    """The whole referral as a plain-text e-mail body."""
    lines = [rng.choice(["Hello,", "Hi,", "Good morning,", "Dear intake team,", "Hi there,"]), ""]
    pn = patient_name(f, rng)
    dob = fmt_date(f.dob, rng, allow_short_year=False)
    style = rng.randrange(2)
    if style == 0:
        lines.append(
            rng.choice(
                [
                    "Please schedule medical massage for our patient.",
                    "We are referring the following patient for massage therapy.",
                    "Referral for medical massage below.",
                ]
            )
        )
        lines.append("")
        lines.append(f"Patient: {pn}, DOB {dob}")
        if f.payer_key:
            ins = f"Insurance: {f.payer_text}"
            if f.claim_number:
                ins += f", claim {f.claim_number}"
            if f.member_id:
                ins += f", member ID {f.member_id}"
            lines.append(ins)
        dxl = dx_lines(f, rng)
        lines.append(("Diagnoses: " if f.dx else "Diagnosis: ") + "; ".join(dxl))
        if f.freq_text or f.dur_text or f.shorthand:
            order = order_sentence(f, rng)
            lines.append(order[0].upper() + order[1:] + ".")
        else:
            lines.append("Massage therapy, evaluate and treat.")
        if f.visits_text and f.visits_text.startswith(("Total", "#", "Number")):
            lines.append(f.visits_text)
        if f.show_rx_date:
            lines.append(f"Order date: {fmt_date(f.rx_date, rng)}")
        lines.append("")
        lines.append(" ".join(f.history))
    else:
        when = f" on {fmt_date(f.rx_date, rng)}" if f.show_rx_date else ""
        has_order = f.freq_text or f.dur_text or f.shorthand
        order = order_sentence(f, rng) if has_order else "medical massage"
        lines.append(f"I saw {pn} (DOB {dob}){when} and would like to refer them for {order}.")
        lines.append("")
        if f.dx:
            lines.append(
                "Dx: " + ", ".join(f"{d.written} ({d.desc})" if d.desc else d.written for d in f.dx)
            )
        else:
            lines.append("Dx: " + ", ".join(f.dx_only_desc))
        lines.append(" ".join(f.history))
        if f.meds:
            lines.append("Meds: " + ", ".join(f.meds))
        if f.payer_key:
            lines.append(
                f"Coverage: {f.payer_text}"
                + (f" (claim # {f.claim_number})" if f.claim_number else "")
            )
    if f.followup:
        lines.append(f.followup)
    lines += ["", rng.choice(["Thank you,", "Thanks,", "Best,", "Sincerely,"])]
    lines += _signature(f, rng)
    return "\n".join(lines) + "\n"


def short_body(f: Facts, rng: random.Random) -> str:
    pn = patient_name(f, rng) if rng.random() < 0.6 else "our patient"
    who = f"{f.staff}\n{f.clinic['name']}" if f.prescriber else f.clinic["name"]
    return (
        rng.choice(["Hello,", "Hi,", "Good afternoon,"])
        + "\n\n"
        + rng.choice(
            [
                f"Please see the attached referral for {pn}.",
                f"Attached is a massage therapy order for {pn}. Please call to schedule.",
                f"Sending over the referral for {pn}, see attachment.",
            ]
        )
        + "\n\n"
        + rng.choice(["Thanks,", "Thank you,"])
        + f"\n{who}\n"
    )


def _html(text: str) -> str:
    paras = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return f'<html><body style="font-family: Arial">{paras}</body></html>'


def build_eml(
    f: Facts,
    rng: random.Random,
    sent: dt.datetime,
    body: str | None,
    attachments: list[tuple[bytes, str, str, str]],
    subject: str | None = None,
) -> bytes:
    msg = EmailMessage(policy=policy.default)
    c = f.clinic
    if f.prescriber and rng.random() < 0.3:
        p = f.prescriber
        sender = f"{p.first} {p.last} <{_ascii(p.first)[:1]}{_ascii(p.last)}@{c['email_domain']}>"
    else:
        sender = (
            f"{c['name']} <{rng.choice(['frontdesk', 'referrals', 'office', 'fax'])}"
            f"@{c['email_domain']}>"
        )
    msg["From"] = sender
    to = rng.choice(MASSAGE_CLINICS)
    msg["To"] = f"{to} <intake@{to.lower().replace(' ', '').replace('&', 'and')}.example>"
    if subject is None:
        subject = rng.choice(
            [
                f"Massage referral for {f.patient.first} {f.patient.last}",
                "Referral",
                f"Rx - {f.patient.last}",
                "New patient referral",
                "Massage therapy order",
                "Referral attached",
            ]
        )
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = (
        f"<{rng.getrandbits(64):016x}.{rng.getrandbits(32):08x}@{c['email_domain']}>"
    )
    if body is not None:
        msg.set_content(body)
        if rng.random() < 0.25 and not attachments:
            msg.add_alternative(_html(body), subtype="html")
    for data, maintype, subtype, filename in attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for i, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_synth_{i}_{rng.getrandbits(48):012x}")
    return msg.as_bytes()
