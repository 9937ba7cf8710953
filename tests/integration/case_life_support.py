"""Shared helpers for the case-life integration tests (real SQLite and PostgreSQL databases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fengqiao.bootstrap import units_of_work
from routing.cases.filing_policy import make_policy
from routing.cases.life import CaseLife
from routing.cases.service import CaseDraft, CaseService
from routing.persistence.db import make_engine, make_session_factory
from routing.understanding.places import load_divisions
from routing.understanding.text import normalise


class Today:
    """A settable clock for the services."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@dataclass
class Stack:
    """Filing service and case-life service on one database, with one settable date."""

    service: CaseService
    life: CaseLife
    today: Today
    engine: object

    def file(self, story: str, place: str, *, user: str = "web:life0001", dispute_type: str | None = "neighbour",
             category: str | None = "城乡建设", respondent: str | None = "邻居") -> str:
        match = load_divisions().resolve(place)
        assert match is not None, place
        draft = CaseDraft(
            narrative_original=story, narrative_normalised=normalise(story), subject=story,
            channel=user.split(":")[0], channel_user_id=user, conversation_id=user, category=category,
            dispute_type=dispute_type, location_text=match.label, location_code=match.division.code,
            county_code=match.county.code if match.county else None, respondent=respondent,
            demand="希望尽快解决", contact_phone="13800001111",
        )
        return self.service.file_case(draft).view.case_number


def make_stack(url: str, day: date = date(2026, 4, 27)) -> Stack:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    today = Today(day)
    return Stack(CaseService(sessions, make_policy("stricter", sessions), today, uows=units_of_work(sessions)), CaseLife(sessions, today), today,
                 engine)
