"""Debian's Chromium driven by Playwright, shared by every browser test.

`playwright install` cannot download a browser here, so the system's chromium is launched by
path, with the flags that keep it from reaching for the network.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()
