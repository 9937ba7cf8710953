"""GeoReport v2 bodies in JSON (bare arrays / objects) and XML (the specification's elements)."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

import orjson
from aiohttp import web

JSON_TYPE = "application/json"
# Characters XML 1.0 cannot carry (controls other than tab/newline/return, lone surrogates, FFFE/FFFF).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XML_TYPE = "text/xml"
# Element names of list items in XML, by the list's own element name.
ITEMS = {
    "services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
    "values": "value", "endpoints": "endpoint", "formats": "format", "service_request_updates": "request_update",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(parent, key), item)
    elif isinstance(value, list):
        name = ITEMS.get(parent.tag, "item")
        for item in value:
            _fill(ET.SubElement(parent, name), item)
    else:
        parent.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """Render `value` under the element `root` (lists repeat their item element)."""
    element = ET.Element(root)
    _fill(element, value)
    text = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def respond(fmt: str, root: str, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Answer `value` in the requested format; `root` names the XML document element."""
    if fmt == "xml":
        return web.Response(body=to_xml(root, value), status=status, content_type=XML_TYPE, charset="utf-8",
                            headers=headers)
    body = orjson.dumps(value)  # UTF-8, compact, as json.dumps(ensure_ascii=False) but several times faster
    return web.Response(body=body, status=status, content_type=JSON_TYPE, charset="utf-8", headers=headers)


def errors(fmt: str, status: int, description: str, headers: dict[str, str] | None = None) -> web.Response:
    """Answer a GeoReport v2 error list: ``[{"code": status, "description": …}]``."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status, headers)
