"""Security of the browser pages: CSRF, cookie flags, roles, escaping, sign-in and out."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser.conftest import Site, screenshot


def test_a_form_without_its_csrf_token_is_refused(site: Site, page: Page) -> None:
    ticket = site.create(subject="CSRF target")
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/tickets/{ticket['number']}")
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())"
    )
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("CSRF")


def test_session_cookie_is_http_only_and_same_site_lax(site: Site, page: Page) -> None:
    site.sign_in(page, "agent")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["helpdesk_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["secure"] is False  # served over http here; Secure on https
    assert page.evaluate("() => document.cookie").find("helpdesk_session") == -1


def test_a_requester_session_cannot_open_the_console(site: Site, page: Page) -> None:
    site.sign_in(page, "requester")
    response = page.goto(f"{site.base}/agent/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("requester role may not")


def test_ticket_text_with_script_renders_as_text(site: Site, page: Page) -> None:
    evil = "<script>window.pwned = 1</script><img src=x onerror='window.pwned=2'>"
    ticket = site.create(subject=evil, description=evil)
    site.sign_in(page, "agent")
    page.goto(f"{site.base}/agent/tickets/{ticket['number']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>window.pwned = 1")
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("main img").count() == 0


def test_sign_in_without_javascript_by_pasting_the_token(site: Site, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.base}/agent/sign-in")
    screenshot(page, "sign-in")
    page.get_by_label("Token").fill(site.token("agent"))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.base}/agent/")
    expect(page.get_by_role("heading", name="All tickets")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.base}/agent/sign-in")
    page.goto(f"{site.base}/agent/")
    expect(page).to_have_url(f"{site.base}/agent/sign-in")
    context.close()


def test_a_bad_token_is_refused_on_the_sign_in_page(site: Site, page: Page) -> None:
    page.goto(f"{site.base}/agent/sign-in")
    page.get_by_label("Token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "helpdesk_session" not in {c["name"] for c in page.context.cookies()}
