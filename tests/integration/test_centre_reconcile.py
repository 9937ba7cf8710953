"""No silent edits: after any sequence of filings, transfers, closures and reopenings the desk's
figures equal a brute-force recount of the case rows and the recount from the event log alone."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from routing.cases.deadlines import DeadlineError
from routing.cases.life import CaseLifeError
from routing.cases.reception_days import ReceptionError
from routing.cases.statuses import TransitionError
from routing.centre import board as desk
from routing.centre.reconcile import reconcile
from routing.centre.supervision import place_on_case
from routing.orgs.ladder import RoutingError
from routing.persistence.case_tables import Case
from tests.integration.case_life_support import make_stack
from tests.integration.centre_support import LABOUR, NOISE, PROPERTY, draft

TODAY = date(2026, 4, 27)
PLACES = ("诸暨市枫桥镇枫源村", "诸暨市枫桥镇", "诸暨市店口镇", "诸暨市暨阳街道西施社区", "浦江县白马镇嵩溪村")
KINDS = ((LABOUR, "labour_wage", "老板拖欠工资"), (PROPERTY, "property_mgmt", "物业不修电梯"),
         (NOISE, "environment_noise", "饭店噪音扰民"), (LABOUR, "lending", "借钱不还"),
         (PROPERTY, "neighbour", "邻居搭棚挡路，还说要找人拉横幅"))
OPS = ("file", "file", "assign", "handle", "mediate", "transfer", "resolve_yes", "resolve_no", "follow_up",
       "archive", "reopen", "escalate", "withdraw", "reject", "supervise")
BODIES = ("fq-town-tw", "zj-centre", "zj-labour-tw", "fq-chenjia-tw")


def _apply(stack, op: str, pick: int, serial: list[int]) -> None:  # type: ignore[no-untyped-def]
    with stack.life._sessions() as s:
        numbers = list(s.execute(select(Case.case_number).order_by(Case.id)).scalars())
    if op == "file" or not numbers:
        serial[0] += 1
        path, dtype, story = KINDS[pick % len(KINDS)]
        d = draft(f"{story}（第{serial[0]}件）", PLACES[pick % len(PLACES)], path, user=f"web:rc{serial[0]}",
                  dispute_type=dtype)
        stack.service.file_case(d)
        return
    number, life, actor = numbers[pick % len(numbers)], stack.life, "staff:test"
    calls = {
        "assign": lambda: life.assign(number, actor),
        "handle": lambda: life.start_handling(number, actor),
        "mediate": lambda: life.start_mediation(number, actor, "双方同意调解"),
        "transfer": lambda: life.transfer(number, BODIES[pick % len(BODIES)], actor, "属地不符"),
        "resolve_yes": lambda: life.resolve(number, actor, agreement=True, notes="达成协议"),
        "resolve_no": lambda: life.resolve(number, actor, agreement=False, notes="未达成协议"),
        "follow_up": lambda: life.follow_up(number, actor),
        "archive": lambda: life.archive(number, actor, "归档"),
        "reopen": lambda: life.reopen(number, actor, "群众不满意，重新办理"),
        "escalate": lambda: life.escalate(number, actor, "risk", "风险上升"),
        "withdraw": lambda: life.withdraw(number, actor),
        "reject": lambda: life.reject(number, actor, "不属于受理范围"),
        "supervise": lambda: _supervise(stack, number),
    }
    # an action not allowed in the case's current state writes nothing
    with contextlib.suppress(TransitionError, CaseLifeError, RoutingError, DeadlineError, ReceptionError):
        calls[op]()


def _supervise(stack, number: str) -> None:  # type: ignore[no-untyped-def]
    with stack.life._sessions.begin() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        place_on_case(s, case, "staff:centre", "久拖不决", TODAY, TODAY)


def _brute_force(stack, region: str) -> Counter:  # type: ignore[no-untyped-def]
    """Count the region's open cases from the rows, one by one, without the board's SQL."""
    from routing.centre import places

    horizon = desk.near_horizon(TODAY)
    covered = places.covered(region)
    out: Counter = Counter()
    with stack.life._sessions() as s:
        for c in s.execute(select(Case)).scalars():
            if (c.location_code or c.county_code) not in covered and c.county_code not in covered:
                continue
            if c.status == "follow_up":
                out["waiting"] += 1
            if c.status not in desk.OPEN_STATUSES:
                continue
            out["open"] += 1
            out[f"tier_{desk.tier_bucket(c.tier, c.status)}"] += 1
            out["unassigned"] += c.assigned_person_id is None
            out["overdue"] += bool(c.due_date and c.due_date < TODAY)
            out["near_due"] += bool(c.due_date and TODAY <= c.due_date <= horizon)
            out["red"] += c.risk_level == "red"
            out["orange"] += c.risk_level == "orange"
            out["reception"] += c.status == "reception_booked"
    return out


def check(stack) -> None:  # type: ignore[no-untyped-def]
    for region in ("330681", "330726", "330681104000"):
        with stack.life._sessions() as s:
            board = desk.build(s, desk.DeskFilter(region=region), TODAY)
            report = reconcile(s, region, TODAY)
        assert report.differences == [], report.to_dict()
        brute = _brute_force(stack, region)
        for metric in desk.METRICS:
            if metric != "supervised":
                assert board.total.values[metric] == brute[metric], (region, metric)


def run_sequence(stack, ops: list[tuple[str, int]]) -> None:  # type: ignore[no-untyped-def]
    serial = [0]
    for op, pick in ops:
        _apply(stack, op, pick, serial)
    check(stack)


@pytest.fixture
def stack(database_url):  # type: ignore[no-untyped-def]
    s = make_stack(database_url, TODAY)
    yield s
    s.engine.dispose()


def test_random_sequences_reconcile(stack) -> None:
    """Seeded random sequences (runs without hypothesis)."""
    rng = random.Random(20260427)
    for _round in range(3):
        run_sequence(stack, [(rng.choice(OPS), rng.randrange(100)) for _ in range(25)])


def test_hypothesis_sequences_reconcile(database_url) -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    stack = make_stack(database_url, TODAY)

    @hypothesis.settings(max_examples=12, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 99)), min_size=1, max_size=20))
    def prop(ops: list[tuple[str, int]]) -> None:
        run_sequence(stack, ops)

    try:
        prop()
    finally:
        stack.engine.dispose()


def test_every_board_number_lists_exactly_its_cases(stack) -> None:
    rng = random.Random(7)
    run_sequence(stack, [(rng.choice(OPS), rng.randrange(100)) for _ in range(40)])
    with stack.life._sessions() as s:
        board = desk.build(s, desk.DeskFilter(region="330681"), TODAY)
        for row in board.divisions:
            for metric in desk.METRICS:
                rows, more = desk.list_cases(s, desk.DeskFilter(region="330681"), TODAY, metric, row.key, None,
                                             per_page=1000)
                assert (len(rows), more) == (row.counts.values[metric], False), (row.key, metric)
        for row in board.bodies:
            for metric in desk.METRICS:
                rows, _more = desk.list_cases(s, desk.DeskFilter(region="330681"), TODAY, metric, "", row.key,
                                              per_page=1000)
                assert len(rows) == row.counts.values[metric], (row.key, metric)
