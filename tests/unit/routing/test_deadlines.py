"""Statutory clocks: each test names the article whose period it checks.

Holiday facts for 2026 were read from chinese_calendar 1.11 (the official 2026 schedule):
May Day 5/1–5/5 off with Saturday 5/9 a make-up workday; Mid-autumn 9/25–9/27 off; National
Day 10/1–10/7 off with Sunday 9/20 and Saturday 10/10 make-up workdays.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from fengqiao.commands import deadline as deadline_cmd
from routing.cases import deadlines as dl
from routing.cases.deadlines import (
    CLOCK_NAMES,
    CalendarRangeError,
    ExtensionError,
    PauseError,
    compute_due,
    due_date,
    is_workday,
    start_clock,
)


def test_official_2026_calendar_facts_used_by_these_tests():
    """The calendar data the tests rely on: holidays and 调休 make-up workdays of 2026."""
    assert not any(is_workday(date(2026, 5, d)) for d in range(1, 6))
    assert is_workday(date(2026, 5, 9))  # Saturday make-up workday
    assert is_workday(date(2026, 9, 20))  # Sunday make-up workday
    assert is_workday(date(2026, 10, 10))  # Saturday make-up workday
    assert not any(is_workday(date(2026, 10, d)) for d in range(1, 8))


def test_zhejiang_art20_register_5_working_days_skips_may_day():
    """浙江省信访条例 第二十条: 5 working days; 4/28 → 4/29, 4/30, 5/6, 5/7, 5/8."""
    due = compute_due("petition_register", date(2026, 4, 28), "zhejiang")
    assert due.due == date(2026, 5, 8)
    assert due.article == "浙江省信访条例 第二十条"
    assert due.unit == "working"


def test_zhejiang_art20_working_days_count_makeup_saturday():
    """浙江省信访条例 第二十条: the 调休 Saturday 5/9 counts as a working day."""
    # 5/6, 5/7, 5/8, 5/9 (make-up Saturday), 5/11
    assert compute_due("petition_register", date(2026, 4, 30), "zhejiang").due == date(2026, 5, 11)
    assert due_date(date(2026, 5, 7), 2, "working") == date(2026, 5, 9)


def test_national_art22_register_15_calendar_days():
    """信访工作条例 第二十二条: 15 days, starting the day after the event."""
    assert compute_due("petition_register", date(2026, 4, 28), "national").due == date(2026, 5, 13)


def test_calendar_period_ending_on_may_day_rolls_to_first_working_day():
    """信访工作条例 第二十二条 with 民法典 第二百零三条: 4/16 + 15 = 5/1 (holiday) → 5/6."""
    assert compute_due("petition_register", date(2026, 4, 16), "national").due == date(2026, 5, 6)


def test_calendar_period_ending_on_makeup_saturday_does_not_roll():
    """信访工作条例 第二十三条: 4/24 + 15 = 5/9, a make-up workday, so it stays."""
    assert compute_due("petition_notify", date(2026, 4, 24), "national").due == date(2026, 5, 9)


def test_art23_transfer_objection_5_working_days_over_national_day():
    """信访工作条例 第二十三条第三款: 5 working days from 9/29 → 9/30, 10/8, 10/9, 10/10, 10/12."""
    due = compute_due("transfer_objection", date(2026, 9, 29), "stricter")
    assert due.due == date(2026, 10, 12)
    assert due.article.startswith("信访工作条例 第二十三条")


def test_art23_working_days_count_sunday_makeup_before_mid_autumn():
    """信访工作条例 第二十三条: from Fri 9/18, Sun 9/20 is a make-up workday: 9/20,21,22,23,24."""
    assert compute_due("transfer_objection", date(2026, 9, 18), "national").due == date(2026, 9, 24)


def test_national_art34_handle_60_days_ending_in_national_day_rolls():
    """信访工作条例 第三十四条: 8/5 + 60 = 10/4 (holiday) → 10/8."""
    assert compute_due("petition_handle", date(2026, 8, 5), "national").due == date(2026, 10, 8)


def test_stricter_takes_zhejiang_art23_30_days_for_handling():
    """浙江省信访条例 第二十三条 (30 days) is stricter than 信访工作条例 第三十四条 (60)."""
    due = compute_due("petition_handle", date(2026, 4, 28), "stricter")
    assert (due.due, due.rule) == (date(2026, 5, 28), "zhejiang")


def test_stricter_takes_zhejiang_5_working_days_over_national_15_days():
    """浙江省信访条例 第二十条 vs 信访工作条例 第二十二条: the earlier due date wins."""
    due = compute_due("petition_register", date(2026, 9, 28), "stricter")
    # 9/29, 9/30, 10/8, 10/9, 10/10 — still before 10/13 (national, 9/28 + 15)
    assert (due.due, due.rule) == (date(2026, 10, 10), "zhejiang")
    assert compute_due("petition_register", date(2026, 9, 28), "national").due == date(2026, 10, 13)


def test_zhejiang_inherits_national_review_windows_art24():
    """浙江省信访条例 第二十四条 defers 复查/复核 to the national 第三十五、三十六条 (30/30)."""
    for clock in ("review_request", "review_decide", "recheck_request", "recheck_decide"):
        due = compute_due(clock, date(2026, 6, 1), "zhejiang")
        assert due.rule == "national" and due.days == 30
        assert due.due == date(2026, 7, 1)


def test_mediation_clocks_ningbo_art27_labour_art14_court_art33():
    """宁波市人民调解条例 第二十七条 30 days; 劳动争议调解仲裁法 第十四条 15; 人民调解法 第三十三条 30."""
    start = date(2026, 9, 10)
    assert compute_due("mediation", start).due == date(2026, 10, 10)  # make-up Saturday
    assert compute_due("labour_mediation", start).due == date(2026, 9, 25 + 3)  # 9/25 Mid-autumn → 9/28
    assert compute_due("court_confirmation", start).article == "人民调解法 第三十三条"


def test_every_named_clock_exists_in_every_rule_choice():
    """Every clock of issue 3 resolves under national, zhejiang and stricter."""
    for clock in CLOCK_NAMES:
        for rules in dl.RULE_CHOICES:
            assert compute_due(clock, date(2026, 3, 2), rules).due > date(2026, 3, 2)


def test_date_beyond_calendar_data_raises_own_error():
    """Working days need the official calendar: past its data a CalendarRangeError, not NotImplementedError."""
    with pytest.raises(CalendarRangeError, match="2027"):
        compute_due("transfer_objection", date(2026, 12, 28), "national")
    with pytest.raises(CalendarRangeError):
        is_workday(date(2031, 1, 2))


def test_art34_extension_needs_approver_and_reason_and_max_30():
    """信访工作条例 第三十四条: extension ≤ 30 days, approved by the head, reason told."""
    clock = start_clock("petition_handle", date(2026, 4, 28), "national", case_id="FQ-1")
    with pytest.raises(ExtensionError):
        dl.extend(clock, 10, "", "情况复杂", on=date(2026, 5, 20))
    with pytest.raises(ExtensionError):
        dl.extend(clock, 10, "局长张某", " ", on=date(2026, 5, 20))
    with pytest.raises(ExtensionError):
        dl.extend(clock, 31, "局长张某", "情况复杂", on=date(2026, 5, 20))
    extended, event = dl.extend(clock, 30, "局长张某", "情况复杂", on=date(2026, 5, 20))
    assert extended.due() == date(2026, 7, 27)  # 4/28 + 90 = 7/27 (Monday)
    assert event.kind == "clock_extended" and event.actor == "局长张某"
    with pytest.raises(ExtensionError):
        dl.extend(extended, 1, "局长张某", "再延", on=date(2026, 6, 1))


def test_zhejiang_art23_extension_up_to_60_days():
    """浙江省信访条例 第二十三条: extension ≤ 60 days."""
    clock = start_clock("petition_handle", date(2026, 4, 28), "zhejiang")
    extended, _ = dl.extend(clock, 60, "主任李某", "取证困难", on=date(2026, 5, 10))
    assert extended.total_days == 90
    with pytest.raises(ExtensionError):
        dl.extend(clock, 61, "主任李某", "取证困难", on=date(2026, 5, 10))


def test_clock_without_extension_rule_refuses_extension():
    """劳动争议调解仲裁法 第十四条: the 15-day labour mediation window has no extension."""
    clock = start_clock("labour_mediation", date(2026, 4, 28))
    with pytest.raises(ExtensionError):
        dl.extend(clock, 5, "调解员", "需要", on=date(2026, 4, 30))


def test_art36_hearing_time_not_counted_in_recheck():
    """信访工作条例 第三十六条: 听证所需时间不计算在 30 日期限内."""
    clock = start_clock("recheck_decide", date(2026, 6, 1), case_id="FQ-2")
    assert clock.due() == date(2026, 7, 1)
    paused, ev = dl.pause(clock, date(2026, 6, 10), "举行听证")
    assert ev.kind == "clock_paused"
    with pytest.raises(PauseError):
        paused.due()  # open pause needs as_of
    assert paused.due(as_of=date(2026, 6, 12)) == date(2026, 7, 6)  # 3 days + roll over weekend
    resumed, _ = dl.resume(paused, date(2026, 6, 14))
    assert resumed.due() == date(2026, 7, 6)  # 7/1 + 5 paused days = 7/6 (Monday)


def test_pause_refused_on_clock_the_law_does_not_pause():
    """信访工作条例 第二十二条: registration has no hearing pause."""
    with pytest.raises(PauseError):
        dl.pause(start_clock("petition_register", date(2026, 6, 1)), date(2026, 6, 2), "x")


def test_scan_near_due_and_overdue_and_events():
    """信访工作条例 第三十四条 / 浙江 第二十三条: near-due and overdue clocks produce events."""
    clocks = [
        start_clock("petition_handle", date(2026, 4, 28), case_id="A"),  # due 5/28
        start_clock("petition_register", date(2026, 5, 18), case_id="B"),  # due 5/25
        start_clock("mediation", date(2026, 5, 20), case_id="C"),  # due 6/19
        dl.stop(start_clock("petition_register", date(2026, 5, 1), case_id="D"), date(2026, 5, 6)),
    ]
    alerts = dl.scan(clocks, as_of=date(2026, 5, 26), near_days=3)
    assert [(a.case_id, a.status, a.days_left) for a in alerts] == [
        ("B", "overdue", -1),
        ("A", "near_due", 2),
    ]
    events = dl.alert_events(alerts)
    assert [e.kind for e in events] == ["deadline_overdue", "deadline_near_due"]
    assert events[0].case_id == "B" and events[0].payload["due"] == "2026-05-25"


def test_cli_prints_json(capsys):
    """`fengqiao deadline` prints due, rule and article (浙江省信访条例 第二十条)."""
    import argparse

    parser = argparse.ArgumentParser()
    deadline_cmd.register(parser.add_subparsers())
    args = parser.parse_args(
        ["deadline", "--rules", "zhejiang", "--clock", "petition_register", "--start", "2026-04-28"]
    )
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["due"] == "2026-05-08"
    assert out["rule"] == "zhejiang"
    assert "第二十条" in out["article"]


@pytest.mark.parametrize(
    "argv",
    [
        ["deadline", "--clock", "petition_register", "--start", "2026-13-01"],
        ["deadline", "--clock", "transfer_objection", "--start", "2026-12-30"],
    ],
)
def test_cli_bad_arguments_exit_2(argv, capsys):
    """A bad date or a date past the calendar's data: message on stderr, exit 2."""
    import argparse

    parser = argparse.ArgumentParser()
    deadline_cmd.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    assert args.func(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "fengqiao deadline" in captured.err


def test_cli_unknown_clock_exit_2():
    """argparse refuses an unknown clock with exit status 2."""
    import argparse

    parser = argparse.ArgumentParser()
    deadline_cmd.register(parser.add_subparsers())
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["deadline", "--clock", "nope", "--start", "2026-01-01"])
    assert exc.value.code == 2


def test_installed_verb_runs_through_fengqiao_cli():
    """`python -m fengqiao.cli deadline ...` (信访工作条例 第二十三条 clock) prints JSON; bad args exit 2."""
    import subprocess
    import sys

    ok = subprocess.run(
        [sys.executable, "-m", "fengqiao.cli", "deadline", "--rules", "national", "--clock",
         "transfer_objection", "--start", "2026-09-29"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["due"] == "2026-10-12"
    bad = subprocess.run(
        [sys.executable, "-m", "fengqiao.cli", "deadline", "--clock", "petition_handle", "--start", "tomorrow"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2 and bad.stdout == "" and "YYYY-MM-DD" in bad.stderr
