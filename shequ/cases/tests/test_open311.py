"""Open311 GeoReport v2: conformance to the shared JSON Schemas, the XML element names, posting
with an API key, the GET filters, and that GET answers reveal no personal data."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from shequ.cases import services
from shequ.cases.models import Case, Category
from shequ.cases.open311 import selectors
from shequ.cases.open311.errors import ClientError
from shequ.cases.open311.services import open311_client_create, open311_client_revoke
from shequ.cases.states import Source, Status
from shequ.cases.testing import CaseWorld, photo
from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.registry import services as registry

P = testing.persona
BASE = "/open311/v2"
KEY = "test-open311-key-0123456789"
# Inside grid A (116.00–116.01 E, 39.00–39.01 N).
IN_A = {"lat": "39.00512345", "long": "116.00498765"}
# The shared conformance schemas when the checkout sits beside them, else the copy kept with
# these tests (identical; `test_the_kept_copy_of_the_schemas_is_the_shared_one` says so).
SHARED_SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "open311"
KEPT_SCHEMAS = Path(__file__).resolve().parent / "open311_schemas"
SCHEMAS = SHARED_SCHEMAS if SHARED_SCHEMAS.is_dir() else KEPT_SCHEMAS
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# ---------------------------------------------------------------------------------------------
# Conformance helpers


def test_the_kept_copy_of_the_schemas_is_the_shared_one() -> None:
    kept = {p.name: p.read_bytes() for p in KEPT_SCHEMAS.glob("*.json")}
    assert len(kept) == 6
    if SHARED_SCHEMAS.is_dir():
        shared = {p.name: p.read_bytes() for p in SHARED_SCHEMAS.glob("*.json")}
        assert kept == shared


@pytest.fixture(scope="module")
def schemas() -> Registry:
    """The shared schemas by file URI, so their relative `$ref`s resolve; a missing folder
    fails every conformance test instead of skipping it."""
    assert SCHEMAS.is_dir(), f"the Open311 schemas are missing: {SCHEMAS}"
    resources = []
    for name in ("request", "requests", "service", "services", "service-definition", "swagger"):
        contents = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        resources.append((f"{SCHEMAS.as_uri()}/{name}.json", resource))
    registry_: Registry = Registry().with_resources(resources)
    return registry_


_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    """RFC 3339 with a zone, as GeoReport v2 demands (jsonschema checks it only with us)."""
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        raise ValueError(value)
    dt.datetime.fromisoformat(value)
    return True


def conforms(schemas: Registry, name: str, data: Any) -> None:
    """Validate `data` against `name` (`requests.json`, `swagger.json#/definitions/…`)."""
    ref = {"$ref": f"{SCHEMAS.as_uri()}/{name}"}
    Draft7Validator(ref, registry=schemas, format_checker=_formats).validate(data)


def test_the_date_time_check_refuses_a_datetime_without_zone(schemas: Registry) -> None:
    row = {
        "service_request_id": "SJ1",
        "status": "open",
        "service_code": "0102",
        "requested_datetime": "2026-11-22T10:00:00",
    }
    with pytest.raises(ValidationError, match="date-time"):
        conforms(schemas, "request.json", row)
    conforms(schemas, "request.json", {**row, "requested_datetime": "2026-11-22T10:00:00+08:00"})


def xml_of(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own answer, not outside input)


def json_of(response: Any) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def assert_error(response: Any, status: int, fmt: str = "json") -> str:
    """The specification's error list, with the HTTP status inside and out."""
    assert response.status_code == status
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "errors"
        (error,) = list(root)
        assert error.tag == "error"
        assert error.findtext("code") == str(status)
        description = error.findtext("description") or ""
    else:
        body = json_of(response)
        assert isinstance(body, list) and len(body) == 1
        assert body[0]["code"] == status
        description = body[0]["description"]
    assert description
    return description


# ---------------------------------------------------------------------------------------------
# World


@pytest.fixture
def key(cw: CaseWorld) -> str:
    open311_client_create(name="test-client", key=KEY)
    return KEY


def post(client: Client, fmt: str = "json", **data: str) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data)


def report(cw: CaseWorld, *, by: str = "grid_worker_a", **kw: Any) -> Case:
    kw.setdefault("category", cw.category)
    kw.setdefault("description", "楼道口堆满了旧家具")
    kw.setdefault("source", Source.GRID)
    kw.setdefault("area", testing.area("A"))
    return services.case_create(actor=P(by), **kw)


def move(case: Case, name: str, by: str, **kw: Any) -> Case:
    return services.case_move(actor=P(by), case=case, move=name, **kw)


def rows(client: Client, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 200, response.content
    body: list[dict[str, Any]] = json_of(response)
    return body


def ids(client: Client, **params: str) -> set[str]:
    return {row["service_request_id"] for row in rows(client, **params)}


# ---------------------------------------------------------------------------------------------
# Discovery and services


def test_discovery_names_this_endpoint_and_both_formats(client: Client, db: Any) -> None:
    body = json_of(client.get(f"{BASE}/discovery.json"))
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    formats = root.findall("endpoints/endpoint/formats/format")
    assert {f.text for f in formats} == {"application/json", "text/xml"}


def test_services_are_the_public_active_leaf_categories(
    client: Client, cw: CaseWorld, schemas: Registry
) -> None:
    Category.objects.filter(code="0103").update(active=False)
    Category.objects.filter(code="0304").update(public=False)
    body = json_of(client.get(f"{BASE}/services.json"))
    conforms(schemas, "services.json", body)
    codes = [row["service_code"] for row in body]
    assert "0102" in codes and "0301" in codes
    assert "01" not in codes  # a group, not a service
    assert "0103" not in codes and "0304" not in codes
    # Disputes, security and welfare name people: never offered to outside systems.
    assert not {"0501", "0601", "0701"} & set(codes)
    row = next(r for r in body if r["service_code"] == "0102")
    assert row["service_name"] == "乱堆乱放"
    assert row["group"] == "市容环境"
    assert row["metadata"] is False and row["type"] == "realtime"


def test_services_in_xml_use_the_specification_element_names(client: Client, cw: CaseWorld) -> None:
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    service = next(s for s in root.findall("service") if s.findtext("service_code") == "0102")
    assert [child.tag for child in service] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert service.findtext("metadata") == "false"
    assert service.findtext("group") == "市容环境"


def test_a_service_definition_has_no_attributes(
    client: Client, cw: CaseWorld, schemas: Registry
) -> None:
    body = json_of(client.get(f"{BASE}/services/0102.json"))
    conforms(schemas, "service-definition.json", body)
    assert body == {"service_code": "0102", "attributes": []}
    root = xml_of(client.get(f"{BASE}/services/0102.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "0102"
    assert root.find("attributes") is not None


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", ["9999", "01"])
def test_an_unknown_or_group_service_code_is_not_found(
    client: Client, cw: CaseWorld, code: str, fmt: str
) -> None:
    assert_error(client.get(f"{BASE}/services/{code}.{fmt}"), 404, fmt)


# ---------------------------------------------------------------------------------------------
# POST


def test_posting_a_request_creates_an_open311_case_in_the_grid_at_its_point(
    client: Client, key: str, schemas: Registry
) -> None:
    response = post(
        client,
        api_key=key,
        service_code="0102",
        description="路口堆了很多建筑垃圾",
        address_string="文一西路12号门口",
        first_name="小明",
        last_name="王",
        phone="13800138000",
        email="wang@example.com",
        **IN_A,
    )
    assert response.status_code == 200, response.content
    body = json_of(response)
    (answer,) = body
    conforms(schemas, "swagger.json#/definitions/RequestResponse", answer)
    assert set(answer) == {"service_request_id", "service_notice"}
    case = Case.objects.get(code=answer["service_request_id"])
    assert case.source == Source.OPEN311 and case.status == Status.REPORTED
    assert case.area == testing.area("A")
    assert case.district == testing.area("D")
    assert case.open311_client is not None and case.open311_client.name == "test-client"
    assert case.reporter is None and case.recorded_by is None
    assert case.reporter_name == "王小明" and case.reporter_phone == "13800138000"
    assert case.address == "文一西路12号门口"
    assert (case.lat, case.lng) == (39.00512345, 116.00498765)
    entry = AuditEntry.objects.get(action="case.reported", object_id=str(case.pk))
    assert entry.actor is None and entry.actor_name == "open311:test-client"


def test_posting_in_xml_answers_in_xml(client: Client, key: str) -> None:
    response = post(client, "xml", api_key=key, service_code="0102", description="垃圾", **IN_A)
    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    code = request.findtext("service_request_id") or ""
    assert Case.objects.filter(code=code, source=Source.OPEN311).exists()
    assert request.findtext("service_notice")


def test_posting_needs_no_csrf_token(key: str) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, api_key=key, service_code="0102", description="垃圾", **IN_A)
    assert response.status_code == 200


def test_the_api_key_may_be_sent_in_the_query_string(client: Client, key: str) -> None:
    response = client.post(
        f"{BASE}/requests.json?api_key={key}",
        {"service_code": "0102", "description": "垃圾", **IN_A},
    )
    assert response.status_code == 200


def test_a_media_url_is_kept_as_a_private_note_and_never_published(
    client: Client, key: str
) -> None:
    url = "https://photos.example.com/p/123.jpg"
    body = json_of(
        post(client, api_key=key, service_code="0102", description="垃圾", media_url=url, **IN_A)
    )
    case = Case.objects.get(code=body[0]["service_request_id"])
    note = case.events.get(kind="media_url")
    assert note.note == url and note.public is False
    (row,) = rows(client, service_request_id=case.code)
    assert row["media_url"] is None
    assert url not in client.get(f"{BASE}/requests/{case.code}.xml").content.decode()


def test_a_building_named_by_address_id_or_address_string_places_the_case(
    client: Client, key: str
) -> None:
    building = registry.building_create(
        actor="test",
        area=testing.area("A1"),
        code="TEST-B-3",
        name="3栋",
        road="文一西路",
        road_number="12",
        lat=39.002,
        lng=116.003,
    )
    by_id = json_of(
        post(client, api_key=key, service_code="0102", description="垃圾", address_id="TEST-B-3")
    )
    case = Case.objects.get(code=by_id[0]["service_request_id"])
    assert case.area == testing.area("A1")
    assert case.address == building.standard_address
    assert (case.lat, case.lng) == (39.002, 116.003)
    typed = f"{building.standard_address.replace('3栋', '三号楼')}2单元301"
    by_text = json_of(
        post(client, api_key=key, service_code="0102", description="垃圾", address_string=typed)
    )
    case = Case.objects.get(code=by_text[0]["service_request_id"])
    assert case.area == testing.area("A1") and case.address == typed


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("given", ["", "wrong-key-0123456789"])
def test_posting_without_a_valid_api_key_is_forbidden(
    client: Client, key: str, given: str, fmt: str
) -> None:
    data = {"service_code": "0102", "description": "垃圾", **IN_A}
    if given:
        data["api_key"] = given
    assert_error(post(client, fmt, **data), 403, fmt)
    assert not Case.objects.exists()


def test_a_revoked_client_may_post_no_more(client: Client, key: str) -> None:
    open311_client_revoke(name="test-client")
    assert_error(post(client, api_key=key, service_code="0102", description="垃圾", **IN_A), 403)
    assert not Case.objects.exists()


@pytest.mark.parametrize("code", ["9999", "01", "0504"])
def test_posting_to_an_unknown_group_or_private_service_is_not_found(
    client: Client, key: str, code: str
) -> None:
    Category.objects.filter(code="0504").update(public=False)
    response = post(client, "xml", api_key=key, service_code=code, description="垃圾", **IN_A)
    assert_error(response, 404, "xml")
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"description": "垃圾", **IN_A},  # no service_code
        {"service_code": "0102", "description": "垃圾"},  # no location
        {"service_code": "0102", "description": "垃圾", "lat": "39.005"},  # lat without long
        {"service_code": "0102", "description": "垃圾", "lat": "north", "long": "116.005"},
        {"service_code": "0102", "description": "垃圾", "lat": "nan", "long": "116.005"},
        {"service_code": "0102", "description": "垃圾", "lat": "95", "long": "116.005"},
        {"service_code": "0102", "description": "垃圾", "lat": "0", "long": "0"},  # no grid
        {"service_code": "0102", "description": "垃圾", "address_string": "火星路1号"},
        {"service_code": "0102", "description": "垃圾", "address_id": "NO-SUCH-BUILDING"},
        {"service_code": "0102", **IN_A},  # no description
        {"service_code": "0102", "description": "垃圾", "media_url": "file:///etc/passwd", **IN_A},
    ],
)
def test_a_request_without_what_it_needs_is_a_bad_request(
    client: Client, key: str, data: dict[str, str]
) -> None:
    assert_error(post(client, api_key=key, **data), 400)
    assert not Case.objects.exists()


# ---------------------------------------------------------------------------------------------
# GET requests


def test_requests_conform_in_json_and_use_the_specification_elements_in_xml(
    client: Client, cw: CaseWorld, key: str, media: Any, schemas: Registry
) -> None:
    report(cw)
    done = report(cw, by="grid_worker_a")
    services.case_move(
        actor=P("grid_worker_a"), case=done, move="resolve", answer="已清理", photos=[photo()]
    )
    post(client, api_key=key, service_code="0102", description="垃圾", **IN_A)
    body = rows(client)
    assert len(body) == 3
    conforms(schemas, "requests.json", body)
    for row in body:
        conforms(schemas, "request.json", row)
    root = xml_of(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert len(requests) == 3
    assert [child.tag for child in requests[0]] == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]


def test_one_request_by_its_number_conforms_and_an_unknown_one_is_not_found(
    client: Client, cw: CaseWorld, schemas: Registry
) -> None:
    case = report(cw)
    body = json_of(client.get(f"{BASE}/requests/{case.code}.json"))
    conforms(schemas, "requests.json", body)
    assert [row["service_request_id"] for row in body] == [case.code]
    root = xml_of(client.get(f"{BASE}/requests/{case.code}.xml"))
    assert root.findtext("request/service_request_id") == case.code
    assert_error(client.get(f"{BASE}/requests/SJ20000101-000001.json"), 404)
    assert_error(client.get(f"{BASE}/requests/SJ20000101-000001.xml"), 404, "xml")


def test_cases_of_a_private_category_do_not_exist_for_open311(
    client: Client, cw: CaseWorld
) -> None:
    case = report(cw, category=Category.objects.get(code="0504"))
    Category.objects.filter(code="0504").update(public=False)
    assert_error(client.get(f"{BASE}/requests/{case.code}.json"), 404)
    assert case.code not in ids(client)
    assert case.code not in ids(client, service_request_id=case.code)


def test_status_maps_the_loop_to_open_and_closed_with_public_notes(
    client: Client, cw: CaseWorld, media: Any
) -> None:
    waiting = report(cw)
    dispatched = report(cw)
    move(dispatched, "accept", "community_worker")
    dispatched = move(dispatched, "dispatch", "community_worker")
    resolved = report(cw)
    move(resolved, "accept", "community_worker")
    move(resolved, "dispatch", "community_worker")
    move(resolved, "start", "department")
    resolved = move(resolved, "resolve", "department", answer="已清理完毕", photos=[photo()])
    rejected = move(report(cw), "reject", "community_worker", note="不属于本平台受理范围")
    target = report(cw)
    merged = move(report(cw), "merge", "community_worker", target=target)
    by_code = {row["service_request_id"]: row for row in rows(client)}

    assert by_code[waiting.code]["status"] == "open"
    assert by_code[waiting.code]["status_notes"] == str(Status.REPORTED.label)
    assert by_code[waiting.code]["expected_datetime"] is not None
    assert by_code[waiting.code]["agency_responsible"] is None
    row = by_code[dispatched.code]
    assert row["status"] == "open" and row["agency_responsible"] == "区城管局"
    assert dispatched.due_at is not None
    assert row["expected_datetime"] == timezone.localtime(dispatched.due_at).isoformat(
        timespec="seconds"
    )
    row = by_code[resolved.code]
    assert row["status"] == "closed" and row["status_notes"] == "已清理完毕"
    assert row["expected_datetime"] is None
    assert resolved.resolved_at is not None
    assert row["updated_datetime"] == timezone.localtime(resolved.resolved_at).isoformat(
        timespec="seconds"
    )
    row = by_code[rejected.code]
    assert row["status"] == "closed" and row["status_notes"] == "不属于本平台受理范围"
    row = by_code[merged.code]
    assert row["status"] == "closed" and target.code in row["status_notes"]

    assert ids(client, status="open") == {waiting.code, dispatched.code, target.code}
    assert ids(client, status="closed") == {resolved.code, rejected.code, merged.code}
    assert ids(client, status="open,closed") == set(by_code)


def test_a_redo_makes_a_closed_request_open_again(
    client: Client, cw: CaseWorld, media: Any
) -> None:
    case = report(cw)
    case = move(case, "resolve", "grid_worker_a", answer="已清理", photos=[photo()])
    assert ids(client, status="closed") == {case.code}
    move(case, "redo", "grid_worker_a", note="没有清理干净")
    assert ids(client, status="open") == {case.code}


def test_requests_filter_by_service_code(client: Client, cw: CaseWorld) -> None:
    clutter = report(cw)
    road = report(cw, category=Category.objects.get(code="0301"))
    report(cw, category=cw.dispute)  # not public: never listed
    assert ids(client, service_code="0102") == {clutter.code}
    assert ids(client, service_code="0102,0301") == {clutter.code, road.code}
    assert ids(client, service_code="0501") == set()
    assert ids(client, service_code="9999") == set()


def test_requests_default_to_the_last_90_days_and_filter_by_dates(
    client: Client, cw: CaseWorld
) -> None:
    tz = timezone.get_current_timezone()
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=tz), tick=False):
        old = report(cw)
    with time_machine.travel(dt.datetime(2026, 10, 1, 10, tzinfo=tz), tick=False):
        recent = report(cw)
    with time_machine.travel(dt.datetime(2026, 11, 20, 10, tzinfo=tz), tick=False):
        newest = report(cw)
        assert ids(client) == {recent.code, newest.code}
        assert ids(client, start_date="2026-05-30T00:00:00+08:00") == {old.code}
        assert ids(client, end_date="2026-11-01T00:00:00Z") == {recent.code}
        assert ids(
            client, start_date="2026-09-30T00:00:00+08:00", end_date="2026-11-21T00:00:00+08:00"
        ) == {recent.code, newest.code}
        assert ids(client, start_date="2026-10-01T10:00:01+08:00", end_date="2026-11-21") == {
            newest.code
        }
        # service_request_id overrides every other argument, the 90 days included.
        assert ids(client, service_request_id=f"{old.code}, {newest.code}", status="closed") == {
            old.code,
            newest.code,
        }


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-01T00:00:00Z"},
        {"start_date": "9999-12-31T23:59:59Z"},
        {"end_date": "0001-01-01T00:00:00+08:00"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},  # > 90 days
        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},  # reversed
        {"status": "pending"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_bad_filter_is_a_bad_request(
    client: Client, db: Any, params: dict[str, str], fmt: str
) -> None:
    assert_error(client.get(f"{BASE}/requests.{fmt}", params), 400, fmt)


def test_requests_stop_at_the_limit_newest_first(
    client: Client, cw: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = report(cw), report(cw), report(cw)
    monkeypatch.setattr(selectors, "MAX_RESULTS", 2)
    assert [r["service_request_id"] for r in rows(client)] == [third.code, second.code]
    assert first.code not in ids(client)


def test_listing_requests_takes_a_fixed_number_of_queries(
    client: Client, cw: CaseWorld, django_assert_max_num_queries: Any
) -> None:
    for _n in range(3):
        report(cw)
    move(report(cw), "reject", "community_worker", note="重复")
    with django_assert_max_num_queries(4):
        assert len(rows(client)) == 4
    for _n in range(5):
        move(report(cw), "reject", "community_worker", note="重复")
    with django_assert_max_num_queries(4):
        assert len(rows(client)) == 9


# ---------------------------------------------------------------------------------------------
# Personal data


def test_get_answers_reveal_no_personal_data(client: Client, cw: CaseWorld, key: str) -> None:
    desk = report(
        cw,
        by="community_worker",
        source=Source.DESK,
        description="王小明反映邻居张三家门口堆放杂物",
        reporter_name="王小明",
        reporter_phone="13800138000",
        address="翠苑一区3栋2单元301室",
        lat=39.00512345,
        lng=116.00498765,
    )
    answer = json_of(
        post(
            client,
            api_key=key,
            service_code="0102",
            description="路口垃圾",
            first_name="丽",
            last_name="李",
            phone="13900139000",
            email="li@example.com",
            **IN_A,
        )
    )
    posted = Case.objects.get(code=answer[0]["service_request_id"])
    bodies = [
        client.get(f"{BASE}/requests.json").content.decode(),
        client.get(f"{BASE}/requests.xml").content.decode(),
        client.get(f"{BASE}/requests/{desk.code}.json").content.decode(),
        client.get(f"{BASE}/requests/{posted.code}.xml").content.decode(),
    ]
    for body in bodies:
        for secret in ("王小明", "张三", "13800138000", "301室", "李丽", "13900139000", "li@"):
            assert secret not in body
    by_code = {row["service_request_id"]: row for row in rows(client)}
    row = by_code[desk.code]
    assert row["description"] is None
    assert row["address"] == "测试区 一街道 甲社区 甲社区第1网格"
    assert (row["lat"], row["long"]) == (39.005, 116.005)
    # What an Open311 client posted it published: its description, address and point.
    row = by_code[posted.code]
    assert row["description"] == "路口垃圾"
    assert (row["lat"], row["long"]) == (39.00512345, 116.00498765)


# ---------------------------------------------------------------------------------------------
# Paths and methods


@pytest.mark.parametrize(
    "path",
    ["services.html", "requests.csv", "services/0102.txt", "tokens/abc.json", "nothing"],
)
def test_an_unknown_format_or_resource_is_not_found_in_the_error_format(
    client: Client, cw: CaseWorld, path: str
) -> None:
    assert_error(client.get(f"{BASE}/{path}"), 404)


def test_a_method_an_endpoint_does_not_take_is_refused(client: Client, cw: CaseWorld) -> None:
    response = client.post(f"{BASE}/services.xml")
    assert_error(response, 405, "xml")
    assert response["Allow"] == "GET, HEAD"


# ---------------------------------------------------------------------------------------------
# Clients


def test_the_command_creates_a_client_and_prints_its_key_once(db: Any) -> None:
    out = StringIO()
    call_command("open311_client", "city-app", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    client = selectors.client_for_key(key)
    assert client is not None and client.name == "city-app"
    assert key not in client.key_hash and len(client.key_hash) == 64
    assert AuditEntry.objects.filter(action="open311_client.created").exists()


def test_the_command_sets_a_given_key_replaces_it_and_revokes(db: Any) -> None:
    call_command("open311_client", "demo", "--key", "shequ-demo-open311", stdout=StringIO())
    first = selectors.client_for_key("shequ-demo-open311")
    assert first is not None
    call_command("open311_client", "demo", "--key", "another-key-0123456", stdout=StringIO())
    assert selectors.client_for_key("shequ-demo-open311") is None
    second = selectors.client_for_key("another-key-0123456")
    assert second is not None and second.pk == first.pk
    call_command("open311_client", "demo", "--revoke", stdout=StringIO())
    assert selectors.client_for_key("another-key-0123456") is None


@pytest.mark.parametrize("args", [["short", "--key", "too-short"], ["ghost", "--revoke"]])
def test_the_command_refuses_a_short_key_and_an_unknown_client(db: Any, args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("open311_client", *args, stdout=StringIO())


def test_two_clients_may_not_share_a_key(db: Any) -> None:
    open311_client_create(name="one", key=KEY)
    with pytest.raises(DomainError) as refused:
        open311_client_create(name="two", key=KEY)
    assert refused.value.code == ClientError.KEY_TAKEN
