"""Daily compliance reports: data collection from the findings store, the Chinese HTML report
(Jinja2 template, inline charts) and the Excel workbook. No Dagster here: the report asset in
`wxpipeline.assets.reports` and the CLI call `write_daily_report`."""

from wxpipeline.reports.build import ReportFiles, write_daily_report
from wxpipeline.reports.data import ReportData, collect_report

__all__ = ["ReportData", "ReportFiles", "collect_report", "write_daily_report"]
