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
    return sync_api


@contextmanager
def chromium_page() -> Iterator:
    """A fresh page in a headless chromium, closed on the way out.

    Playwright's sync API runs an event loop in the calling thread while it is open, and Django's
    ORM refuses to run in a thread with a running loop: touch the database before, or in a thread.
    """
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make test` installs it: apt-get install --no-install-recommends chromium). They never skip.",
            pytrace=False,
        )
    with playwright_api().sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            yield page
        finally:
            browser.close()
