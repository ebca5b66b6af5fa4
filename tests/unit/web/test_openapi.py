"""The hand-written OpenAPI description matches the routes the app really serves."""

from __future__ import annotations

import re

from flask import Flask

from web.api.openapi import spec

PREFIX = "/api/v1"


def registered_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len(PREFIX):])
        operations |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def test_every_route_is_described_and_every_description_is_a_route(app: Flask) -> None:
    described = {(path, method) for path, ops in spec()["paths"].items() for method in ops}
    assert registered_operations(app) == described


def test_spec_is_served_and_rendered_without_external_resources(app: Flask) -> None:
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.") and "/batches" in document["paths"]
    assert "DXA is the reference standard" in document["info"]["description"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/batches/{batch_id}/results" in page and "POST" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_dashboard_pages_load_no_external_resources(app: Flask) -> None:
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Screening aid, not a diagnosis; DXA is the reference standard." in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
