"""Dates for the staff reports: what "now" and "the last 12 months" mean,
in UK dates, and the small helpers every app's report sections share."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.utils import timezone

MONTHS = 12
T = TypeVar("T")


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def uk_midnight(day: datetime.date) -> datetime.datetime:
    """The start of ``day`` in UK time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of the month ``back`` months before ``day``'s (after
    it, for a negative ``back``)."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def last_months(today: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """The first days of the ``count`` months up to and including this one."""
    return [month_start(today, back) for back in range(count - 1, -1, -1)]


def rate(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, to one decimal place."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Period:
    """What "now" and "the last 12 months" mean for one set of figures."""

    today: datetime.date
    now: datetime.datetime
    months: list[datetime.date]
    # What ``shared`` has worked out, by name. Not part of the period's
    # identity, and not kept when the period is cached with the figures.
    _shared: dict[str, object] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_shared": {}}

    @classmethod
    def current(cls) -> "Period":
        now = timezone.now()
        today = timezone.localdate(now)
        return cls(today=today, now=now, months=last_months(today))

    def shared(self, name: str, work_out: Callable[[], T]) -> T:
        """``work_out()``, called once for this period however many reports
        ask for it by ``name``: figures that more than one report draws on
        come from one query."""
        if name not in self._shared:
            self._shared[name] = work_out()
        return self._shared[name]  # type: ignore[return-value]

    @property
    def since(self) -> datetime.date:
        return self.months[0]

    @property
    def since_at(self) -> datetime.datetime:
        return uk_midnight(self.since)


def month_label(month: datetime.date) -> str:
    return month.strftime("%B %Y")


def month_ticks(months: list[datetime.date]) -> list[str]:
    """Short labels under a chart: the year, on a line of its own, only
    where it changes."""
    return [
        month.strftime("%b\n%Y" if i == 0 or month.month == 1 else "%b")
        for i, month in enumerate(months)
    ]


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
