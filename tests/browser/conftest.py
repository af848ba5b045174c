from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from tests.conftest import chromium_path

CSP_WATCH = Path(__file__).with_name("csp_watch.js")
# Content-Security-Policy violations seen by the running test's pages.
csp_violations: list[str] = []

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": AXE_TAGS},
    # axe ships target-size (WCAG 2.2, 2.5.8) switched off; switch it on.
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        new_context = browser.new_context

        def watched_context(*args, **kwargs):
            return watch_csp(new_context(*args, **kwargs))

        # Every context, the tests' own included, reports CSP violations.
        browser.new_context = watched_context
        yield browser
        browser.close()


def watch_csp(context):
    """Collect every CSP violation on the context's pages: the browser's own
    console report, and the ``securitypolicyviolation`` event (csp_watch.js)."""
    context.add_init_script(path=CSP_WATCH)

    def on_console(page, message):
        text = message.text
        if text.startswith("CSP violation:") or "Content Security Policy" in text:
            csp_violations.append(f"{page.url}: {text}")

    context.on("page", lambda page: page.on("console", lambda m: on_console(page, m)))
    return context


@pytest.fixture(autouse=True)
def no_csp_violations():
    """Every browser test fails if any page it opened broke the policy."""
    csp_violations.clear()
    yield
    found, csp_violations[:] = list(csp_violations), []
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A 320 px wide phone screen."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 320, "height": 640},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


_axe = Axe()


def assert_accessible(page) -> None:
    """axe finds no WCAG 2.0-2.2 A/AA violation, target-size included."""
    results = _axe.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    ran = {
        rule["id"]
        for kind in ("passes", "inapplicable", "incomplete", "violations")
        for rule in results.response.get(kind, [])
    }
    # resultTypes trims the detail of the other groups but not their ids.
    assert "target-size" in ran, "the target-size rule did not run"


SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 320, "height": 640}}


@pytest.fixture(params=list(SCREENS))
def screen(request, browser, live_server):
    """The test runs twice: on a 1280 px desktop and a 320 px phone."""
    phone = request.param == "phone"
    context = browser.new_context(
        base_url=live_server.url,
        viewport=SCREENS[request.param],
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def assert_no_sideways_scroll(page) -> None:
    """The page fits its screen's width (WCAG reflow at 320 px)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def check_page(page) -> None:
    """axe-clean, and nothing scrolls sideways."""
    assert_no_sideways_scroll(page)
    assert_accessible(page)
