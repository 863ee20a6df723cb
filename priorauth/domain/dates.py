"""Calendar arithmetic: whole months from a date, and the end of a period of months."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(start: dt.date, months: int) -> dt.date:
    """The same day some months later, or that month's last day when it is shorter."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def period_end(start: dt.date, months: int) -> dt.date:
    """The last day of a period of whole months that begins on ``start``.

    Three months from December 1 run through February 28 (or 29), not March 1.
    """
    return add_months(start, months) - dt.timedelta(days=1)
