"""``/docs`` works offline: the page loads only assets the app serves itself."""

from __future__ import annotations

import re

from tests.unit.http.api_client import Api


def test_the_docs_page_needs_nothing_from_outside(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assets += re.findall(r"""url: ['"]([^'"]+)['"]""", page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), page.text
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), f"{asset} is loaded from outside"
        assert api.client.get(asset).status_code == 200, asset
    assert "openapi.json" in page.text
    assert api.client.get("/redoc").status_code == 404  # ReDoc would need a CDN


def test_healthz_answers_exactly_its_documented_shape(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}  # docs/api.md#health
    document = api.client.get("/openapi.json").json()
    schema = document["paths"]["/healthz"]["get"]["responses"]["200"]["content"]
    ref = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(document["components"]["schemas"][ref]["properties"]) == {"status"}
