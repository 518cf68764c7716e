"""Adding calendar or working days to dates, by the calendar a deadline names.

* ``china`` (the default): the State Council's holiday arrangements including make-up working days
  (调休), from the maintained ``chinese-calendar`` package. For a year that package does not know yet,
  the count falls back to Monday–Friday and says so, rather than failing or silently guessing.
* ``weekdays``: Monday to Friday, as Excel's WORKDAY counts without a holiday list.
* ``company``: ``china`` with the company's own days off and working days from ``[calendar]`` in
  taizhang.toml.
"""

from __future__ import annotations

import datetime as dt
import math

import chinese_calendar
import pandas as pd

from .definitions import Deadline, Register


def calendar_for(register: Register, deadline: Deadline | None, calendars: dict[str, WorkdayCalendar]
                 ) -> WorkdayCalendar:
    """The calendar a deadline counts working days by (its own, else its register's, else ``china``),
    one instance per kind in ``calendars`` so that the years counted without the official calendar are
    remembered for the run's notes."""
    kind = (deadline.calendar if deadline is not None else None) or register.calendar or "china"
    if kind not in calendars:
        calendars[kind] = WorkdayCalendar(kind, register.days_off, register.working_days)
    return calendars[kind]


class WorkdayCalendar:
    """Counts working days; remembers the years it had to count without the official calendar."""

    def __init__(self, kind: str = "china", days_off: frozenset[dt.date] = frozenset(),
                 working: frozenset[dt.date] = frozenset()) -> None:
        self.kind = kind
        self.days_off, self.working = (days_off, working) if kind == "company" else (frozenset(), frozenset())
        self.unknown_years: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        if self.kind == "weekdays":
            return day.weekday() < 5
        if day in self.days_off:
            return False
        if day in self.working:
            return True
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            self.unknown_years.add(day.year)
            return day.weekday() < 5

    def add_workdays(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (0: ``start`` itself, or the next working day)."""
        day = start
        if count <= 0:
            while not self.is_workday(day):
                day += dt.timedelta(days=1)
            return day
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day

    def shift(self, starts: pd.Series, amount: float, unit: str, working: bool) -> pd.Series:
        """``starts`` (datetime64) moved on by a duration; NaT stays NaT."""
        if unit == "minutes":
            return starts + pd.Timedelta(minutes=amount)
        if unit == "hours":
            return starts + pd.Timedelta(hours=amount)
        if not working:
            return starts + pd.Timedelta(days=amount)
        days = math.ceil(amount)
        dates = starts.dt.normalize()
        unique = dates.dropna().unique()
        moved = {d: pd.Timestamp(self.add_workdays(pd.Timestamp(d).date(), days)) for d in unique}
        return dates.map(moved).astype("datetime64[ns]") + (starts - dates)

    @property
    def note_zh(self) -> str:
        years = "、".join(str(y) for y in sorted(self.unknown_years))
        return (f"chinese-calendar 尚无 {years} 年的法定节假日安排，这些年份的工作日按周一至周五计算；"
                "请升级 chinese-calendar" if years else "")

    @property
    def note_en(self) -> str:
        years = ", ".join(str(y) for y in sorted(self.unknown_years))
        return (f"chinese-calendar has no holiday arrangements for {years} yet; working days there were counted "
                "Monday to Friday; upgrade chinese-calendar" if years else "")
