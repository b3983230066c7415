"""The daily report of rejected referrals: gathered from the store, written, e-mailed."""

from pipeline.report.data import DailyReport, RejectedRow, build_report, day_bounds, yesterday
from pipeline.report.delivery import DeliveryError, ReportScheduler, report_dir, send_report
from pipeline.report.render import write

__all__ = [
    "DailyReport",
    "DeliveryError",
    "RejectedRow",
    "ReportScheduler",
    "build_report",
    "day_bounds",
    "report_dir",
    "send_report",
    "write",
    "yesterday",
]
