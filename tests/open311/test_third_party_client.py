"""An Open311 client nobody here wrote: PyPI's `georeport` (read-only) lists services and reads
a request back; the request is filed with a plain form POST, as any GeoReport client sends it."""

from __future__ import annotations

import pytest
import requests

from tests.open311.conftest import SERVICE

georeport = pytest.importorskip("georeport")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_services_and_reads_a_filed_request(live_api: tuple[str, dict[str, str]], fmt: str) -> None:
    base, keys = live_api
    client = georeport.GeoReport(base, output_format=fmt)
    services = client.get_service_list()
    assert len(services) == 517 and any(s["service_code"] == SERVICE for s in services)
    definition = client.get_service_definition(SERVICE)
    assert definition["service_code"] == SERVICE
    filed = requests.post(f"{base}/requests.{fmt}", timeout=30, data={
        "api_key": keys["writer"], "service_code": SERVICE, "address_string": "浦江县",
        "description": "村口的路灯坏了一个多月，晚上很黑，老人出门不安全"})
    assert filed.status_code == 200
    number = filed.json()[0]["service_request_id"] if fmt == "json" else \
        filed.text.split("<service_request_id>")[1].split("<")[0]
    again = client.get_service_request(number)
    assert again["service_request_id"] == number and again["status"] == "open"
    assert again["address"] == "浙江省金华市浦江县"
    listed = client.get_service_requests(service_request_id=number, status="open")
    listed = listed if isinstance(listed, list) else [listed]  # its XML mode returns a lone dict
    assert [r["service_request_id"] for r in listed] == [number]
    if fmt == "json":  # its XML mode cannot parse an empty <service_requests/> (a client bug)
        window = client.get_service_requests(start_date="2010-01-01T00:00:00Z", end_date="2010-02-01T00:00:00Z")
        assert window == []
