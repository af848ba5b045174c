import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from tests.conftest import chromium_path

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
        yield browser
        browser.close()


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


WIDTHS = {"desktop": 1280, "phone": 320}


@pytest.fixture(params=list(WIDTHS))
def screen(request, browser, live_server):
    """The same page at a 1280 px desktop and a 320 px phone width."""
    width = WIDTHS[request.param]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
        is_mobile=width < 400,
        has_touch=width < 400,
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
