"""The help center in Chromium: requesters and organization-wide viewers (issue #18)."""

from __future__ import annotations

import re
from uuid import uuid4

from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import Site, screenshot
from tests.unit.http.api_client import EMAILS


def test_requester_sees_solved_and_the_follow_up_button(site: Site, page: Page) -> None:
    closed = site.closed(subject=f"Laptop battery {uuid4().hex[:6]}")
    site.create(subject="Reply to me", description="Agents see this.")
    site.sign_in(page, "requester")
    row = page.locator(f"tr[data-number='{closed['number']}']")
    expect(row).to_contain_text("Solved")
    expect(row).not_to_contain_text("closed")
    screenshot(page, "help-my-requests")
    row.get_by_role("link").click()
    expect(page.locator("#status")).to_have_text("Solved")
    expect(page.get_by_role("note", name="Read-only")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_count(0)
    screenshot(page, "help-solved-request")
    page.get_by_label("Message (optional)").fill("The new battery drains too.")
    page.get_by_role("button", name="Create follow-up").click()
    expect(page).to_have_url(re.compile(r"/help/requests/\d+\?created=1$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Laptop battery")
    expect(heading).to_be_focused()
    expect(page.get_by_text("The new battery drains too.")).to_be_visible()


def test_request_page_shows_public_comments_only(site: Site, page: Page) -> None:
    ticket = site.create(subject=f"Printer toner {uuid4().hex[:6]}")
    agent = site.as_role("agent")
    for body, public in (("We ordered toner.", True), ("Vendor is slow, chase.", False)):
        r = site.client.post(
            f"/api/v1/tickets/{ticket['number']}/comments",
            json={"body": body, "public": public},
            headers=agent,
        )
        assert r.status_code == 201
    site.sign_in(page, "requester")
    page.goto(f"{site.base}/help/requests/{ticket['number']}")
    expect(page.get_by_text("We ordered toner.")).to_be_visible()
    expect(page.get_by_text("Vendor is slow")).to_have_count(0)
    page.get_by_label("Your reply").fill("Thanks!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Sent.")
    expect(page.locator("article.public").last).to_contain_text("Thanks!")


def test_new_request_form(site: Site, page: Page) -> None:
    site.sign_in(page, "requester")
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Subject").fill("Cannot log in to the wiki")
    page.get_by_label("Describe the problem").fill("It says my account is locked.")
    screenshot(page, "help-new-request")
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile(r"/help/requests/\d+\?created=1$"))
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    expect(page.get_by_text("It says my account is locked.")).to_be_visible()
    number = int(page.url.split("/")[-1].split("?")[0])
    r = site.client.get(f"/api/v1/tickets/{number}", headers=site.as_role("agent"))
    assert (r.json()["requester"], r.json()["channel"]) == (EMAILS["requester"], "help_center")


def test_org_wide_viewer_sees_history_without_the_follow_up_button(site: Site, page: Page) -> None:
    domain = f"org{uuid4().hex[:8]}.example"
    r = site.client.post(
        "/api/v1/organizations",
        json={"name": f"Org {domain}", "domains": [domain], "members": []},
        headers=site.as_role("admin"),
    )
    assert r.status_code == 201, r.text
    org = r.json()["id"]
    colleague = site.closed(subject="Colleague's old VPN issue", requester=f"kim@{domain}")
    mine = site.closed(subject="My own old issue", requester=f"boss@{domain}")
    site.sign_in(page, "requester", email=f"boss@{domain}", org=org, org_wide=True)
    expect(page.locator(f"tr[data-number='{colleague['number']}']")).to_contain_text("Solved")
    page.goto(f"{site.base}/help/requests/{colleague['number']}")
    expect(page.get_by_role("note", name="Read-only")).to_contain_text("organization's")
    expect(page.get_by_role("button", name="Create follow-up")).to_have_count(0)
    expect(page.get_by_label("Your reply")).to_have_count(0)
    screenshot(page, "help-org-wide-viewer")
    page.goto(f"{site.base}/help/requests/{mine['number']}")
    expect(page.get_by_role("button", name="Create follow-up")).to_be_visible()


def test_readable_at_360_px_with_times_in_the_viewers_zone(site: Site, page: Page) -> None:
    site.create(subject="A rather long subject line that must wrap on a small phone screen")
    site.sign_in(page, "requester")
    page.context.close()
    context = page.context.browser.new_context(  # type: ignore[union-attr]
        viewport={"width": 360, "height": 740}, timezone_id="Asia/Tokyo"
    )
    small = context.new_page()
    site.sign_in(small, "requester")
    width = small.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, width
    stamp = small.locator("time").first
    assert "UTC" in (stamp.get_attribute("title") or "")
    expect(stamp).not_to_contain_text("UTC")
    screenshot(small, "help-360px")
    context.close()
