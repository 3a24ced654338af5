"""``GET /metrics`` and the request middleware: counts, route templates, correlation ids."""

from __future__ import annotations

from uuid import UUID

from prometheus_client import REGISTRY

from tests.unit.http.api_client import Api


def requests_counted(method: str, route: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "helpdesk_http_requests_total", {"method": method, "route": route, "status": status}
    )
    return value or 0.0


def test_a_request_is_counted_by_route_template_and_served_as_prometheus_text(
    api: Api,
) -> None:
    number = api.create()["number"]
    before = requests_counted("GET", "/api/v1/tickets/{number}", "200")
    r = api.client.get(f"/api/v1/tickets/{number}", headers=api.headers("agent"))
    assert r.status_code == 200
    assert requests_counted("GET", "/api/v1/tickets/{number}", "200") == before + 1

    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "helpdesk_http_requests_total{" in metrics.text
    assert 'route="/api/v1/tickets/{number}"' in metrics.text
    assert "helpdesk_http_request_duration_seconds_bucket{" in metrics.text


def test_the_metrics_route_is_not_in_the_openapi_document(api: Api) -> None:
    assert "/metrics" not in api.client.get("/openapi.json").json()["paths"]


def test_correlation_id_is_echoed_or_generated(api: Api) -> None:
    given = api.client.get("/healthz", headers={"X-Correlation-ID": "trace-42"})
    assert given.headers["X-Correlation-ID"] == "trace-42"

    generated = api.client.get("/healthz").headers["X-Correlation-ID"]
    assert UUID(generated)
    assert api.client.get("/healthz").headers["X-Correlation-ID"] != generated


def test_unmatched_paths_are_counted_under_one_label(api: Api) -> None:
    before = requests_counted("GET", "unmatched", "404")
    assert api.client.get("/no/such/path/123").status_code == 404
    assert requests_counted("GET", "unmatched", "404") == before + 1
