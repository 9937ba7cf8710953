"""The rates module on a small hand-built history (worked out by hand below), and its properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.cases.statuses import TRANSITIONS
from routing.rates.compute import figures, tallies
from routing.rates.definitions import load_rates, parse
from routing.rates.facts import CaseRecord, EventRecord, derive

BOOK = load_rates()


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 4, 0, tzinfo=UTC)  # 12:00 in China


def sc(month: int, day: int, frm: str | None, to: str, action: str, **payload: object) -> EventRecord:
    return EventRecord("status_changed", at(month, day), {"from": frm, "to": to, "action": action, **payload})


def routed(month: int, day: int, tier: str) -> EventRecord:
    return EventRecord("routed", at(month, day), {"handling_body": "某调委会", "tier": tier})


def case(n: int, events: list[EventRecord], *, handling_due: date | None = None, township: str = "T1",
         register_due: date | None = date(2026, 11, 20), tier: str = "village") -> CaseRecord:
    return CaseRecord(n, f"FQ-2026-{n:06d}", "C1", township, "body1", "民政", tier, tuple(events),
                      register_due=register_due, handling_due=handling_due)


def history() -> list[CaseRecord]:
    a = case(1, [sc(11, 2, None, "accepted", "accept"), routed(11, 2, "village"),
                 sc(11, 3, "accepted", "assigned", "assign"), sc(11, 5, "assigned", "mediating", "start_mediation"),
                 sc(11, 10, "mediating", "resolved", "resolve", agreement=True),
                 sc(11, 11, "resolved", "follow_up", "follow_up"),
                 sc(11, 12, "follow_up", "follow_up", "rate", satisfaction="satisfied"),
                 EventRecord("judicial_confirmed", at(11, 13), {})], handling_due=date(2026, 11, 30))
    b = case(2, [sc(11, 2, None, "accepted", "accept"), routed(11, 2, "village"),
                 sc(11, 4, "accepted", "rejected", "reject")])
    c = case(3, [sc(11, 3, None, "accepted", "accept"), routed(11, 3, "village"),
                 sc(11, 25, "accepted", "assigned", "assign"),
                 sc(11, 26, "assigned", "mediating", "start_mediation"),
                 sc(11, 28, "mediating", "referred", "fail_mediation", agreement=False),
                 sc(11, 29, "referred", "follow_up", "follow_up"),
                 sc(11, 29, "follow_up", "follow_up", "rate", satisfaction="unsatisfied"),
                 EventRecord("supervisor_follow_up", at(11, 29), {}),
                 EventRecord("contact_logged", at(11, 30), {})], handling_due=date(2026, 12, 20))
    d = case(4, [sc(11, 4, None, "accepted", "accept"), routed(11, 4, "village"),
                 EventRecord("repeat_linked", at(11, 4), {"linked_case": "FQ-2026-000099", "articles": ["x"]}),
                 sc(11, 5, "accepted", "assigned", "assign"), sc(11, 6, "assigned", "escalated", "escalate", why="risk"),
                 EventRecord("routing_escalate", at(11, 6), {"tier": "county"}),
                 sc(11, 7, "escalated", "assigned", "assign"), sc(11, 8, "assigned", "handling", "start_handling"),
                 sc(11, 20, "handling", "resolved", "resolve", agreement=True)], handling_due=date(2026, 11, 15))
    e = case(5, [sc(10, 30, None, "accepted", "accept"), routed(10, 30, "township"),
                 sc(10, 31, "accepted", "assigned", "assign"),
                 sc(10, 31, "assigned", "accepted", "return_wrong_body"),
                 sc(11, 2, "accepted", "assigned", "assign"), sc(11, 3, "assigned", "handling", "start_handling"),
                 sc(11, 5, "handling", "resolved", "resolve", agreement=True)],
             handling_due=date(2026, 11, 10), register_due=date(2026, 11, 13), tier="township")
    return [a, b, c, d, e]


def test_november_rates_worked_out_by_hand() -> None:
    facts = [derive(c) for c in history()]
    f = figures(facts, BOOK, ["2026-11"])

    def nd(rid: str) -> tuple[float, int]:
        return f[rid].numerator, f[rid].denominator

    # 受理: decided in November A (accept), B (reject), C, D; E was decided on 31 October.
    assert nd("register_rate") == (3, 4)
    # 按时受理: C waited until 25 November, after its register deadline of the 20th.
    assert nd("register_on_time_rate") == (3, 4)
    # 按期办结: due in November A (30th, closed 10th), D (15th, closed 20th: late), E (10th, closed 5th).
    assert nd("closed_on_time_rate") == (2, 3)
    # 化解: mediations ended A (agreement) and C (failed).
    assert nd("mediation_success_rate") == (1, 2)
    # 就地化解: resolved A (village), D (escalated to the county), E (township).
    assert nd("local_resolution_rate") == (2, 3)
    # 上交, 退单, 重复: filed in November A, B, C, D; D escalated and is a repeat; none returned.
    assert nd("escalation_rate") == (1, 4)
    assert nd("return_rate") == (0, 4)
    assert nd("repeat_rate") == (1, 4)
    # 回访: closed in November A, C, D, E; A and C were asked.
    assert nd("follow_up_rate") == (2, 4)
    # 满意: A satisfied, C unsatisfied and then contacted.
    assert nd("satisfaction_rate") == (1, 2)
    assert f["satisfaction_rate"].extra == {"unsatisfied": 1, "unsatisfied_followed": 1}
    # Working days filed → closed: A 2→10 Nov 6, C 3→28 Nov 18, D 4→20 Nov 12, E 30 Oct→5 Nov 4.
    assert nd("mean_working_days") == (6 + 18 + 12 + 4, 4)
    assert f["mean_working_days"].value == 10.0
    # 司法确认: A's agreement was confirmed.
    assert nd("judicial_confirmation_rate") == (1, 1)
    # every denominator is below the file's minimum of 5
    assert all(fig.insufficient and fig.shown() == "样本不足" for fig in f.values())
    assert f["mediation_success_rate"].numerator_cases == ["FQ-2026-000001"]
    assert f["mediation_success_rate"].denominator_cases == ["FQ-2026-000001", "FQ-2026-000003"]
    # October: E was decided, filed and returned then
    oct_ = figures(facts, BOOK, ["2026-10"])
    assert (oct_["return_rate"].numerator, oct_["return_rate"].denominator) == (1, 1)
    assert (oct_["register_rate"].numerator, oct_["register_rate"].denominator) == (1, 1)


def test_an_open_case_not_yet_due_waits_for_its_due_date() -> None:
    f = case(6, [sc(11, 2, None, "accepted", "accept"), sc(11, 3, "accepted", "assigned", "assign"),
                 sc(11, 4, "assigned", "handling", "start_handling")], handling_due=date(2026, 11, 25))
    assert "due_in_period" not in derive(f, as_of=date(2026, 11, 20)).flags  # it can still be on time
    assert "due_in_period" in derive(f, as_of=date(2026, 11, 26)).flags  # now it is late
    assert "closed_on_time" not in derive(f, as_of=date(2026, 11, 26)).flags
    assert "due_in_period" in derive(f).flags  # no cut-off: counted (and late)


def test_a_lower_minimum_shows_the_figure() -> None:
    raw = {"min_denominator": 2, "rates": [
        {"id": "x", "name": "化解率", "numerator": "mediation_agreement", "denominator": "mediation_ended",
         "period": "mediation_ended", "events": ["status_changed:resolve"], "source": "人民调解法"}]}
    book = parse(raw)
    f = figures([derive(c) for c in history()], book, ["2026-11"])["x"]
    assert not f.insufficient and f.shown() == "50.0%"


def test_the_file_refuses_an_unknown_fact() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown fact"):
        parse({"rates": [{"id": "x", "name": "x", "numerator": "nonsense", "denominator": "closed",
                          "period": "closed", "events": [], "source": "x"}]})


# ---------------------------------------------------------------- properties

ACTIONS_FROM: dict[str | None, list[tuple[str, str]]] = {}
for (frm, action), to in TRANSITIONS.items():
    ACTIONS_FROM.setdefault(frm, []).append((action, to))


@st.composite
def random_case(draw: st.DrawFn, n: int) -> CaseRecord:
    """A legal walk through the lifecycle, one event every few days, with ratings and notes."""
    status: str | None = None
    day = draw(st.integers(0, 80))
    events: list[EventRecord] = []
    for _ in range(draw(st.integers(1, 9))):
        options = sorted(ACTIONS_FROM.get(status, []))
        if not options:
            break
        action, to = draw(st.sampled_from(options))
        day += draw(st.integers(0, 12))
        when = datetime(2026, 9, 1, 3, tzinfo=UTC) + timedelta(days=day)
        payload: dict[str, object] = {"from": status, "to": to, "action": action}
        if action == "rate":
            payload["satisfaction"] = draw(st.sampled_from(["satisfied", "basically_satisfied", "unsatisfied"]))
        events.append(EventRecord("status_changed", when, payload))
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["routed", "repeat_linked", "judicial_confirmed", "contact_logged"]))
            events.append(EventRecord(kind, when, {"tier": "village", "handling_body": "b", "articles": []}))
        status = to
    due = date(2026, 9, 1).replace(day=1 + draw(st.integers(0, 27))) if draw(st.booleans()) else None
    town = draw(st.sampled_from(["T1", "T2", "T3"]))
    return CaseRecord(n, f"C{n}", "C1", town, draw(st.sampled_from(["b1", "b2"])), "民政",
                      draw(st.sampled_from(["village", "township", "county"])), tuple(events),
                      register_due=None, handling_due=due)


cases_strategy = st.integers(1, 12).flatmap(lambda k: st.tuples(*[random_case(i) for i in range(k)]))
MONTHS = ["2026-09", "2026-10", "2026-11", "2026-12"]


@settings(max_examples=60, deadline=None)
@given(cases_strategy)
def test_rates_stay_in_unit_interval_and_recompute_the_same(cases: tuple[CaseRecord, ...]) -> None:
    facts = [derive(c) for c in cases]
    first = figures(facts, BOOK, MONTHS)
    for fig in first.values():
        assert fig.numerator <= fig.denominator or not fig.rate.is_rate
        if fig.rate.is_rate and fig.value is not None:
            assert 0.0 <= fig.value <= 1.0
    again = figures([derive(c) for c in cases], BOOK, MONTHS)
    assert {k: (v.numerator, v.denominator) for k, v in first.items()} == \
        {k: (v.numerator, v.denominator) for k, v in again.items()}


@settings(max_examples=60, deadline=None)
@given(cases_strategy, st.data())
def test_moving_a_case_moves_only_its_contribution(cases: tuple[CaseRecord, ...], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(cases) - 1))
    moved = list(cases)
    moved[k] = replace(cases[k], township="T9")
    before = tallies([derive(c) for c in cases], BOOK)
    after = tallies([derive(c) for c in moved], BOOK)
    own = tallies([derive(cases[k])], BOOK)
    own_moved = tallies([derive(moved[k])], BOOK)
    for key in set(before) | set(after):
        b, a = before.get(key, [0.0, 0.0]), after.get(key, [0.0, 0.0])
        expect = [b[i] - own.get(key, [0, 0])[i] + own_moved.get(key, [0, 0])[i] for i in (0, 1)]
        assert a == expect
    # the other towns' figures are the same
    assert {k2: v for k2, v in before.items() if k2[3] not in ("T9", cases[k].township)} == \
        {k2: v for k2, v in after.items() if k2[3] not in ("T9", cases[k].township)}
