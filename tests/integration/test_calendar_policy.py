"""One holiday-calendar policy for every process, and notices an operator adds for a new year."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from fengqiao.cli import main
from tests.integration.case_life_support import Stack, make_stack

NEIGHBOUR = "隔壁邻居把围墙砌到我家门口，车开不进去，商量几次都不肯拆。"
PLACE = "诸暨市枫桥镇枫源村"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    s = make_stack(database_url, date(2026, 11, 20))
    yield s
    s.engine.dispose()  # type: ignore[attr-defined]


def test_the_sweep_command_escalates_into_an_unpublished_year_like_the_bot(
        stack: Stack, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The overdue mediation clock climbs the ladder on 2026-12-28; the new clock ends in 2027.

    2027's holidays are not in the package: the bot estimates them, and so must `fengqiao sweep`
    (before, the sweep ran on the strict calendar and failed with CalendarRangeError).
    """
    number = stack.file(NEIGHBOUR, PLACE)
    assert main(["sweep", "--as-of", "2026-12-28", "--url", database_url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["case"] for o in out["overdue"]] == [number] and out["escalated"] == 1
    newest = [c for c in stack.life.clocks(number) if c.clock == "mediation"][-1]
    assert newest.start == date(2026, 12, 28) and newest.due is not None and newest.due.year == 2027
    from routing.cases.deadlines import load_calendar

    estimating = type(stack.life)(stack.life._sessions, stack.today,
                                  calendar=load_calendar(estimate_unknown_years=True))
    assert [c.estimated for c in estimating.clocks(number) if c.clock == "mediation"] == [False, True]


def test_bot_console_and_cli_get_one_calendar_from_the_composition_root(tmp_path, monkeypatch) -> None:
    from fengqiao import bootstrap, settings
    from fengqiao.migrate import upgrade
    from gateway.console.app import create_console
    from gateway.console.keys import LIFE

    url = f"sqlite:///{tmp_path / 'cal.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    settings.get_settings.cache_clear()
    bootstrap.reset()
    try:
        bot_life = bootstrap.case_life()
        assert bot_life._calendar.estimate_unknown_years
        console = create_console(settings.get_settings())

        async def check() -> None:
            ctx = console.cleanup_ctx[0](console)
            await ctx.__anext__()
            try:
                assert console[LIFE]._calendar.estimate_unknown_years
                assert repr(console[LIFE]._calendar) == repr(bot_life._calendar)
            finally:
                with contextlib.suppress(StopAsyncIteration):
                    await ctx.__anext__()

        asyncio.run(check())
    finally:
        settings.get_settings.cache_clear()
        bootstrap.reset()


NOTICE_2027 = """
years:
  2027:
    source: "测试用通知（非官方数据）"
    holidays: [2027-01-01, 2027-01-04]
    workdays: [2027-01-09]
"""


def test_an_operator_notice_file_covers_a_year_the_package_lacks(tmp_path: Path) -> None:
    from routing.cases import deadlines

    path = tmp_path / "notices.yaml"
    path.write_text(NOTICE_2027, encoding="utf-8")
    strict = deadlines.load_calendar(estimate_unknown_years=False, extra_notices=[path])
    # 5 working days after Mon 2026-12-28: 12-29, 12-30, 12-31, (01-01 off, weekend, 01-04 off) 01-05, 01-06
    due = deadlines.compute_due("petition_register", date(2026, 12, 28), "zhejiang", strict)
    assert due.due == date(2027, 1, 6) and not due.estimated
    assert strict.is_workday(date(2027, 1, 9))  # a Saturday make-up working day
    with pytest.raises(deadlines.CalendarRangeError):
        deadlines.compute_due("petition_register", date(2027, 12, 27), "zhejiang", strict)  # 2028: no source


def test_a_clock_in_a_year_no_source_has_is_estimated_and_marked(tmp_path: Path) -> None:
    from routing.cases import deadlines

    estimating = deadlines.load_calendar(estimate_unknown_years=True)
    due = deadlines.compute_due("petition_register", date(2026, 12, 28), "zhejiang", estimating)
    assert due.due == date(2027, 1, 5) and due.estimated and due.to_dict()["estimated"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text("years:\n  2027:\n    holidays: [2026-12-31]\n", encoding="utf-8")
    with pytest.raises(deadlines.DeadlineError):
        deadlines.load_notices(bad)


def test_the_deadline_command_reads_an_operators_notice_file(tmp_path: Path, monkeypatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from fengqiao import settings

    path = tmp_path / "notices.yaml"
    path.write_text(NOTICE_2027, encoding="utf-8")
    args = ["deadline", "--rules", "zhejiang", "--clock", "petition_register", "--start", "2026-12-28"]
    settings.get_settings.cache_clear()
    try:
        assert main(args) == 2  # strict: 2027 is in no source
        monkeypatch.setenv("HOLIDAY_NOTICES_FILE", str(path))
        settings.get_settings.cache_clear()
        capsys.readouterr()
        assert main(args) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["due"] == "2027-01-06" and out["estimated"] is False
    finally:
        settings.get_settings.cache_clear()
