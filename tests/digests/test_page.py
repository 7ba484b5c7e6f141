"""The chart shows in the digest's thread on localslack's page (Debian's Chromium, Playwright)."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright, expect

from bot.digests.scheduler import ManualClock
from localslack import LocalSlack
from storage.store import Store
from tests.helpers.browser import ARGS, CHROMIUM
from tests.helpers.digest_scenario import END, seed
from tests.helpers.digests import digests_for

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="needs Debian's chromium (apt-get install chromium)"
)


async def test_the_chart_shows_in_the_digest_thread(sqlite_store: Store, slack: LocalSlack) -> None:
    await seed(sqlite_store)
    async with digests_for(sqlite_store, slack, ManualClock(END)) as digests:
        sent = await digests.run_scheduled("daily", END)
    assert sent is not None and sent.permalink is not None
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(sent.permalink)  # opens the digest's thread
            thread = page.get_by_test_id("thread-panel")
            await expect(thread.get_by_text("Digest: daily")).to_be_visible()
            chart = thread.locator("img")
            await expect(chart).to_be_visible()
            alt = await chart.get_attribute("alt")
            assert alt is not None and alt.startswith("Stacked bar chart of new conversations")
            # visible is not loaded: decode() resolves once the picture is in
            width = await chart.evaluate("image => image.decode().then(() => image.naturalWidth)")
            assert width == 800
        finally:
            await browser.close()
