"""Console pages: login, queue, case file, case work, audit log."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console import db
from gateway.console.accounts import case_commands as case_actions
from gateway.console.accounts import casework as cw
from gateway.console.accounts.access import ROLE_LABELS, Principal
from gateway.console.accounts.store import LoginRefused, audit, complete_totp, login, logout
from gateway.console.keys import CASES, LIFE, TEMPLATES, TODAY
from gateway.console.security import (
    ACTIVE,
    active,
    clear_session_cookie,
    cookie_name,
    pre_csrf,
    set_pre_csrf_cookie,
    set_session_cookie,
)
from routing.cases.statuses import STATUS_LABELS, allowed_actions
from routing.centre import supervision
from routing.persistence.case_tables import Case
from routing.persistence.console_tables import AuditEntry, ConsoleUser

CST_OFFSET = timedelta(hours=8)


def format_datetime(value: datetime | date | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in China Standard Time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None) - (value.utcoffset() or timedelta())
        return (value + CST_OFFSET).strftime(fmt)
    return value.isoformat()


def ip_of(request: web.Request) -> str:
    """Return the client address used for throttling and the audit log."""
    return request.remote or "?"


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """Render a console template with the signed-in user and their CSRF token."""
    session = request.get(ACTIVE)
    me = getattr(session, "principal", None)
    context.setdefault("me", me)
    context.setdefault("csrf", getattr(session, "csrf_token", ""))
    context.setdefault("role_labels", ROLE_LABELS)
    context.setdefault("error", None)
    html = request.app[TEMPLATES].get_template(f"console/{name}").render(**context)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def today(request: web.Request) -> date:
    """Return the working date (China Standard Time)."""
    return request.app[TODAY]()


def _form_dict(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


# ---------------------------------------------------------------- login / logout


def _login_form(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    token, fresh = pre_csrf(request)
    response = render(request, "login.html", status=status, csrf=token, **context)
    if fresh:
        set_pre_csrf_cookie(request, response, token)
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    """Show the login form (or go to the queue when already signed in)."""
    session = request.get(ACTIVE)
    if session is not None and getattr(session, "stage", "") == "full":
        raise web.HTTPFound("/console/")
    return _login_form(request, username="")


async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the password; open a full session or a pending two-factor one."""
    form = _form_dict(await request.post())
    username, password = form.get("username", ""), form.get("password", "")
    result = await db.run(request, lambda s: login(s, username, password, ip_of(request)))
    if isinstance(result, LoginRefused):
        return _login_form(request, status=429 if result.reason == "throttled" else 401,
                           error=result.message, username=username[:64])
    response = web.HTTPFound("/console/totp" if result.needs_totp else "/console/")
    set_session_cookie(request, response, result.token)
    raise response


async def totp_page(request: web.Request) -> web.StreamResponse:
    """Ask for the six-digit code of a supervisor's authenticator."""
    if active(request).stage == "full":
        raise web.HTTPFound("/console/")
    return render(request, "totp.html")


async def totp_post(request: web.Request) -> web.StreamResponse:
    """Check the code; replace the pending session by a full one (a new token)."""
    form = _form_dict(await request.post())
    token = request.cookies.get(cookie_name(request), "")
    result = await db.run(request, lambda s: complete_totp(s, token, form.get("code", ""), ip_of(request)))
    if isinstance(result, LoginRefused):
        if result.reason in ("expired", "throttled"):
            response = web.HTTPFound("/console/login")
            clear_session_cookie(request, response)
            raise response
        return render(request, "totp.html", status=401, error=result.message)
    response = web.HTTPFound("/console/")
    set_session_cookie(request, response, result.token)
    raise response


async def logout_post(request: web.Request) -> web.StreamResponse:
    """Delete the server-side session; the cookie is worthless from now on."""
    token = request.cookies.get(cookie_name(request), "")
    me = active(request).principal

    def work(s: Session) -> None:
        logout(s, token)
        audit(s, me.user_id, me.username, "logout", ip=ip_of(request))

    await db.run(request, work)
    response = web.HTTPFound("/console/login")
    clear_session_cookie(request, response)
    raise response


# ---------------------------------------------------------------- queue


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


async def queue_page(request: web.Request) -> web.StreamResponse:
    """The work queue: my cases, unassigned cases of my region, or the whole region."""
    me = active(request).principal
    q = request.query
    default_view = "region" if me.can("view_region") else "mine"
    view = q.get("view", default_view)
    if view not in ("mine", "unassigned", "region") or (view == "region" and not me.can("view_region")):
        view = default_view
    flt = cw.QueueFilter(
        view=view, status=q.get("status", "") if q.get("status", "") in STATUS_LABELS else "",
        risk=q.get("risk", ""), category=q.get("category", "")[:32], due=q.get("due", ""),
        page=_int(q.get("page")),
    )
    day = today(request)

    def work(s: Session) -> tuple[cw.QueuePage, list[str], list[Any]]:
        from gateway.console.centre import visible_supervisions

        return cw.queue(s, me, flt, day), cw.categories(s, me), visible_supervisions(s, me, active_only=True)

    page, cats, supervised = await db.run(request, work)
    return render(
        request, "queue.html", page=page, flt=flt, categories=cats, statuses=STATUS_LABELS,
        risks=cw.RISK_LABELS, dues=cw.DUE_FILTERS, today=day, supervised=supervised,
    )


# ---------------------------------------------------------------- case file


async def denied(request: web.Request, me: Principal, number: str, what: str) -> None:
    """Audit a refused attempt to open or change a case (in its own transaction)."""
    await db.run(request, lambda s: audit(s, me.user_id, me.username, "denied", {"what": what},
                                          case_number=number[:20], ip=ip_of(request)))


async def _case_context(request: web.Request, reveal: bool = False, error: str | None = None,
                        status: int = 200) -> web.Response:
    me = active(request).principal
    number = request.match_info["number"]

    def work(s: Session) -> dict[str, Any]:
        case = cw.load_case(s, me, number)
        file = cw.case_file(s, me, case, reveal=reveal)
        audit(s, me.user_id, me.username, "reveal" if reveal else "view", case_number=case.case_number,
              ip=ip_of(request))
        targets = cw.colleagues(s, me) if (me.can("assign") or me.can("transfer")) else []
        return {
            "file": file,
            "canned": cw.canned_for(s, case.category),
            "targets": [t for t in targets if t.person_id != case.assigned_person_id],
            "lifecycle_actions": allowed_actions(case.status),
            "supervisions": supervision.active_for_case(s, case.id, case.body_id),
        }

    try:
        ctx = await db.run(request, work)
    except cw.CaseHidden:
        await denied(request, me, number, "view")
        raise web.HTTPNotFound(text="案件不存在或无权查看") from None
    except cw.NotAllowed:
        await denied(request, me, number, "reveal")
        raise web.HTTPForbidden(text="无权查看完整个人信息") from None
    return render(
        request, "case.html", status=status, error=error, c=ctx["file"].case, today=today(request),
        contact_methods=cw.CONTACT_METHODS, mediation_results=cw.MEDIATION_RESULTS,
        action_labels=case_actions.ACTION_LABELS, risks=cw.RISK_LABELS, statuses=STATUS_LABELS, **ctx,
    )


async def case_page(request: web.Request) -> web.StreamResponse:
    """The case file with masked personal data."""
    return await _case_context(request)


async def reveal_post(request: web.Request) -> web.StreamResponse:
    """The case file with ID and phone numbers shown (permission checked, audited)."""
    return await _case_context(request, reveal=True)


async def _change(request: web.Request, change) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    """Load the case under the access rules, apply ``change(session, me, case, form)``, audit it."""
    me = active(request).principal
    number = request.match_info["number"]
    form = _form_dict(await request.post())

    def work(s: Session) -> str:
        case = cw.load_case(s, me, number)
        what = change(s, me, case, form)
        audit(s, me.user_id, me.username, "edit", {"what": what}, case_number=case.case_number, ip=ip_of(request))
        return case.case_number

    try:
        case_number = await db.run(request, work)
    except cw.CaseHidden:
        await denied(request, me, number, "edit")
        raise web.HTTPNotFound(text="案件不存在或无权查看") from None
    except cw.NotAllowed:
        await denied(request, me, number, "edit")
        raise web.HTTPForbidden(text="无权进行此操作") from None
    except cw.InvalidInput as exc:
        return await _case_context(request, error=str(exc), status=400)
    raise web.HTTPSeeOther(f"/console/cases/{case_number}")


async def note_post(request: web.Request) -> web.StreamResponse:
    """Add a private note."""
    return await _change(request, lambda s, me, case, form: (cw.add_note(s, me, case, form), "note")[1])


async def contact_post(request: web.Request) -> web.StreamResponse:
    """Log a contact."""
    return await _change(request, lambda s, me, case, form: (cw.add_contact(s, me, case, form), "contact")[1])


async def mediation_post(request: web.Request) -> web.StreamResponse:
    """Record a mediation session."""
    return await _change(request, lambda s, me, case, form: (cw.add_mediation(s, me, case, form), "mediation")[1])


async def agreement_post(request: web.Request) -> web.StreamResponse:
    """Record a 调解协议书."""
    day = today(request)
    return await _change(
        request, lambda s, me, case, form: (cw.add_agreement(s, me, case, form, day), "agreement")[1]
    )


async def agreement_print(request: web.Request) -> web.StreamResponse:
    """The printable 调解协议书 (an export: audited)."""
    me = active(request).principal
    number = request.match_info["number"]
    try:
        agreement_id = int(request.match_info["agreement"])
    except ValueError:
        raise web.HTTPNotFound() from None

    def work(s: Session) -> tuple[Case, Any]:
        case = cw.load_case(s, me, number)
        agreement = cw.find_agreement(s, case, agreement_id)
        audit(s, me.user_id, me.username, "export", {"agreement": agreement.number},
              case_number=case.case_number, ip=ip_of(request))
        return case, agreement

    try:
        case, agreement = await db.run(request, work)
    except cw.CaseHidden:
        raise web.HTTPNotFound(text="案件不存在或无权查看") from None
    return render(request, "agreement_print.html", c=case, a=agreement)


async def action_post(request: web.Request) -> web.StreamResponse:
    """Claim, assign, transfer, escalate, mediate, resolve, close or reopen a case."""
    me = active(request).principal
    number = request.match_info["number"]
    form = _form_dict(await request.post())
    service = request.app[CASES]

    def load(s: Session) -> tuple[Case, ConsoleUser | None]:
        case = cw.load_case(s, me, number)
        target = None
        if form.get("target"):
            target = s.execute(
                select(ConsoleUser).where(ConsoleUser.username == form["target"][:64], ConsoleUser.active.is_(True))
            ).scalar()
            if target is None or target.id not in {u.id for u in cw.colleagues(s, me)}:
                raise cw.InvalidInput("接收人不在本辖区。")
        return case, target

    try:
        case, target = await db.run(request, load)
        request_ = case_actions.ActionRequest(form.get("action", ""), form.get("reason", ""), target)
        new_status = await asyncio.to_thread(case_actions.apply, service, request.app[LIFE], me, case, request_)
    except cw.CaseHidden:
        await denied(request, me, number, "action")
        raise web.HTTPNotFound(text="案件不存在或无权查看") from None
    except cw.NotAllowed:
        await denied(request, me, number, "action")
        raise web.HTTPForbidden(text="无权进行此操作") from None
    except cw.InvalidInput as exc:
        return await _case_context(request, error=str(exc), status=400)
    await db.run(request, lambda s: audit(
        s, me.user_id, me.username, "edit", {"what": "action", "action": request_.action, "status": new_status},
        case_number=case.case_number, ip=ip_of(request)))
    location = f"/console/cases/{case.case_number}"
    if request_.action in ("transfer", "escalate") and not me.can("view_region"):
        location = "/console/"  # the case has left this worker's hands
    raise web.HTTPSeeOther(location)


# ---------------------------------------------------------------- audit log


async def audit_page(request: web.Request) -> web.StreamResponse:
    """The audit log (supervisors and administrators)."""
    me = active(request).principal
    if not me.can("read_audit"):
        raise web.HTTPForbidden(text="无权查看审计日志")
    case_number = request.query.get("case", "")[:20]
    username = request.query.get("user", "")[:64]

    def work(s: Session) -> list[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)
        if case_number:
            query = query.where(AuditEntry.case_number == case_number.upper())
        if username:
            query = query.where(AuditEntry.username == username)
        rows = list(s.execute(query).scalars())
        audit(s, me.user_id, me.username, "view_audit", {"case": case_number, "user": username}, ip=ip_of(request))
        return rows

    entries = await db.run(request, work)
    return render(request, "audit.html", entries=entries, case_number=case_number, username=username)


def principal_label(me: Principal) -> str:
    """Return 'name（role）' for the header."""
    return f"{me.display_name}（{me.role_label}）"


def setup(app: web.Application) -> None:
    """Attach the console's routes."""
    r = app.router
    r.add_get("/login", login_page, name="console.login")
    r.add_post("/login", login_post, name="console.login_post")
    r.add_get("/totp", totp_page, name="console.totp")
    r.add_post("/totp", totp_post, name="console.totp_post")
    r.add_post("/logout", logout_post, name="console.logout")
    r.add_get("/", queue_page, name="console.queue")
    r.add_get("/cases/{number}", case_page, name="console.case")
    r.add_post("/cases/{number}/reveal", reveal_post, name="console.reveal")
    r.add_post("/cases/{number}/notes", note_post, name="console.note")
    r.add_post("/cases/{number}/contacts", contact_post, name="console.contact")
    r.add_post("/cases/{number}/mediations", mediation_post, name="console.mediation")
    r.add_post("/cases/{number}/agreements", agreement_post, name="console.agreement")
    r.add_get("/cases/{number}/agreements/{agreement}", agreement_print, name="console.agreement_print")
    r.add_post("/cases/{number}/action", action_post, name="console.action")
    r.add_get("/audit", audit_page, name="console.audit")
