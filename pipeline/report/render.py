"""Writing a day's report: a self-contained HTML page, a CSV file and, optionally, a PDF.

The HTML has its style inline and its chart as inline SVG drawn here (no scripts, no
external files), so it can be e-mailed, opened offline and printed. Jinja2 escapes every
value (autoescape), the chart's labels included, since the template draws the bars.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from jinja2 import Environment

from pipeline.report.data import CSV_FIELDS, DailyReport

CHART_WIDTH = 720
LABEL_WIDTH = 380
BAR_HEIGHT = 22
BAR_GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: float
    width: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    width: int = CHART_WIDTH
    bar_height: int = BAR_HEIGHT


def chart(title: str, counts: list[tuple[str, int]]) -> Chart:
    """Horizontal bars, one per (label, count), scaled to the largest count."""
    largest = max((count for _, count in counts), default=0) or 1
    room = CHART_WIDTH - LABEL_WIDTH - 50
    bars = [
        Bar(
            label=label if len(label) <= 58 else label[:57] + "\u2026",
            count=count,
            y=index * (BAR_HEIGHT + BAR_GAP),
            width=max(2.0, room * count / largest),
        )
        for index, (label, count) in enumerate(counts)
    ]
    return Chart(title=title, bars=bars, height=max(1, len(bars)) * (BAR_HEIGHT + BAR_GAP))


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rejected referrals {{ report.day.isoformat() }}</title>
<style>
  body { font-family: Arial, Helvetica, sans-serif; margin: 24px; color: #111; font-size: 14px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid #999; }
  .meta { color: #444; margin: 0 0 12px; }
  .figures { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
  .figure { border: 1px solid #999; border-radius: 4px; padding: 8px 14px; min-width: 110px; }
  .figure b { display: block; font-size: 24px; }
  .none { font-size: 16px; padding: 12px; border: 1px dashed #777; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #bbb; padding: 5px 7px; text-align: left; vertical-align: top; }
  th { background: #eee; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  .why { font-weight: bold; }
  .small { color: #444; font-size: 12px; }
  .tel { white-space: nowrap; }
  svg text { font-family: Arial, Helvetica, sans-serif; font-size: 12px; }
  @media print {
    body { margin: 0; font-size: 11px; }
    .figure { padding: 4px 8px; }
    @page { size: landscape; margin: 12mm; }
  }
</style>
</head>
<body>
<h1>Rejected referrals &mdash; {{ day_words }}</h1>
<p class="meta">Day {{ report.day.isoformat() }} in {{ report.timezone }}
  ({{ report.local_start.strftime("%H:%M %Z") }} to {{ report.local_end.strftime("%H:%M %Z") }},
  {{ hours }} hours).
  Written {{ report.generated_at.strftime("%Y-%m-%d %H:%M %Z") }}.</p>

<h2>The day's figures</h2>
<div class="figures">
  <div class="figure" id="arrived"><b>{{ report.arrived }}</b>arrived</div>
  <div class="figure" id="accepted"><b>{{ report.accepted }}</b>accepted</div>
  <div class="figure" id="rejected"><b>{{ report.rejected }}</b>rejected</div>
  <div class="figure" id="waiting"><b>{{ report.waiting }}</b>waiting for review</div>
  <div class="figure" id="processing"><b>{{ report.processing }}</b>still being read</div>
</div>
{% if report.oldest_waiting %}
<p id="oldest">Oldest waiting for review: referral #{{ report.oldest_waiting.id }}
  {%- if report.oldest_waiting.patient_name %}
 ({{ report.oldest_waiting.patient_name }}){% endif %},
  received {{ report.oldest_waiting.received_at.strftime("%Y-%m-%d %H:%M %Z") }},
  waiting {{ age(report.oldest_waiting.age) }} at the end of the day.</p>
{% else %}
<p id="oldest">Nothing was waiting for review at the end of the day.</p>
{% endif %}

{% if not report.rows %}
<p class="none" id="no-rejections">No referrals were rejected on {{ day_words }}.</p>
{% else %}
{% for c in charts %}
<h2>{{ c.title }}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ c.width }}" height="{{ c.height }}"
     viewBox="0 0 {{ c.width }} {{ c.height }}" role="img" aria-label="{{ c.title }}">
{% for bar in c.bars %}
  <text x="{{ c.label_width - 8 }}" y="{{ bar.y + 15 }}" text-anchor="end">{{ bar.label }}</text>
  <rect x="{{ c.label_width }}" y="{{ bar.y }}" width="{{ '%.1f' % bar.width }}"
        height="{{ c.bar_height }}" fill="#b5413b"></rect>
  <text x="{{ c.label_width + bar.width + 6 }}" y="{{ bar.y + 15 }}">{{ bar.count }}</text>
{% endfor %}
</svg>
{% endfor %}

<h2>Rejected referrals ({{ report.rows | length }})</h2>
<table id="rejected-referrals">
<thead><tr>
  <th>#</th><th>Patient</th><th>Prescriber</th><th>Payer</th><th>Codes</th>
  <th>Why it was rejected</th>
</tr></thead>
<tbody>
{% for row in report.rows %}
<tr>
  <td>{{ row.id }}<div class="small">received {{ row.received_at.strftime("%m/%d %H:%M") }};
    rejected {{ row.rejected_at.strftime("%m/%d %H:%M") }} by {{ row.rejected_by }}</div></td>
  <td>{{ row.patient_name or "name not found" }}
    <div class="small">DOB {{ row.patient_dob or "not found" }}</div></td>
  <td>{{ row.prescriber or "not found" }}
    {% if row.prescriber_npi %}<div class="small">NPI {{ row.prescriber_npi }}</div>{% endif %}
    <div class="small tel">Phone {{ row.prescriber_phone or "not shown" }}</div>
    <div class="small tel">Fax {{ row.prescriber_fax or "not shown" }}</div></td>
  <td>{{ row.payer or "not found" }}
    {% if row.claim_number %}<div class="small">Claim {{ row.claim_number }}</div>{% endif %}</td>
  <td>{% for code in row.codes %}<div><b>{{ code.code }}</b>
    {{ code.description or "(not in ICD-10-CM)" }}</div>{% else %}none found{% endfor %}</td>
  <td><div class="why">{{ row.why | join(" ") }}</div>
    {% if row.note %}<div class="small">Staff note: {{ row.note }}</div>{% endif %}
    {% if row.status_now != "rejected" %}<div class="small">Since changed to
      {{ row.status_now.replace("_", " ") }}.</div>{% endif %}</td>
</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</body>
</html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    return f"{hours} h {int(delta.total_seconds() % 3600 // 60)} min"


def day_words(report: DailyReport) -> str:
    return f"{report.day:%A} {report.day:%B} {report.day.day}, {report.day.year}"


def html(report: DailyReport) -> str:
    charts = [
        chart("Why referrals were rejected", report.reason_counts),
        chart("Diagnosis codes on rejected referrals", report.code_counts),
    ]
    hours = round((report.end - report.start).total_seconds() / 3600)
    return _TEMPLATE.render(
        report=report, charts=charts, age=age, day_words=day_words(report), hours=hours
    )


def paths(report: DailyReport, out: Path) -> dict[str, Path]:
    stem = f"rejected-{report.day.isoformat()}"
    return {kind: out / f"{stem}.{kind}" for kind in ("html", "csv", "pdf")}


def paths_for(day: date, out: Path) -> list[Path]:
    """The files a day's report may have: HTML, CSV, PDF."""
    return [out / f"rejected-{day.isoformat()}.{kind}" for kind in ("html", "csv", "pdf")]


def write(report: DailyReport, out: Path, pdf: bool = False) -> list[Path]:
    """Write the report's files into ``out``; each appears whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    targets = paths(report, out)
    _atomic(targets["html"], html(report).encode("utf-8"))
    _atomic(targets["csv"], csv_text(report).encode("utf-8"))
    written = [targets["html"], targets["csv"]]
    if pdf:
        from pipeline.report.pdf import pdf_bytes

        _atomic(targets["pdf"], pdf_bytes(report))
        written.append(targets["pdf"])
    return written


def csv_text(report: DailyReport) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in report.rows:
        writer.writerow(row.csv_row())
    return buffer.getvalue()


def _atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
