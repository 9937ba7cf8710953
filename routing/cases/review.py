"""复查 and 复核: the citizen's requests after an outcome, and the higher bodies' opinions.

信访工作条例 第三十五条: 复查 within 30 days of the written reply (the ``review_request`` window
opened by an unsatisfied rating), decided within 30 days (``review_decide``). 第三十六条: 复核 only
after a 复查 opinion (``recheck_decide``); a 复核 opinion is final.
"""

from __future__ import annotations

from routing.cases import statuses
from routing.cases.steps import CaseContext, change, finish, load, move, start_clock, stop_clocks
from routing.cases.uow import UnitOfWork
from routing.cases.values import CaseView

ART_REVIEW = "信访工作条例 第三十五条"
ART_RECHECK = "信访工作条例 第三十六条"


def request_review(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, reason: str = "", *,
                   owner: str | None = None) -> CaseView:
    """复查 request: within the citizen's window, starts the decision clock.

    Raises:
        TransitionError: not resolved yet, or the 30-day window has passed.
    """
    case = load(uow, case_number, owner)
    today = ctx.today()
    windows = [c for c in uow.clocks.of_case(case) if c.clock == "review_request"]
    if windows and windows[-1].due is not None and today > windows[-1].due:
        raise statuses.TransitionError(f"复查请求期限已于{windows[-1].due.isoformat()}届满（{windows[-1].article}）")
    ev = move(uow, ctx, case, "request_review", actor, reason or "请求复查", {"article": ART_REVIEW})
    stop_clocks(uow, case, today, ("review_request",))
    start_clock(uow, ctx, case, "review_decide", today, body_id=case.body_id)
    return finish(uow, case, [ev])


def decide_review(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, opinion: str) -> CaseView:
    """复查意见 given: the review clock stops and the case is resolved again."""
    return change(uow, ctx, case_number, "decide_review", actor, opinion)


def request_recheck(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, reason: str = "", *,
                    owner: str | None = None) -> CaseView:
    """复核 request: only after a 复查 opinion.

    Raises:
        TransitionError: no 复查 was decided, or the status does not allow it.
    """
    case = load(uow, case_number, owner)
    if not statuses.had_review(uow.events.of_case(case)):
        raise statuses.TransitionError(f"复核须在复查意见作出之后提出（{ART_RECHECK}）")
    ev = move(uow, ctx, case, "request_recheck", actor, reason or "请求复核", {"article": ART_RECHECK})
    start_clock(uow, ctx, case, "recheck_decide", ctx.today(), body_id=case.body_id)
    return finish(uow, case, [ev])


def decide_recheck(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, opinion: str) -> CaseView:
    """复核意见 given: final; the same facts are not accepted again (第三十六条第三款)."""
    return change(uow, ctx, case_number, "decide_recheck", actor, opinion)
