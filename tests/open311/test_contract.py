"""GeoReport v2 contract: every endpoint in JSON and XML, with its error cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from routing.open311.fields import w3c
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.console_tables import AuditEntry
from tests.open311.conftest import FENGQIAO, NOISE, SERVICE, Api, form

W3C_CST = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
FORMATS = ["json", "xml"]


async def get(api: Api, tail: str, fmt: str, expect: int = 200, **params: str):  # type: ignore[no-untyped-def]
    """GET an API resource; return parsed JSON or the XML root."""
    resp = await api.client.get(api.path(f"{tail}.{fmt}"), params=params)
    assert resp.status == expect, await resp.text()
    return await _body(resp, fmt)


async def post(api: Api, tail: str, fmt: str, data: dict[str, str], status: int = 200,  # type: ignore[no-untyped-def]
               headers: dict[str, str] | None = None):
    """POST a form to an API resource; return parsed JSON or the XML root."""
    resp = await api.client.post(api.path(f"{tail}.{fmt}"), data=data, headers=headers)
    assert resp.status == status, await resp.text()
    return await _body(resp, fmt)


async def _body(resp, fmt: str):  # type: ignore[no-untyped-def]
    if fmt == "json":
        assert resp.content_type == "application/json"
        return await resp.json()
    assert resp.content_type == "text/xml" and resp.charset == "utf-8"
    return ET.fromstring(await resp.read())


def error_of(body, fmt: str, status: int) -> str:  # type: ignore[no-untyped-def]
    """Check the spec's error shape and return the description."""
    if fmt == "json":
        assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status
        return str(body[0]["description"])
    assert body.tag == "errors" and body.find("error/code").text == str(status)
    return str(body.find("error/description").text)


def records(body, fmt: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Requests as dicts of strings (JSON values kept as they are)."""
    if fmt == "json":
        assert isinstance(body, list)
        return body
    assert body.tag == "service_requests"
    return [{child.tag: child.text or "" for child in item} for item in body.findall("request")]


async def file(api: Api, fmt: str = "json", key: str = "writer", **extra: str) -> str:
    """File a request and return its id."""
    body = await post(api, "requests", fmt, form(api.keys[key], **extra))
    return records(body, fmt)[0]["service_request_id"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_discovery(api: Api, fmt: str) -> None:
    body = await get(api, "discovery", fmt)
    if fmt == "json":
        assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert body["endpoints"][0]["url"].endswith("/open311/v2/")
    else:
        assert body.find("endpoints/endpoint/formats/format").text == "application/json"


@pytest.mark.parametrize("fmt", FORMATS)
async def test_services_are_the_taxonomy_with_stable_codes(api: Api, fmt: str) -> None:
    body = await get(api, "services", fmt)
    services = body if fmt == "json" else [{c.tag: c.text for c in s} for s in body.findall("service")]
    assert len(services) == 517
    first = next(s for s in services if s["service_code"] == SERVICE)
    assert first["service_name"] == "事故处理" and first["group"] == "城乡建设"
    assert first["type"] == "realtime" and first["keywords"] == "城乡建设,安全生产,事故处理"
    assert first["metadata"] in (True, "true")
    assert len({s["service_code"] for s in services}) == 517


@pytest.mark.parametrize("fmt", FORMATS)
async def test_service_definition(api: Api, fmt: str) -> None:
    body = await get(api, f"services/{SERVICE}", fmt)
    if fmt == "json":
        codes = [a["code"] for a in body["attributes"]]
        dispute = next(a for a in body["attributes"] if a["code"] == "dispute_type")
        assert dispute["datatype"] == "singlevaluelist" and {"key": "neighbour", "name": "邻里纠纷"} in dispute["values"]
    else:
        codes = [a.find("code").text for a in body.findall("attributes/attribute")]
        assert body.find("attributes/attribute/values") is None or True
        keys = [v.find("key").text for v in body.iter("value")]
        assert "neighbour" in keys
    assert codes == ["respondent", "demand", "dispute_type", "people_count", "incident_date"]
    missing = await get(api, "services/nope", fmt, expect=404)
    assert "nope" in error_of(missing, fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_post_request_files_a_case_through_the_chat_path(api: Api, fmt: str) -> None:
    body = await post(api, "requests", fmt, form(api.keys["writer"], phone="13812345678",
                                                 **{"attribute[respondent]": "某建筑公司"}))
    answer = records(body, fmt)[0]
    number = answer["service_request_id"]
    assert re.match(r"^FQ-2026-\d{6}$", number)
    assert "承办单位" in answer["service_notice"] and "办理期限" in answer["service_notice"]
    with api.sessions() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        kinds = s.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).scalars().all()
    assert case.channel == "open311" and case.location_code.startswith("330681")
    assert case.respondent == "某建筑公司" and case.contact_phone == "13812345678"
    assert case.handling_body and case.due_date and case.category == "城乡建设"
    assert {"status_changed", "routed"} <= set(kinds)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("change", "status", "words"), [
    ({"api_key": ""}, 403, "scope"),
    ({"api_key": "fq_not-a-key"}, 403, "not valid"),
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "nope"}, 404, "service_code"),
    ({"description": ""}, 400, "description"),
    ({"address_string": ""}, 400, "location"),
    ({"address_string": "北京市朝阳区建国路"}, 400, "Zhejiang"),
    ({"address_string": "", "lat": "39.90", "long": "116.40"}, 400, "Zhejiang"),
    ({"address_string": "", "lat": "29.7"}, 400, "together"),
    ({"address_string": "", "lat": "abc", "long": "120"}, 400, "decimal"),
    ({"attribute[dispute_type]": "no-such"}, 400, "listed values"),
    ({"attribute[nope]": "x"}, 400, "unknown attribute"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
])
async def test_post_request_errors(api: Api, fmt: str, change: dict[str, str], status: int, words: str) -> None:
    data = form(api.keys["writer"], **change)
    body = await post(api, "requests", fmt, data, status=status)
    assert words in error_of(body, fmt, status)


async def test_post_needs_the_write_scope_and_a_form(api: Api) -> None:
    body = await post(api, "requests", "json", form(api.keys["reader"]), status=403)
    assert "write" in error_of(body, "json", 403)
    resp = await api.client.post(api.path("requests.json"), json=form(api.keys["writer"]))
    assert resp.status == 400 and "form-encoded" in (await resp.json())[0]["description"]


async def test_lat_long_in_zhejiang_resolve_to_the_city(api: Api) -> None:
    number = await file(api, address_string="", lat="29.713", long="120.242",
                        description="诸暨这边工地晚上十点以后还在施工，噪音很大")
    with api.sessions() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
    assert case.location_code.startswith("3306")  # 绍兴市 (诸暨 is named in the description)


async def test_idempotency_key_files_once(api: Api) -> None:
    headers = {"Idempotency-Key": "dept-7781"}
    first = await post(api, "requests", "json", form(api.keys["writer"]), headers=headers)
    again = await post(api, "requests", "json", form(api.keys["writer"]), headers=headers)
    assert first == again
    with api.sessions() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar() == 1
    other = await post(api, "requests", "json", form(api.keys["writer"], description="另一件事情：路灯坏了很久"),
                       headers=headers, status=400)
    assert "Idempotency-Key" in error_of(other, "json", 400)
    bad = await post(api, "requests", "json", form(api.keys["writer"]), headers={"Idempotency-Key": "有中文"},
                     status=400)
    assert "Idempotency-Key" in error_of(bad, "json", 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_get_requests_public_fields_and_filters(api: Api, fmt: str) -> None:
    number = await file(api, lat="29.713", long="120.242")
    other = await file(api, description="村里的路灯坏了一个多月没人修，晚上很黑", address_string="浦江县")
    found = records(await get(api, "requests", fmt), fmt)
    assert [r["service_request_id"] for r in found] == [other, number]  # newest first
    one = found[1]
    assert one["status"] == "open" and one["service_code"] == SERVICE and one["agency_responsible"]
    assert W3C_CST.match(one["requested_datetime"]) and W3C_CST.match(one["updated_datetime"])
    assert W3C_CST.match(one["expected_datetime"])
    with api.sessions() as s:  # the database's formatting (routing.open311.listing) equals Python's
        row = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        assert (one["requested_datetime"], one["updated_datetime"]) == (w3c(row.created_at), w3c(row.updated_at))
    assert one["address"] == "浙江省绍兴市诸暨市枫桥镇"
    assert not one["description"] and "lat" not in one and "long" not in one
    assert NOISE not in str(found)
    by_id = records(await get(api, "requests", fmt, service_request_id=f"{number},{other}"), fmt)
    assert {r["service_request_id"] for r in by_id} == {number, other}
    assert records(await get(api, "requests", fmt, status="closed"), fmt) == []
    assert len(records(await get(api, "requests", fmt, status="open,closed"), fmt)) == 2
    assert len(records(await get(api, "requests", fmt, service_code=SERVICE), fmt)) == 2
    assert records(await get(api, "requests", fmt, service_code="fq00000000"), fmt) == []
    window = {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-03-01T00:00:00+08:00"}
    assert records(await get(api, "requests", fmt, **window), fmt) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("params", "words"), [
    ({"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"}, "90 days"),
    ({"start_date": "2026-06-01T00:00:00+08:00", "end_date": "2026-01-01T00:00:00+08:00"}, "before"),
    ({"start_date": "yesterday"}, "W3C"),
    ({"status": "pending"}, "status"),
    ({"service_request_id": "FQ-1;DROP TABLE cases"}, "service_request_id"),
])
async def test_get_requests_errors(api: Api, fmt: str, params: dict[str, str], words: str) -> None:
    body = await get(api, "requests", fmt, expect=400, **params)
    assert words in error_of(body, fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_get_request_by_id_with_scopes(api: Api, fmt: str) -> None:
    number = await file(api, lat="29.713", long="120.242", address_string=FENGQIAO)
    public = records(await get(api, f"requests/{number}", fmt), fmt)
    assert len(public) == 1 and public[0]["service_request_id"] == number and not public[0]["description"]
    geo_free = records(await get(api, f"requests/{number}", fmt, api_key=api.keys["reader"]), fmt)[0]
    assert "lat" not in geo_free
    full = records(await get(api, f"requests/{number}", fmt, api_key=api.keys["full"]), fmt)[0]
    assert float(full["lat"]) == 29.713 and float(full["long"]) == 120.242
    assert full["description"] == NOISE
    with api.sessions() as s:
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "api_personal_read")).scalars().all()
    assert [a.case_number for a in audit] == [number] and audit[0].username == "api:full"
    missing = await get(api, "requests/FQ-2026-999999", fmt, expect=404)
    assert "FQ-2026-999999" in error_of(missing, fmt, 404)
    bad_key = await get(api, f"requests/{number}", fmt, expect=403, api_key="wrong")
    error_of(bad_key, fmt, 403)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_department_updates(api: Api, fmt: str) -> None:
    number = await file(api)
    progress = {"api_key": api.keys["writer"], "status": "IN_PROGRESS", "description": "已派员到现场核查",
                "update_id": "u-1"}
    body = await post(api, f"requests/{number}/updates", fmt, progress)
    if fmt == "json":
        assert body[0]["update_id"] == "u-1" and body[0]["status"] == "open"
    else:
        assert body.find("request_update/update_id").text == "u-1"
    await post(api, f"requests/{number}/updates", fmt, progress)  # a retry: no second event
    closing = {**progress, "status": "closed", "description": "已责令夜间停工，现场恢复安静", "update_id": "u-2"}
    await post(api, f"requests/{number}/updates", fmt, closing)
    one = records(await get(api, f"requests/{number}", fmt), fmt)[0]
    assert one["status"] == "closed"
    with api.sessions() as s:
        case = s.execute(select(Case).where(Case.case_number == number)).scalar_one()
        kinds = s.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).scalars().all()
    assert kinds.count("department_update") == 2 and case.status == "resolved"
    errors = [
        ({"status": "maybe"}, 400, number), ({"description": ""}, 400, number),
        ({"api_key": api.keys["reader"]}, 403, number), ({}, 404, "FQ-2026-999999"),
    ]
    for change, status, target in errors:
        body = await post(api, f"requests/{target}/updates", fmt, {**progress, **change}, status=status)
        error_of(body, fmt, status)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_unknown_paths_and_rate_limit(api: Api, fmt: str) -> None:
    resp = await api.client.get(api.path("tokens/abc.json"))
    assert resp.status == 404 and (await resp.json())[0]["code"] == 404
    for _ in range(2):
        await get(api, "services", fmt, api_key=api.keys["slow"])
    resp = await api.client.get(api.path(f"services.{fmt}"), params={"api_key": api.keys["slow"]})
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    error_of(await _body(resp, fmt), fmt, 429)


async def test_get_requests_by_several_services_newest_first(api: Api) -> None:
    other_service = "fq77fbdcec"  # 城乡建设 / 安全生产 / 安全生产管理
    first = await file(api)
    second = await file(api, service_code=other_service, description="小区里的消防通道被杂物堵死了很久")
    third = await file(api)
    both = records(await get(api, "requests", "json", service_code=f"{SERVICE},{other_service}"), "json")
    assert [r["service_request_id"] for r in both] == [third, second, first]
    one = records(await get(api, "requests", "json", service_code=other_service, status="open"), "json")
    assert [r["service_request_id"] for r in one] == [second]


async def test_concurrent_retries_with_one_idempotency_key_file_once(api: Api) -> None:
    headers = {"Idempotency-Key": "burst-1"}
    answers = await asyncio.gather(*(
        api.client.post(api.path("requests.json"), data=form(api.keys["writer"]), headers=headers) for _ in range(5)))
    bodies = [await r.json() for r in answers]
    assert [r.status for r in answers] == [200] * 5
    assert len({b[0]["service_request_id"] for b in bodies}) == 1
    with api.sessions() as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar() == 1
