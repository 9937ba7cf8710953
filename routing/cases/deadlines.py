"""Statutory clocks: rule sets as data, calendar and working days, extensions, pauses, sweeps.

Rule sets live in ``routing/data/deadlines/*.yaml`` (``national``: 信访工作条例 2022 and the
mediation laws; ``zhejiang``: 浙江省信访条例 2016, inheriting the national clocks it does not
redefine). ``stricter`` (the default) takes, per clock, the rule giving the earlier due date.

Counting follows the usual rules for legal periods: the period starts the day after the event;
working days follow the official calendar, 调休 make-up workdays included (``chinese_calendar``);
when the last day of a calendar-day period is a rest day or public holiday (法定休假日), the period
ends on the first working day after it (民法典 第二百零三条).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from routing.cases.events import SYSTEM_ACTOR, Event, make_event

CLOCK_NAMES: tuple[str, ...] = (
    "petition_register",
    "petition_notify",
    "transfer_objection",
    "petition_handle",
    "review_request",
    "review_decide",
    "recheck_request",
    "recheck_decide",
    "mediation",
    "labour_mediation",
    "court_confirmation",
)
RULE_SET_NAMES: tuple[str, ...] = ("national", "zhejiang")
RULE_CHOICES: tuple[str, ...] = ("national", "zhejiang", "stricter")
# On an equal due date the provincial rule is named: the deployment is in Zhejiang.
_TIE_ORDER = {"zhejiang": 0, "national": 1}

Unit = Literal["calendar", "working"]
DATA_DIR = Path(__file__).parents[1] / "data" / "deadlines"


class DeadlineError(ValueError):
    """Base class for deadline errors."""


class CalendarRangeError(DeadlineError):
    """A date lies outside the years the official holiday calendar covers."""


class UnknownClockError(DeadlineError):
    """A clock or rule set name that the data does not define."""


class ExtensionError(DeadlineError):
    """An extension without approver or reason, on a clock that allows none, or too long."""


class PauseError(DeadlineError):
    """A pause on a clock that cannot pause, or an inconsistent pause/resume."""


# ---------------------------------------------------------------- calendar


def _calendar_module():
    import chinese_calendar  # lazy: nothing happens at import time

    return chinese_calendar


# Statutory holidays on fixed solar dates (全国年节及纪念日放假办法): 元旦, 劳动节, 国庆节.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
NOTICES_FILE = Path(__file__).parents[1] / "data" / "calendar" / "holiday_notices.yaml"


@dataclass(frozen=True, slots=True)
class YearNotice:
    """One year's official holiday arrangement (国务院办公厅关于某年部分节假日安排的通知).

    Attributes:
        year: the year it arranges.
        source: the notice's title and number, as published.
        holidays: days off (法定节假日 and the rest days moved next to them).
        workdays: make-up working days (调休上班) that fall on a weekend.
    """

    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_workday(self, day: date) -> bool:
        """Tell whether ``day`` (in this year) is a working day under the notice."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def load_notices(path: Path | str) -> dict[int, YearNotice]:
    """Read a notices file (YAML: ``years: {2027: {source, holidays: [...], workdays: [...]}}``).

    Raises:
        DeadlineError: a date outside its year, a day both off and on, or a malformed entry.
    """
    import yaml  # lazy

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out: dict[int, YearNotice] = {}
    for year, spec in (raw.get("years") or {}).items():
        spec = spec or {}
        try:
            holidays = frozenset(_as_date(d) for d in spec.get("holidays") or ())
            workdays = frozenset(_as_date(d) for d in spec.get("workdays") or ())
        except (TypeError, ValueError) as exc:
            raise DeadlineError(f"{path}: year {year}: {exc}") from None
        if any(d.year != int(year) for d in holidays | workdays):
            raise DeadlineError(f"{path}: year {year} lists a day of another year")
        if holidays & workdays:
            raise DeadlineError(f"{path}: year {year}: a day is both off and a working day")
        if not spec.get("source"):
            raise DeadlineError(f"{path}: year {year} needs the notice it comes from (source)")
        out[int(year)] = YearNotice(int(year), str(spec["source"]), holidays, workdays)
    return out


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class HolidayCalendar:
    """Working days from the official data: published notices first, then ``chinese_calendar``.

    A year that neither source covers raises :class:`CalendarRangeError`, unless the calendar
    estimates unknown years (case processing must not stop when a clock runs into a year whose
    holidays are not published yet): then a day there is a working day unless it is a weekend or
    a fixed-date statutory holiday, and :meth:`is_estimated` tells callers the answer is an
    estimate. The `fengqiao deadline` command keeps the strict behaviour (a clear error).

    The composition root (``fengqiao.bootstrap``) builds one calendar for every process.
    """

    def __init__(self, notices: Mapping[int, YearNotice] | None = None, *,
                 estimate_unknown_years: bool = False) -> None:
        """Build a calendar.

        Args:
            notices: official notices by year (they win over the package's data for that year).
            estimate_unknown_years: estimate years that no source covers instead of raising.
        """
        self.notices: Mapping[int, YearNotice] = dict(notices or {})
        self.estimate_unknown_years = estimate_unknown_years

    def __repr__(self) -> str:
        return (f"HolidayCalendar(notice_years={sorted(self.notices)}, "
                f"estimate_unknown_years={self.estimate_unknown_years})")

    def _known(self, day: date) -> bool:
        if day.year in self.notices:
            return self.notices[day.year].is_workday(day)
        return _official_workday(day)

    def is_estimated(self, day: date) -> bool:
        """Tell whether ``day`` lies in a year no source covers (its working days are estimated)."""
        try:
            self._known(day)
        except CalendarRangeError:
            return True
        return False

    def is_workday(self, day: date) -> bool:
        """Tell whether ``day`` is an official working day (调休 make-up days included).

        Raises:
            CalendarRangeError: no source covers the year and the calendar does not estimate.
        """
        try:
            return self._known(day)
        except CalendarRangeError:
            if not self.estimate_unknown_years:
                raise
            return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS

    def next_workday(self, day: date) -> date:
        """Return ``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day


# The strict official calendar: the package's data only, no estimates (the default argument).
OFFICIAL = HolidayCalendar()


def load_calendar(*, estimate_unknown_years: bool, extra_notices: Iterable[Path | str] = ()) -> HolidayCalendar:
    """Build the calendar from the project's notices file and any operator files.

    Args:
        estimate_unknown_years: estimate years no source covers (case processing) or raise.
        extra_notices: more notices files (later files win for the same year).
    """
    notices: dict[int, YearNotice] = {}
    for path in (NOTICES_FILE, *extra_notices):
        notices.update(load_notices(path))
    return HolidayCalendar(notices, estimate_unknown_years=estimate_unknown_years)


def is_provisional(day: date, calendar: HolidayCalendar = OFFICIAL) -> bool:
    """Tell whether working days up to ``day`` can only be estimated (no official data yet)."""
    return calendar.is_estimated(day)


@lru_cache(maxsize=4096)
def _official_workday(day: date) -> bool:
    try:
        return bool(_calendar_module().is_workday(day))
    except NotImplementedError as exc:
        raise CalendarRangeError(
            f"{day.isoformat()} 超出法定节假日日历的数据范围（{exc}），无法计算工作日；"
            "请升级 chinese-calendar 或在节假日通知文件中补充当年节假日安排"
        ) from None


def is_workday(day: date, calendar: HolidayCalendar = OFFICIAL) -> bool:
    """Tell whether ``day`` is an official working day (see :class:`HolidayCalendar`)."""
    return calendar.is_workday(day)


def next_workday(day: date, calendar: HolidayCalendar = OFFICIAL) -> date:
    """Return ``day`` itself if it is a working day, else the first working day after it."""
    return calendar.next_workday(day)


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    """How far a clock may be extended and who must approve."""

    max_days: int
    approver_role: str
    article: str


@dataclass(frozen=True, slots=True)
class ClockRule:
    """One clock of one rule set, as read from data."""

    name: str
    label: str
    days: int
    unit: Unit
    article: str
    rule_set: str
    extension: ExtensionRule | None = None
    pausable: bool = False


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A named set of clock rules."""

    name: str
    title: str
    clocks: Mapping[str, ClockRule]

    def rule(self, clock: str) -> ClockRule:
        """Return the rule for ``clock`` or raise :class:`UnknownClockError`."""
        try:
            return self.clocks[clock]
        except KeyError:
            raise UnknownClockError(
                f"unknown clock {clock!r}; known: {', '.join(sorted(self.clocks))}"
            ) from None


@dataclass(frozen=True, slots=True)
class Extension:
    """An approved extension of a clock."""

    days: int
    approver: str
    reason: str
    granted_on: date


@dataclass(frozen=True, slots=True)
class Pause:
    """Days not counted, inclusive; ``end`` is None while the pause is open."""

    start: date
    end: date | None
    reason: str


@dataclass(frozen=True, slots=True)
class Clock:
    """A running clock on a case: rule, start event date, extensions, pauses, stop."""

    name: str
    rule: ClockRule
    start: date
    case_id: str = ""
    extensions: tuple[Extension, ...] = ()
    pauses: tuple[Pause, ...] = ()
    stopped_on: date | None = None
    calendar: HolidayCalendar = field(default=OFFICIAL, compare=False, repr=False)

    @property
    def total_days(self) -> int:
        """Days of the period including approved extensions."""
        return self.rule.days + sum(e.days for e in self.extensions)

    def due(self, as_of: date | None = None) -> date:
        """Return the due date.

        Args:
            as_of: needed only while a pause is open: the pause is taken to last until then.

        Raises:
            PauseError: a pause is open and ``as_of`` is not given.
            CalendarRangeError: a date beyond the official calendar's data is needed.
        """
        pauses = tuple(_closed(p, as_of) for p in self.pauses)
        return due_date(self.start, self.total_days, self.rule.unit, pauses, self.calendar)


@dataclass(frozen=True, slots=True)
class Due:
    """The answer for one clock: due date with the rule and article that set it."""

    clock: str
    label: str
    start: date
    due: date
    rule: str
    rule_title: str
    article: str
    days: int
    unit: Unit
    estimated: bool = False

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "clock": self.clock,
            "label": self.label,
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
            "rule": self.rule,
            "rule_title": self.rule_title,
            "article": self.article,
            "days": self.days,
            "unit": self.unit,
            "estimated": self.estimated,
        }


@dataclass(frozen=True, slots=True)
class ClockAlert:
    """A clock found near due or overdue by :func:`scan`."""

    case_id: str
    clock: str
    due: date
    status: Literal["near_due", "overdue"]
    days_left: int
    article: str


def _closed(p: Pause, as_of: date | None) -> Pause:
    if p.end is not None:
        return p
    if as_of is None:
        raise PauseError("the clock has an open pause: give as_of to compute its due date")
    return Pause(p.start, max(as_of, p.start), p.reason)


def _paused(day: date, pauses: tuple[Pause, ...]) -> bool:
    return any(p.start <= day <= p.end for p in pauses if p.end is not None)


def due_date(start: date, days: int, unit: Unit, pauses: tuple[Pause, ...] = (),
             calendar: HolidayCalendar = OFFICIAL) -> date:
    """Count a period from the day after ``start``.

    Args:
        start: the day of the event that starts the clock (not counted).
        days: the length of the period.
        unit: ``calendar`` or ``working``.
        pauses: closed pauses; their days are not counted.
        calendar: the holiday calendar (the strict official one by default).

    Returns:
        The last day of the period.

    Raises:
        CalendarRangeError: a needed date lies beyond the official calendar's data.
    """
    if days < 0:
        raise DeadlineError("a period cannot be negative")
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if _paused(day, pauses):
            continue
        if unit == "calendar" or calendar.is_workday(day):
            counted += 1
    if unit == "calendar":
        day = calendar.next_workday(day)
    return day


# ---------------------------------------------------------------- rule sets


def _read_yaml(name: str) -> dict:
    import yaml  # lazy

    path = DATA_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UnknownClockError(f"unknown rule set {name!r}; known: {', '.join(RULE_SET_NAMES)}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _clock_rule(rule_set: str, name: str, raw: Mapping) -> ClockRule:
    ext = raw.get("extension")
    unit = raw.get("unit", "calendar")
    if unit not in ("calendar", "working"):
        raise DeadlineError(f"{rule_set}.{name}: unit must be calendar or working, not {unit!r}")
    return ClockRule(
        name=name,
        label=str(raw.get("label", name)),
        days=int(raw["days"]),
        unit=unit,
        article=str(raw["article"]),
        rule_set=rule_set,
        extension=ExtensionRule(int(ext["max_days"]), str(ext["approver_role"]), str(ext["article"]))
        if ext
        else None,
        pausable=bool(raw.get("pausable", False)),
    )


@lru_cache(maxsize=8)
def load_rule_set(name: str) -> RuleSet:
    """Load a rule set from ``routing/data/deadlines/<name>.yaml`` (with its ``inherits``).

    Args:
        name: ``national`` or ``zhejiang`` (or any file an administrator adds).

    Returns:
        The rule set; inherited clocks keep the rule set they come from.
    """
    raw = _read_yaml(name)
    clocks: dict[str, ClockRule] = {}
    if raw.get("inherits"):
        clocks.update(load_rule_set(str(raw["inherits"])).clocks)
    for clock, spec in (raw.get("clocks") or {}).items():
        clocks[clock] = _clock_rule(str(raw.get("name", name)), clock, spec)
    return RuleSet(name=name, title=str(raw.get("title", name)), clocks=clocks)


def _candidate_rules(clock: str, rules: str) -> list[ClockRule]:
    if rules not in RULE_CHOICES:
        raise UnknownClockError(f"unknown rules {rules!r}; choose one of {', '.join(RULE_CHOICES)}")
    names = RULE_SET_NAMES if rules == "stricter" else (rules,)
    found = {id(r): r for r in (load_rule_set(n).rule(clock) for n in names)}
    return list(found.values())


def choose_rule(clock: str, start: date, rules: str = "stricter", calendar: HolidayCalendar = OFFICIAL) -> ClockRule:
    """Return the rule that governs ``clock`` for an event on ``start``.

    Args:
        clock: one of :data:`CLOCK_NAMES`.
        start: the event date (the stricter rule may depend on holidays after it).
        rules: ``national``, ``zhejiang`` or ``stricter`` (earlier due date wins).

    Raises:
        UnknownClockError: unknown clock or rules.
    """
    candidates = _candidate_rules(clock, rules)
    return min(
        candidates,
        key=lambda r: (due_date(start, r.days, r.unit, calendar=calendar), _TIE_ORDER.get(r.rule_set, 9)),
    )


def compute_due(clock: str, start: date, rules: str = "stricter", calendar: HolidayCalendar = OFFICIAL) -> Due:
    """Compute a clock's due date and name the rule and article behind it.

    Args:
        clock: clock name, e.g. ``petition_register``.
        start: the date of the event that starts it.
        rules: ``national``, ``zhejiang`` or ``stricter``.
        calendar: the holiday calendar (strict official data by default).

    Returns:
        The :class:`Due` answer; ``estimated`` is True when the calendar had to estimate.
    """
    rule = choose_rule(clock, start, rules, calendar)
    return Due(
        clock=clock,
        label=rule.label,
        start=start,
        due=(due := due_date(start, rule.days, rule.unit, calendar=calendar)),
        rule=rule.rule_set,
        rule_title=load_rule_set(rule.rule_set).title,
        article=rule.article,
        days=rule.days,
        unit=rule.unit,
        estimated=calendar.is_estimated(due),
    )


# ---------------------------------------------------------------- clocks on a case


def start_clock(clock: str, start: date, rules: str = "stricter", case_id: str = "",
                calendar: HolidayCalendar = OFFICIAL) -> Clock:
    """Start a clock on a case with the governing rule chosen now."""
    return Clock(name=clock, rule=choose_rule(clock, start, rules, calendar), start=start, case_id=case_id,
                 calendar=calendar)


def extend(
    clock: Clock, days: int, approver: str, reason: str, on: date, *, at: datetime | None = None
) -> tuple[Clock, Event]:
    """Extend a clock, with the approval the law requires (e.g. 信访工作条例 第三十四条).

    Args:
        clock: the running clock.
        days: extra days (> 0); all extensions together stay within the rule's maximum.
        approver: who approved (a person id or name); required.
        reason: why (told to the citizen); required.
        on: the approval date (must fall before the current due date).
        at: event time.

    Returns:
        The extended clock and a ``clock_extended`` event.

    Raises:
        ExtensionError: no extension allowed, missing approver or reason, too long or too late.
    """
    ext = clock.rule.extension
    if ext is None:
        raise ExtensionError(f"clock {clock.name} ({clock.rule.article}) allows no extension")
    if not approver.strip() or not reason.strip():
        raise ExtensionError(f"an extension needs an approver ({ext.approver_role}) and a reason")
    used = sum(e.days for e in clock.extensions)
    if days <= 0 or used + days > ext.max_days:
        raise ExtensionError(
            f"extension of {days} days exceeds the maximum {ext.max_days} ({ext.article}); "
            f"{used} already granted"
        )
    if on > clock.due(as_of=on):
        raise ExtensionError("an extension must be approved before the clock is due")
    new = replace(clock, extensions=clock.extensions + (Extension(days, approver, reason, on),))
    event = make_event(
        "clock_extended",
        approver,
        reason,
        case_id=clock.case_id,
        at=at,
        payload={
            "clock": clock.name,
            "days": days,
            "article": ext.article,
            "due": new.due(as_of=on).isoformat(),
        },
    )
    return new, event


def pause(clock: Clock, on: date, reason: str, actor: str = SYSTEM_ACTOR) -> tuple[Clock, Event]:
    """Pause a pausable clock from ``on`` (inclusive), e.g. for a hearing (信访工作条例 第三十六条)."""
    if not clock.rule.pausable:
        raise PauseError(f"clock {clock.name} cannot pause ({clock.rule.article})")
    if any(p.end is None for p in clock.pauses):
        raise PauseError("the clock is already paused")
    new = replace(clock, pauses=clock.pauses + (Pause(on, None, reason),))
    ev = make_event(
        "clock_paused", actor, reason, case_id=clock.case_id, payload={"clock": clock.name, "from": on.isoformat()}
    )
    return new, ev


def resume(clock: Clock, on: date, actor: str = SYSTEM_ACTOR) -> tuple[Clock, Event]:
    """Resume a paused clock; ``on`` is the last day not counted."""
    open_ = [p for p in clock.pauses if p.end is None]
    if not open_:
        raise PauseError("the clock is not paused")
    if on < open_[0].start:
        raise PauseError("a pause cannot end before it starts")
    closed = tuple(Pause(p.start, on, p.reason) if p.end is None else p for p in clock.pauses)
    new = replace(clock, pauses=closed)
    ev = make_event(
        "clock_resumed",
        actor,
        "",
        case_id=clock.case_id,
        payload={"clock": clock.name, "until": on.isoformat(), "due": new.due().isoformat()},
    )
    return new, ev


def stop(clock: Clock, on: date) -> Clock:
    """Stop a clock (its duty was met on ``on``); a stopped clock is never near due or overdue."""
    return replace(clock, stopped_on=on)


def scan(clocks: Iterable[Clock], as_of: date, near_days: int = 3) -> list[ClockAlert]:
    """Find near-due and overdue clocks.

    Args:
        clocks: running clocks (stopped ones are skipped).
        as_of: the day of the sweep.
        near_days: a clock due within this many calendar days (and not past) is near due.

    Returns:
        Alerts, overdue first, then by due date.
    """
    alerts: list[ClockAlert] = []
    for clock in clocks:
        if clock.stopped_on is not None:
            continue
        due = clock.due(as_of=as_of)
        left = (due - as_of).days
        if left < 0 or left <= near_days:
            status: Literal["near_due", "overdue"] = "overdue" if left < 0 else "near_due"
            alerts.append(ClockAlert(clock.case_id, clock.name, due, status, left, clock.rule.article))
    alerts.sort(key=lambda a: (a.status != "overdue", a.due))
    return alerts


def alert_events(alerts: Iterable[ClockAlert], at: datetime | None = None) -> list[Event]:
    """Turn sweep alerts into ``deadline_near_due`` / ``deadline_overdue`` events."""
    return [
        make_event(
            f"deadline_{a.status}",
            SYSTEM_ACTOR,
            f"{a.clock} 期限 {a.due.isoformat()}（{a.article}）",
            case_id=a.case_id,
            at=at,
            payload={"clock": a.clock, "due": a.due.isoformat(), "days_left": a.days_left},
        )
        for a in alerts
    ]
