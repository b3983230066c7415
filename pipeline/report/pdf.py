"""A printable PDF copy of the day's report (reportlab), written when ``[report] pdf = true``."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from pipeline.report.data import DailyReport
from pipeline.report.render import age, day_words


def pdf_bytes(report: DailyReport) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)

    def para(text: str, style=small) -> Paragraph:
        return Paragraph(escape(text), style)

    story = [
        para(f"Rejected referrals - {day_words(report)}", styles["Title"]),
        para(f"Day {report.day.isoformat()} in {report.timezone}", styles["BodyText"]),
        Spacer(1, 8),
        para(
            f"Arrived {report.arrived}   Accepted {report.accepted}   Rejected {report.rejected}"
            f"   Waiting for review {report.waiting}   Still being read {report.processing}",
            styles["BodyText"],
        ),
    ]
    if report.oldest_waiting:
        oldest = report.oldest_waiting
        story.append(
            para(
                f"Oldest waiting for review: #{oldest.id}, received "
                f"{oldest.received_at:%Y-%m-%d %H:%M %Z}, waiting {age(oldest.age)}",
                styles["BodyText"],
            )
        )
    story.append(Spacer(1, 8))
    if not report.rows:
        none = f"No referrals were rejected on {day_words(report)}."
        story.append(para(none, styles["Heading2"]))
    else:
        reasons = [[para("Why referrals were rejected"), para("Referrals")]]
        reasons += [[para(label), para(str(count))] for label, count in report.reason_counts]
        story += [_table(reasons, [5 * inch, 1 * inch]), Spacer(1, 10)]
        rows = [[para(h) for h in ("#", "Patient", "Prescriber", "Payer", "Codes", "Why")]]
        for row in report.rows:
            codes = "; ".join(f"{c.code} {c.description or ''}".strip() for c in row.codes)
            rows.append(
                [
                    para(str(row.id)),
                    para(f"{row.patient_name or '-'}\nDOB {row.patient_dob or '-'}"),
                    para(
                        f"{row.prescriber or '-'}; phone {row.prescriber_phone or 'not shown'};"
                        f" fax {row.prescriber_fax or 'not shown'}"
                    ),
                    para(row.payer or "-"),
                    para(codes or "-"),
                    para(" ".join(row.why) + (f" Staff note: {row.note}" if row.note else "")),
                ]
            )
        widths = [0.4 * inch, 1.5 * inch, 1.9 * inch, 1.0 * inch, 2.2 * inch, 2.8 * inch]
        story.append(_table(rows, widths))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(letter),
        title=f"Rejected referrals {report.day.isoformat()}",
        leftMargin=0.5 * inch,
        rightMargin=0.5 * inch,
        topMargin=0.5 * inch,
        bottomMargin=0.5 * inch,
    )
    document.build(story)
    return buffer.getvalue()


def _table(rows: list[list], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
