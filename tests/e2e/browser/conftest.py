"""The browser suite: Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run``
and ``make system-deps``) driven by Playwright, against the ticket service under a real
uvicorn server. One browser for the session, a fresh context (cookies) and page per test.

A missing Chromium is an error, never a skip."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from tests.integration.http.conftest import Served, serve
from tests.unit.http.api_client import EMAILS, SECRET

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


@dataclass
class Site:
    """The served ticket service and an API client to set tickets up with."""

    served: Served
    client: httpx.Client

    @property
    def base(self) -> str:
        return self.served.base_url

    def token(self, role: str, email: str | None = None, **claims: Any) -> str:
        return mint_token(SECRET, role=role, email=email or EMAILS[role], **claims)

    def as_role(self, role: str, email: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, email, **claims)}"}

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"subject": "Printer on fire", "requester": EMAILS["requester"], **fields}
        r = self.client.post("/api/v1/tickets", json=body, headers=self.as_role("agent"))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def close(self, number: int) -> None:
        r = self.client.patch(
            f"/api/v1/tickets/{number}",
            json={"status": "closed"},
            headers=self.as_role("integration"),
        )
        assert r.status_code == 200, r.text

    def closed(self, **fields: Any) -> dict[str, Any]:
        ticket = self.create(**fields)
        self.close(ticket["number"])
        return ticket

    def sign_in(self, page: Page, role: str, email: str | None = None, **claims: Any) -> None:
        """Follow a sign-in link as ``make run`` prints it (token in the fragment)."""
        area = "help" if role == "requester" else "agent"
        page.goto(f"{self.base}/{area}/sign-in#token={self.token(role, email, **claims)}")
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{self.base}/{area}/")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Package-scoped: sync Playwright runs an event loop in this thread while it is open,
    and tests after the browser suite call asyncio.run()."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; "
            "make system-deps does)."
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser"), jwt_secret=SECRET)
    for served in serve(settings):
        with httpx.Client(base_url=served.base_url) as client:
            yield Site(served, client)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
