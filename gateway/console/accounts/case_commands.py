"""Status changes the console makes: claim, assign, transfer, escalate, mediate, resolve, close, reopen.

Each action is checked against the user's permissions first, then runs as a use case of
:class:`routing.cases.life.CaseLife`, which applies the lifecycle, keeps the statutory clocks and
writes the event trail in one unit of work. Claiming, assigning and transferring to a console
colleague (who need not be in ``people.csv``) go through :meth:`CaseLife.hand_to` with the status
the page showed, so a change that raced another one fails instead of overwriting it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.console.accounts.access import Principal, may_work
from gateway.console.accounts.casework import InvalidInput, NotAllowed
from routing.cases.life import CaseLife, CaseLifeError
from routing.cases.service import CaseService, CaseStateError
from routing.cases.statuses import Status, TransitionError
from routing.orgs.ladder import RoutingError
from routing.persistence.case_tables import Case
from routing.persistence.console_tables import ConsoleUser

ACTION_LABELS: dict[str, str] = {
    "claim": "认领",
    "assign": "分派",
    "transfer": "转办",
    "escalate": "上报升级",
    "start_handling": "开始办理",
    "start_mediation": "开始调解",
    "resolve": "办结（达成协议）",
    "fail_mediation": "调解未成，告知其他途径",
    "refer": "告知其他途径",
    "close": "结案归档",
    "reopen": "重新办理",
}
REOPENABLE = frozenset({"resolved", "referred", "follow_up", "archived"})
_WORK_ACTIONS = frozenset({"start_handling", "start_mediation", "resolve", "fail_mediation", "refer", "close", "reopen"})


@dataclass(frozen=True)
class ActionRequest:
    """One console action on a case."""

    action: str
    reason: str = ""
    target: ConsoleUser | None = None


def _hand_to(life: CaseLife, case: Case, actor: str, person_id: str, person_name: str, reason: str,
             action: str) -> str:
    try:
        return life.hand_to(case.case_number, actor, person_id, person_name, reason,
                            expected_status=case.status).status
    except TransitionError as exc:
        raise InvalidInput(_explain(exc, action)) from exc
    except CaseStateError as exc:
        raise InvalidInput("案件状态已被他人更新，请刷新页面后重试。") from exc


def _explain(exc: TransitionError, action: str) -> str:
    if "needs a reason" in str(exc):
        return f"“{ACTION_LABELS.get(action, action)}”须填写理由。"
    return f"当前状态下不能“{ACTION_LABELS.get(action, action)}”。"


def _life(call, action: str):  # type: ignore[no-untyped-def]
    try:
        return call().status
    except TransitionError as exc:
        raise InvalidInput(_explain(exc, action)) from exc
    except RoutingError as exc:
        raise InvalidInput("没有更高一级的承办机构可以接收。") from exc
    except CaseLifeError as exc:
        raise InvalidInput(f"无法“{ACTION_LABELS.get(action, action)}”：{exc}") from exc


def apply(service: CaseService, life: CaseLife, principal: Principal, case: Case, request: ActionRequest) -> str:
    """Apply a console action to a visible case and return the new status.

    Raises:
        NotAllowed: the user's role or relation to the case does not allow the action.
        InvalidInput: the lifecycle refuses it, a reason or target is missing, or it raced.
    """
    action, reason, actor = request.action, request.reason.strip()[:1000], principal.person_id
    status = case.status
    if action == "claim":
        if not principal.can("claim") or case.assigned_person_id is not None:
            raise NotAllowed(action)
        return _hand_to(life, case, actor, principal.person_id, principal.display_name,
                        reason or f"{principal.display_name}认领", "claim")
    if action in ("assign", "transfer"):
        target = request.target
        if action == "assign" and not principal.can("assign"):
            raise NotAllowed(action)
        if action == "transfer" and not (principal.can("transfer") and (may_work(principal, case) or principal.can("assign"))):
            raise NotAllowed(action)
        if target is None:
            raise InvalidInput("请选择接收人。")
        assigning = status in (Status.ACCEPTED, Status.ESCALATED)
        why = reason or (f"分派给{target.display_name}" if assigning else "")
        return _hand_to(life, case, actor, target.person_id, target.display_name, why,
                        "assign" if assigning else "transfer")
    if action == "escalate":
        if not (principal.can("escalate") and (may_work(principal, case) or principal.can("assign"))):
            raise NotAllowed(action)
        if not reason:
            raise InvalidInput("“上报升级”须填写理由。")
        number = case.case_number
        return _life(lambda: life.escalate(number, actor, why="risk", note=reason), action)
    if action not in _WORK_ACTIONS:
        raise InvalidInput("未知操作。")
    if not may_work(principal, case):
        raise NotAllowed(action)
    number = case.case_number
    if action == "start_handling":
        return _life(lambda: life.start_handling(number, actor), action)
    if action == "start_mediation":
        return _life(lambda: life.start_mediation(number, actor, reason), action)
    if action == "resolve":
        return _life(lambda: life.resolve(number, actor, agreement=True, notes=reason or "调解达成协议，办结"), action)
    if action in ("fail_mediation", "refer"):
        if not reason:
            raise InvalidInput(f"“{ACTION_LABELS[action]}”须填写理由。")
        return _life(lambda: life.resolve(number, actor, agreement=False, notes=reason), action)
    if action == "close":
        if status == "resolved":
            _life(lambda: life.follow_up(number, actor), action)
        return _life(lambda: life.archive(number, actor, reason or "结案归档"), action)
    # reopen
    if status not in REOPENABLE:
        raise InvalidInput("当前状态下不能“重新办理”。")
    if not reason:
        raise InvalidInput("“重新办理”须填写理由。")
    return _life(lambda: life.reopen(number, actor, reason), action)
