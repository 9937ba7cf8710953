"""Plain types for plain ideas: one case-number format, one phone pattern, one channel_of, StrEnums."""

from __future__ import annotations

from routing.cases import statuses
from routing.cases.channels import Channel, channel_of
from routing.cases.events import Actor, citizen_actor, is_citizen
from routing.cases.numbers import canonical_case_number, find_case_numbers, format_case_number
from routing.understanding import risk
from routing.understanding.intake import find_phone
from routing.understanding.text import mask_pii


def test_one_case_number_format() -> None:
    assert format_case_number(2026, 42) == "FQ-2026-000042"
    assert canonical_case_number("fq2026000042") == canonical_case_number("FQ-2026-000042") == "FQ-2026-000042"
    assert canonical_case_number("FQ-2026-42") is None
    assert find_case_numbers("查一下FQ2026000042和fq-2026-000007，还有FQ-2026-000042") == [
        "FQ-2026-000042", "FQ-2026-000007"]
    assert find_case_numbers("XFQ2026000042") == []


def test_one_phone_pattern_reads_and_masks_the_same_numbers() -> None:
    for number in ("13800138000", "0575-87654321"):
        assert find_phone(f"电话{number}。") == number
        assert number not in mask_pii(f"电话{number}。")
    assert find_phone("12345678901") is None and mask_pii("12345678901") == "12345678901"


def test_channel_of_reads_the_prefix() -> None:
    assert channel_of("web:abc") == Channel.WEB and channel_of("tg:42") == Channel.TELEGRAM
    assert channel_of("abc") == Channel.REST


def test_enums_are_the_stored_strings() -> None:
    assert set(statuses.Status) == set(statuses.STATUS_LABELS)
    assert {s for (_, _), s in statuses.TRANSITIONS.items()} <= set(statuses.Status)
    assert list(risk.LEVELS) == ["blue", "yellow", "orange", "red"]
    assert Actor.SYSTEM == "system" and citizen_actor("tg:1") == "citizen:tg:1"
    assert is_citizen("citizen") and is_citizen("citizen:tg:1") and not is_citizen("citizenship-office")


def test_every_event_kind_the_domain_writes_is_an_event_kind() -> None:
    import re
    from pathlib import Path

    from routing.cases.events import EventKind

    root = Path(__file__).resolve().parents[3] / "routing"
    written = {k for path in root.rglob("*.py")
               for k in re.findall(r'make_event\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8"))}
    written |= {"deadline_near_due", "deadline_overdue"}  # routing.cases.deadlines.alert_events: f"deadline_{status}"
    written |= {f"routing_{a}" for a in re.findall(r'action="([a-z]+)"', (root / "orgs" / "ladder.py").read_text("utf-8"))}
    assert len(written) > 20
    assert written <= set(EventKind), sorted(written - set(EventKind))


def test_each_event_of_a_batch_records_the_status_at_its_place() -> None:
    """The outbox tells status changes by ``status_after``: an event before a move must not show the new status."""
    from routing.cases.events import make_event
    from routing.persistence.events import statuses_after

    def moved(a: str, b: str):  # type: ignore[no-untyped-def]
        return make_event("status_changed", "system", payload={"from": a, "to": b})

    batch = [make_event("deadline_overdue", "system"), moved("assigned", "escalated"),
             make_event("routing_escalate", "system"), moved("escalated", "assigned"), make_event("urged", "citizen")]
    assert statuses_after(batch, "assigned") == ["assigned", "escalated", "escalated", "assigned", "assigned"]
    assert statuses_after([make_event("urged", "citizen")], "handling") == ["handling"]
