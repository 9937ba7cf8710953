"""The OpenAPI 3.1 description of /open311/v2/ (kept true by tests/open311/test_openapi.py)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from routing.open311.services import attributes

S = "#/components/schemas/"
DATETIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": S + name}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["code", "description"],
              "properties": {"code": {"type": "integer"}, "description": TEXT}},
    "Service": {
        "type": "object", "additionalProperties": False,
        "required": ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"],
        "properties": {"service_code": TEXT, "service_name": TEXT, "description": TEXT, "metadata": {"type": "boolean"},
                       "type": {"enum": ["realtime", "batch", "blackbox"]}, "keywords": TEXT, "group": TEXT},
    },
    "Attribute": {
        "type": "object", "required": ["variable", "code", "datatype", "required", "order", "description"],
        "properties": {
            "variable": {"type": "boolean"}, "code": TEXT,
            "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
            "required": {"type": "boolean"}, "datatype_description": {"type": ["string", "null"]},
            "order": {"type": "integer"}, "description": TEXT,
            "values": {"type": "array", "items": {"type": "object", "required": ["key", "name"],
                                                  "properties": {"key": TEXT, "name": TEXT}}},
        },
    },
    "ServiceDefinition": {"type": "object", "required": ["service_code", "attributes"],
                          "properties": {"service_code": TEXT, "attributes": _array("Attribute")}},
    "Request": {
        "type": "object", "additionalProperties": False,
        "required": ["service_request_id", "status", "service_code", "requested_datetime", "updated_datetime",
                     "agency_responsible", "address"],
        "properties": {
            "service_request_id": TEXT, "status": {"enum": ["open", "closed"]}, "status_notes": TEXT,
            "service_name": TEXT, "service_code": TEXT,
            "description": {"type": "string", "description": "only for keys with the personal scope; else empty"},
            "agency_responsible": TEXT, "service_notice": TEXT, "requested_datetime": DATETIME,
            "updated_datetime": DATETIME, "expected_datetime": {"type": ["string", "null"], "format": "date-time"},
            "address": {"type": "string", "description": "division path down to township level"},
            "address_id": TEXT, "zipcode": TEXT,
            "lat": {"type": "number", "description": "only for keys with the geo scope"},
            "long": {"type": "number", "description": "only for keys with the geo scope"},
            "media_url": TEXT,
        },
    },
    "RequestCreated": {"type": "object", "required": ["service_request_id", "service_notice"],
                       "properties": {"service_request_id": TEXT, "service_notice": TEXT, "account_id": TEXT}},
    "RequestUpdate": {
        "type": "object", "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {"update_id": TEXT, "service_request_id": TEXT, "status": {"enum": ["open", "closed"]},
                       "updated_datetime": DATETIME, "description": TEXT},
    },
    "Discovery": {"type": "object", "required": ["changeset", "contact", "endpoints"],
                  "properties": {"changeset": DATETIME, "contact": TEXT, "key_service": TEXT,
                                 "endpoints": {"type": "array", "items": {"type": "object"}}}},
}

# A W3C datetime (a date alone is midnight in China Standard Time); the window may not pass 90 days.
W3C_QUERY = {"type": "string",
             "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$",
             "examples": ["2026-04-01T00:00:00+08:00"]}
API_KEY_QUERY = {"name": "api_key", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
                 "description": "optional when reading: a key's scopes add fields (geo, personal)"}


def _responses(ok: str, fmt: str, codes: tuple[int, ...]) -> dict[str, Any]:
    def content(schema: dict[str, Any]) -> dict[str, Any]:
        if fmt == "xml":
            return {"text/xml": {"schema": {"type": "string"}}}
        return {"application/json": {"schema": schema}}

    out: dict[str, Any] = {"200": {"description": "OK", "content": content(_ref(ok) if ok == "Discovery"
                                                                          or ok == "ServiceDefinition" else _array(ok))}}
    for code in (*codes, 429):
        out[str(code)] = {"description": "errors", "content": content(_array("Error"))}
    return out


def _form() -> dict[str, Any]:
    props: dict[str, Any] = {
        "api_key": {"type": "string", "maxLength": 200},
        "service_code": {"type": "string", "maxLength": 40, "examples": ["fq60b6614a"]},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": {"type": "string", "maxLength": 500, "examples": ["诸暨市枫桥镇"]},
        "description": {"type": "string", "minLength": 4, "maxLength": 4000, "pattern": r"\S{4}",
                        "examples": ["隔壁工地每晚十点后施工，噪音扰民，要求停止夜间施工"]},
        "email": {"type": "string", "maxLength": 200}, "device_id": {"type": "string", "maxLength": 200},
        "account_id": {"type": "string", "maxLength": 200}, "first_name": {"type": "string", "maxLength": 200},
        "last_name": {"type": "string", "maxLength": 200}, "phone": {"type": "string", "maxLength": 200},
        "media_url": {"type": "string", "maxLength": 1000, "pattern": "^https?://"},
    }
    for attr in attributes():
        prop: dict[str, Any] = {"type": "string", "maxLength": 500, "description": attr.description}
        if attr.values:
            prop["enum"] = [key for key, _name in attr.values]
        elif attr.datatype == "number":
            prop["pattern"] = "^[0-9]{1,9}$"
        props[f"attribute[{attr.code}]"] = prop
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["api_key", "service_code", "description"], "properties": props,
        "dependentRequired": {"lat": ["long"], "long": ["lat"]},
        "description": "a location is required: lat and long, or address_string (a place in Zhejiang)"}}}}


def _update_form() -> dict[str, Any]:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["api_key", "status", "description"],
        "properties": {"api_key": {"type": "string", "maxLength": 200},
                       "status": {"type": "string", "maxLength": 40,
                                  "description": "open | closed, or FixMyStreet's IN_PROGRESS, FIXED …"},
                       "description": {"type": "string", "maxLength": 4000},
                       "update_id": {"type": "string", "maxLength": 64},
                       "updated_datetime": {"type": "string", "maxLength": 40}}}}}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,30}$"}}


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document."""
    paths: dict[str, Any] = {}
    for fmt in ("json", "xml"):
        paths[f"/discovery.{fmt}"] = {"get": {"operationId": f"discovery_{fmt}", "summary": "Service discovery",
                                              "responses": _responses("Discovery", fmt, ())}}
        paths[f"/services.{fmt}"] = {"get": {"operationId": f"services_{fmt}", "summary": "List services",
                                             "parameters": [API_KEY_QUERY], "responses": _responses("Service", fmt, (403,))}}
        paths[f"/services/{{service_code}}.{fmt}"] = {"get": {
            "operationId": f"service_definition_{fmt}", "summary": "A service's attributes",
            "parameters": [_path_param("service_code"), API_KEY_QUERY],
            "responses": _responses("ServiceDefinition", fmt, (403, 404))}}
        paths[f"/requests.{fmt}"] = {
            "get": {"operationId": f"get_requests_{fmt}", "summary": "Search requests (≤ 90 days, ≤ 1,000)",
                    "parameters": [
                        {"name": "service_request_id", "in": "query",
                         "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,30}(,[A-Za-z0-9-]{1,30}){0,50}$"}},
                        {"name": "service_code", "in": "query", "schema": {"type": "string", "maxLength": 400}},
                        {"name": "start_date", "in": "query", "schema": W3C_QUERY},
                        {"name": "end_date", "in": "query", "schema": W3C_QUERY},
                        {"name": "status", "in": "query",
                         "schema": {"type": "string", "pattern": "^(open|closed)(,(open|closed))?$"}},
                        API_KEY_QUERY],
                    "responses": _responses("Request", fmt, (400, 403))},
            "post": {"operationId": f"post_request_{fmt}", "summary": "File a request (write scope)",
                     "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                     "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"}}],
                     "requestBody": _form(), "responses": _responses("RequestCreated", fmt, (400, 403, 404))},
        }
        paths[f"/requests/{{service_request_id}}.{fmt}"] = {"get": {
            "operationId": f"get_request_{fmt}", "summary": "One request (a one-element list)",
            "parameters": [_path_param("service_request_id"), API_KEY_QUERY],
            "responses": _responses("Request", fmt, (403, 404))}}
        paths[f"/requests/{{service_request_id}}/updates.{fmt}"] = {"post": {
            "operationId": f"post_update_{fmt}", "summary": "A department's progress or closure (write scope)",
            "parameters": [_path_param("service_request_id")], "requestBody": _update_form(),
            "responses": _responses("RequestUpdate", fmt, (400, 403, 404))}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "枫桥助手 Open311 GeoReport v2", "version": "2.0.0",
                 "description": "GeoReport v2 (wiki.open311.org/GeoReport_v2) over the Fengqiao case store; "
                                "deviations are listed in the README."},
        "servers": [{"url": "/open311/v2"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }


async def serve(_request: web.Request) -> web.Response:
    """Serve the document."""
    return web.json_response(document(), dumps=lambda v: json.dumps(v, ensure_ascii=False))
