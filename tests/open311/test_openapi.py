"""The OpenAPI document is true: it names every route, and fuzzing from it finds no server error.

Excluded check: ``positive_data_acceptance`` — the document cannot say that a place must lie in
Zhejiang or that a date window may not pass 90 days, so some schema-valid requests get a 400.
The fuzzing half needs schemathesis (a dev dependency); without it that test is skipped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
from aiohttp import web

from gateway.open311 import PREFIX, build
from gateway.open311.openapi import document


def _routes(app: web.Application) -> set[str]:
    found = set()
    for resource in app.router.resources():
        path = resource.canonical
        if "{tail" in path:
            continue
        for method in {r.method for r in resource} - {"HEAD"}:
            path_doc = path.replace("{fmt}", "FMT").replace("{code}", "{service_code}").replace("{id}", "{service_request_id}")
            found.update({(method.lower(), path_doc.replace("FMT", fmt)) for fmt in ("json", "xml")})
    return {f"{m} {p}" for m, p in found}


def test_document_names_exactly_the_routes() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    documented = {f"{method} {path}" for path, item in doc["paths"].items() for method in item}
    routed = _routes(build("sqlite://", "stricter", sender=False)) - {"get /openapi.json"}
    assert documented == routed


async def test_document_is_served(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    app = web.Application()
    app.add_subapp(PREFIX, build("sqlite://", "stricter", sender=False))
    client = await aiohttp_client(app)
    resp = await client.get(f"{PREFIX}/openapi.json")
    assert resp.status == 200 and (await resp.json()) == document()


def test_fuzzing_from_the_document_finds_no_server_error(live_api: tuple[str, dict[str, str]]) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    base, keys = live_api
    filed = requests.post(f"{base}/requests.json", data={
        "api_key": keys["full"], "service_code": "fq60b6614a", "address_string": "诸暨市枫桥镇",
        "description": "隔壁工地每晚十点后施工，噪音扰民"}, timeout=30).json()[0]["service_request_id"]

    def steer(case: Any, half: bool) -> None:
        """Half the examples get a valid key, service and place, so fuzzing reaches filing and updates."""
        if case.query and "api_key" in case.query:
            case.query["api_key"] = keys["full"] if half else case.query["api_key"]
        if case.method != "POST" or not isinstance(case.body, dict):
            return
        case.body["api_key"] = keys["full"]
        if half and "updates" in case.operation.path:
            case.path_parameters["service_request_id"] = filed
            case.body["status"] = "in_progress"
        elif half:
            case.body["service_code"] = "fq60b6614a"
            case.body.setdefault("address_string", "诸暨市枫桥镇")
    schema = schemathesis.openapi.from_dict(document())
    failures: list[str] = []
    seen: Counter[str] = Counter()
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            steer(case, calls % 2 == 0)
            try:
                response = case.call_and_validate(base_url=base, excluded_checks=[positive_data_acceptance])
                seen[f"{case.method} {case.operation.path} {response.status_code}"] += 1
            except BaseException as exc:  # noqa: BLE001 - collect every operation's failures
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")

        run()
    print(sorted(seen.items()))
    assert calls > 100
    assert seen["POST /requests.json 200"] and seen["GET /requests.xml 200"]  # fuzzing got past the checks
    assert not failures, "\n".join(failures[:10])
