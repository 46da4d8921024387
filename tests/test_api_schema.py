"""schemathesis generates requests from our OpenAPI documents (the map API and the OGC API) and
checks every response against them: no server errors, only documented status codes and media
types, and bodies that match their schemas. For the map API it also checks that every request the
document allows is accepted.

Not for the OGC API: its bbox follows the standard's OpenAPI fragment (four numbers), whose
ordering rules (south ≤ north, axis order by crs) a JSON schema cannot state, so a request can
follow the document and still be refused with 400, as the standard requires."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _check_every_operation(app, document: str, excluded=()) -> list[str]:
    schema = schemathesis.openapi.from_wsgi(document, app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @SETTINGS
        def honours_the_document(case):
            case.call_and_validate(excluded_checks=list(excluded))

        honours_the_document()
        checked.append(operation.label)
    return checked


def test_the_map_api_honours_its_openapi_document(demo_app):
    checked = _check_every_operation(demo_app, "/api/openapi.json")
    assert "GET /api/buildings" in checked and "GET /api/landcalc" in checked


def test_the_ogc_api_honours_its_openapi_document(demo_app):
    from schemathesis.specs.openapi.checks import positive_data_acceptance
    checked = _check_every_operation(demo_app, "/ogc/api", excluded=[positive_data_acceptance])
    assert any("/items" in label for label in checked)
