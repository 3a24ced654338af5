"""``/docs``: Swagger UI served by the app itself (the assets come from the
``swagger-ui-bundle-v2`` wheel), so the API explorer works without the internet. ReDoc,
which FastAPI would load from a CDN, is not served."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"


def install_docs(app: FastAPI, title: str) -> None:
    import swagger_ui_bundle

    app.mount(ASSETS_URL, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), "docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            oauth2_redirect_url=f"{DOCS_URL}/oauth2-redirect",
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_api_route(DOCS_URL, docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        f"{DOCS_URL}/oauth2-redirect", oauth2_redirect, methods=["GET"], include_in_schema=False
    )
