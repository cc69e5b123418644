"""Debian's chromium under Playwright, for the browser tests: never a browser that Playwright
downloads (`make test` installs chromium with apt-get where it is missing). A missing chromium or
Playwright fails the test; it never skips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium calls home, and this closed network refuses it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000  # the longest any expectation waits (the socket's backoff alone can take 16 s)


def playwright_api():
    """Playwright's sync API, failing (not skipping) when the dev requirements are missing."""
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail("playwright is missing: install requirements-dev.txt (make test does)", pytrace=False)
    # An expectation waits as long as an action (WAIT_MS), not Playwright's 5 s: `make test` runs
    # another worker on the same cores, and a fresh server's first page can take longer than that.
    sync_api.expect.set_options(timeout=WAIT_MS)
    return sync_api


def _require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make test` installs it: apt-get install --no-install-recommends chromium). They never skip.",
            pytrace=False,
        )


@contextmanager
def chromium_browser() -> Iterator:
    """A headless chromium, closed on the way out, for tests that each take a page of a fresh
    context from it (`page_of`): a context shares no cookie, storage, route or clock with another,
    so the tests are as isolated as with a chromium each, without launching one each.

    Playwright's event loop runs in this thread as long as it is open (see `chromium_page`): keep
    one open across tests only in modules that never touch the database.
    """
    _require_chromium()
    with playwright_api().sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_of(browser) -> Iterator:
    """A page in a fresh context of `browser`, the context closed on the way out."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        yield page
    finally:
        context.close()


@contextmanager
def chromium_page() -> Iterator:
    """A fresh page in a headless chromium of its own, closed on the way out.

    Playwright's sync API runs an event loop in the calling thread while it is open, and Django's
    ORM refuses to run in a thread with a running loop: touch the database before, or in a thread.
    """
    with chromium_browser() as browser, page_of(browser) as page:
        yield page
