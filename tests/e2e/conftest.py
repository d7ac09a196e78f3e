"""Browser tests: Playwright driving Debian's chromium against the live test server.

Only here is DJANGO_ALLOW_ASYNC_UNSAFE set: Playwright's sync API runs an event loop
in the test thread, and the test thread also creates data through the ORM.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # root in CI; chromium's sandbox needs an unprivileged user
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium (.ci/run does it)")
    return found


@pytest.fixture(autouse=True)
def role_groups(transactional_db: None) -> None:
    """Transactional tests flush the tables the data migration filled; put the roles back."""
    from django.contrib.auth.models import Group, Permission

    from clinic.roles import sync_role_groups

    sync_role_groups(Group, Permission)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield opened
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, object]]:
    """Run axe-core (vendored) on the page; return the violations at the given impacts."""
    # A toast fading in or out has partial opacity, which axe reads as low contrast: wait until
    # every shown toast is fully opaque (Bootstrap drops .showing before the opacity transition ends).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.toast.show, .toast.showing')]"
        ".every(t => !t.classList.contains('showing') && getComputedStyle(t).opacity === '1')"
    )
    # Evaluated over the devtools protocol, so the page's CSP stays on (no inline <script>).
    page.evaluate(AXE_JS.read_text() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]
