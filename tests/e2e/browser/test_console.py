"""The agent console in Chromium, signed in as the role concerned (issue #18)."""

from __future__ import annotations

import re
from uuid import uuid4

from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import Site, screenshot


def word() -> str:
    """A subject word no other test uses, to filter the shared lists by."""
    return f"w{uuid4().hex[:10]}"


def test_agent_can_never_choose_closed(site: Site, page: Page) -> None:
    ticket = site.create(subject=f"{word()} no closing")
    site.sign_in(page, "agent")
    bulk_choices = page.locator("#b-status option").all_inner_texts()
    assert "closed" not in bulk_choices and "open" in bulk_choices
    page.goto(f"{site.base}/agent/tickets/{ticket['number']}")
    choices = page.locator("#t-status option").all_inner_texts()
    assert "closed" not in choices and "solved" in choices
    # A forged form that asks for closed anyway is refused by the same rule as the API.
    page.goto(f"{site.base}/agent/?q={ticket['subject'].split()[0]}")
    page.evaluate(
        "() => { const o = document.createElement('option'); o.value = 'closed';"
        " o.text = 'forged'; document.getElementById('b-status').append(o); }"
    )
    page.get_by_label(f"Select ticket #{ticket['number']}").check()
    page.locator("#b-status").select_option("closed")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("alert")).to_contain_text("not permitted")
    page.goto(f"{site.base}/agent/tickets/{ticket['number']}")
    expect(page.locator("#status")).to_have_text("new")


def test_closed_ticket_is_absent_from_all_and_listed_in_closed_without_checkbox(
    site: Site, page: Page
) -> None:
    tag = word()
    active = site.create(subject=f"{tag} still active")
    closed = site.closed(subject=f"{tag} long closed")
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/?q={tag}")
    expect(page.locator(f"tr[data-number='{active['number']}']")).to_be_visible()
    expect(page.locator(f"tr[data-number='{closed['number']}']")).to_have_count(0)
    screenshot(page, "agent-all")
    page.get_by_role("link", name="Closed").click()
    page.get_by_label("Subject").fill(tag)
    page.get_by_role("button", name="Apply filters").click()
    row = page.locator(f"tr[data-number='{closed['number']}']")
    expect(row).to_be_visible()
    expect(row.locator("input[type=checkbox]")).to_have_count(0)
    expect(page.get_by_role("button", name="Apply to selected")).to_have_count(0)
    screenshot(page, "agent-closed")


def test_closed_list_is_newest_closed_first(site: Site, page: Page) -> None:
    tag = word()
    older = site.create(subject=f"{tag} older")
    newer = site.create(subject=f"{tag} newer")
    site.close(newer["number"])
    site.close(older["number"])  # closed last: listed first
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/closed?q={tag}")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    assert rows.nth(0).get_attribute("data-number") == str(older["number"])


def test_create_follow_up_redirects_to_the_new_ticket_with_a_link_back(
    site: Site, page: Page
) -> None:
    original = site.closed(
        subject=f"{word()} VPN drops", priority="high", tags=["vpn"], assignee="alice"
    )
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/tickets/{original['number']}")
    expect(page.get_by_role("note", name="Read-only")).to_contain_text("closed and read-only")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_label("Message", exact=True)).to_have_count(0)
    screenshot(page, "agent-closed-ticket")
    page.get_by_label("Message (optional)").fill("It happened again today.")
    page.get_by_role("button", name="Create follow-up").click()
    expect(page).to_have_url(re.compile(r"/agent/tickets/\d+\?created=1$"))
    new_number = int(page.url.split("/")[-1].split("?")[0])
    assert new_number != original["number"]
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("VPN drops")
    expect(heading).to_be_focused()
    link = page.get_by_role("link", name=f"#{original['number']}")
    expect(link).to_be_visible()
    expect(page.locator("dl.fields")).to_contain_text("high")
    expect(page.locator("dl.fields")).to_contain_text("alice")  # copied: assignee, priority…
    expect(page.get_by_text("It happened again today.")).to_be_visible()
    screenshot(page, "agent-follow-up")
    link.click()
    expect(page.get_by_role("note", name="Read-only")).to_be_visible()
    expect(page.get_by_text(f"#{new_number}", exact=False)).to_have_count(0)


def test_bulk_action_over_a_mixed_selection_shows_each_result(site: Site, page: Page) -> None:
    tag = word()
    first = site.create(subject=f"{tag} one")
    second = site.create(subject=f"{tag} two")
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/?q={tag}")
    page.get_by_label(f"Select ticket #{first['number']}").check()
    page.get_by_label(f"Select ticket #{second['number']}").check()
    site.close(second["number"])  # closed while the agent was choosing
    page.get_by_label("Set priority").select_option("urgent")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("heading", name="Bulk results")).to_be_visible()
    expect(page.locator(f"tr[data-number='{first['number']}']")).to_contain_text("Updated")
    expect(page.locator(f"tr[data-number='{second['number']}']")).to_contain_text("Not changed")
    screenshot(page, "agent-bulk-results")


def test_filters_and_sorting(site: Site, page: Page) -> None:
    tag = word()
    low = site.create(subject=f"{tag} keyboard", priority="low", tags=["desk"])
    urgent = site.create(subject=f"{tag} server", priority="urgent", assignee="bob")
    site.sign_in(page, "agent")
    page.get_by_label("Subject").fill(tag)
    page.locator("#f-priority").select_option("urgent")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f"tr[data-number='{urgent['number']}']")).to_be_visible()
    page.goto(f"{site.base}/agent/?q={tag}&tag=desk")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f"tr[data-number='{low['number']}']")).to_be_visible()
    page.goto(f"{site.base}/agent/?q={tag}&sort=number")
    assert page.locator("tbody tr").first.get_attribute("data-number") == str(low["number"])


def test_lists_refresh_when_tickets_change(site: Site, page: Page) -> None:
    tag = word()
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/?q={tag}&refresh=1")
    expect(page.locator("tbody")).to_contain_text("No tickets.")
    made = site.create(subject=f"{tag} arrives later")
    expect(page.locator(f"tr[data-number='{made['number']}']")).to_be_visible()


def test_ticket_page_shows_conversation_notes_and_history(site: Site, page: Page) -> None:
    ticket = site.create(subject=f"{word()} monitor flickers", description="Since Monday.")
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/tickets/{ticket['number']}")
    page.get_by_label("Message", exact=True).fill("Have you tried another cable?")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Added.")
    page.get_by_label("Message", exact=True).fill("Customer seems to use HDMI 1.0")
    page.get_by_label("Public reply (unchecked: internal note)").uncheck()
    page.get_by_role("button", name="Add").click()
    expect(page.locator("article.internal")).to_contain_text("HDMI 1.0")
    expect(page.locator("article.public")).to_contain_text("another cable")
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#status")).to_have_text("pending")
    expect(page.locator("ol.history")).to_contain_text("StatusChanged")
    screenshot(page, "agent-ticket")


def test_admin_changes_the_auto_close_period(site: Site, page: Page) -> None:
    site.sign_in(page, "admin")
    page.get_by_role("link", name="Settings").click()
    page.locator("#after_days").fill("12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#auto-close-days")).to_have_text("12")
    screenshot(page, "agent-settings")
    page.locator("#after_days").fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#auto-close-days")).to_have_text("7")


def test_agents_do_not_get_the_period_form(site: Site, page: Page) -> None:
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/settings")
    expect(page.get_by_text("Only admins and owners change it.")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)


def test_the_all_list_pages_with_its_filters(site: Site, page: Page) -> None:
    tag = word()
    made = [site.create(subject=f"{tag} batch {i}")["number"] for i in range(27)]
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/?q={tag}&sort=number")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(25)
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(2)
    assert [int(n or 0) for n in rows.evaluate_all("rs => rs.map(r => r.dataset.number)")] == (
        made[25:]
    )
    expect(page.get_by_label("Subject")).to_have_value(tag)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)


def test_keyboard_only_filter_and_open_a_ticket(site: Site, page: Page) -> None:
    tag = word()
    ticket = site.create(subject=f"{tag} keyboard user")
    site.sign_in(page, "agent")
    page.get_by_label("Subject").focus()
    page.keyboard.type(tag)
    page.keyboard.press("Enter")
    link = page.get_by_role("link", name=f"{tag} keyboard user")
    expect(link).to_be_visible()
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.base}/agent/tickets/{ticket['number']}")
    page.get_by_label("Priority").focus()
    page.keyboard.press("End")  # the last option: urgent
    page.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator("dl.fields")).to_contain_text("urgent")
