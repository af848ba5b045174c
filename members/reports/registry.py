"""The staff reports page's extension point: each app contributes a
``Report`` (its figures, the sections that show them, their charts and
their CSV downloads) from its own ``reports.py``, and the page composes
every registered report in order: members' first, then each app above it
in INSTALLED_APPS order (``MembersConfig.ready()`` loads them).

A report's ``figures`` run the database aggregates: the page caches them
together for ``REPORTS_CACHE_SECONDS``. ``charts`` and ``totals`` are
worked out from those figures on every request, without a query.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.utils.safestring import SafeString

from .period import Period


@dataclass(frozen=True)
class CsvReport:
    header: list[str]
    rows: Callable[[Period], Iterable[Iterable[object]]]


@dataclass(frozen=True)
class Section:
    """One section of the page: its id, which is also its anchor in "On
    this page", and its heading there."""

    anchor: str
    title: str


@dataclass(frozen=True)
class Report:
    """One app's part of the reports page.

    ``template`` renders ``sections``, each as an element with the
    section's ``anchor`` as its id. It sees the figures, totals and charts
    of every report on the page, and ``period``. ``csvs`` are served at
    ``/staff/reports/<slug>.csv``.
    """

    name: str
    template: str
    sections: tuple[Section, ...]
    figures: Callable[[Period], dict]
    charts: Callable[..., dict[str, SafeString]] = lambda **figures: {}
    totals: Callable[..., dict] = lambda **figures: {}
    csvs: dict[str, CsvReport] = field(default_factory=dict)


# Filled by ``register``, in the order the page shows them.
REPORTS: list[Report] = []
CSV_REPORTS: dict[str, CsvReport] = {}


def register(report: Report) -> Report:
    if any(known.name == report.name for known in REPORTS):
        raise ImproperlyConfigured(f"The {report.name} report is registered twice.")
    if taken := set(report.csvs) & set(CSV_REPORTS):
        raise ImproperlyConfigured(f"CSV reports registered twice: {sorted(taken)}")
    REPORTS.append(report)
    CSV_REPORTS.update(report.csvs)
    return report


def reports_figures(period: Period) -> dict[str, dict]:
    """Every report's figures, by report name: the queries of the page."""
    return {report.name: report.figures(period) for report in REPORTS}


def reports_context(figures: dict[str, dict]) -> dict:
    """The page's context from every report's figures: the figures
    themselves, their totals and, under ``charts``, their charts. Two
    reports giving the same name would show one's figures in the other's
    section, so that is refused."""
    context: dict = {}
    charts: dict[str, SafeString] = {}
    for report in REPORTS:
        own = figures[report.name]
        for part, target in (
            (own, context),
            (report.totals(**own), context),
            (report.charts(**own), charts),
        ):
            if clash := set(part) & set(target):
                raise ImproperlyConfigured(
                    f"The {report.name} report reuses the names {sorted(clash)}."
                )
            target.update(part)
    context["charts"] = charts
    return context
