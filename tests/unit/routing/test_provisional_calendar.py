"""Clocks that run into a year whose official holidays are not published yet."""

from __future__ import annotations

from datetime import date

import pytest

from routing.cases import deadlines

ESTIMATING = deadlines.HolidayCalendar(estimate_unknown_years=True)


def test_strict_by_default_beyond_the_calendar() -> None:
    with pytest.raises(deadlines.CalendarRangeError, match="超出法定节假日日历"):
        deadlines.compute_due("petition_register", date(2026, 12, 28), "zhejiang")


def test_case_processing_estimates_and_skips_new_year_zhejiang_art20() -> None:
    # 浙江省信访条例 Art. 20: 5 working days from 2026-12-28 (Mon): 12-29, 12-30, 12-31,
    # then 2027-01-01 (元旦, fixed statutory holiday) and the weekend are skipped: 01-04, 01-05.
    due = deadlines.compute_due("petition_register", date(2026, 12, 28), "zhejiang", ESTIMATING)
    assert due.due == date(2027, 1, 5)
    assert deadlines.is_provisional(due.due, ESTIMATING) and due.estimated
    assert not deadlines.is_provisional(date(2026, 12, 31), ESTIMATING)


def test_estimation_never_changes_published_years() -> None:
    # 2026 National Day: 10-01..10-07 off, Saturday 10-10 is a make-up working day.
    assert deadlines.compute_due("transfer_objection", date(2026, 9, 29), "national", ESTIMATING).due == date(2026, 10, 12)
