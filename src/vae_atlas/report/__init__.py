"""The static HTML atlas: ``build_report`` for one run (or a user's model + data) and
``build_comparison`` for several runs side by side. Output is a folder of ``index.html`` + PNG/GIF
that opens offline."""

from vae_atlas.report.build import build_report, build_report_for_model, build_source_report
from vae_atlas.report.comparison import build_comparison
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import AtlasSource, source_from_model, source_from_run

__all__ = [
    "AtlasSource",
    "ReportOptions",
    "build_comparison",
    "build_report",
    "build_report_for_model",
    "build_source_report",
    "source_from_model",
    "source_from_run",
]
