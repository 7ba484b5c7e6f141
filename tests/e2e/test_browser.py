"""The product as a person sees it: Chromium on the local workspace's page, the real bot behind."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from localslack import LocalSlack
from tests.helpers.browser import needs_chromium
from tests.helpers.harness import bot, settings_for

pytestmark = needs_chromium


async def test_message_from_the_page_gets_a_threaded_reply_with_an_approval_card(
    browser: Browser, slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)):
        page = await browser.new_page()
        await page.goto(slack.url)
        await expect(page.locator("#live-state")).to_have_text("● live")
        composer = page.get_by_test_id("composer")
        await composer.fill("@switchboard Please refund the double charge on INV-1018")
        await composer.press("Enter")
        messages = page.get_by_test_id("messages")
        thread_link = messages.locator(".thread-link").first
        await expect(thread_link).to_be_visible(timeout=20_000)
        await thread_link.click()
        panel = page.get_by_test_id("thread-panel")
        await expect(panel.get_by_text("Waiting for approval").first).to_be_visible(timeout=20_000)
        await expect(panel.get_by_text("Answered by Billing").first).to_be_visible()
        approve = panel.get_by_role("button", name="Approve")
        await expect(approve).to_be_visible(timeout=20_000)
        await expect(panel.get_by_role("button", name="Reject")).to_be_visible()
        await approve.click()
        await expect(page.locator("#confirm")).to_be_visible()
        await page.screenshot(path=str(tmp_path / "approval-card.png"))


async def test_wrong_specialist_from_the_page_moves_the_reply(
    browser: Browser, slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    """The corrections loop as a lead sees it; the screenshot is what the README describes."""
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)):
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(slack.url)
        await expect(page.locator("#live-state")).to_have_text("● live")
        await page.get_by_test_id("viewer").select_option(slack.workspace.user("alice").id)
        composer = page.get_by_test_id("composer")
        await composer.fill("@switchboard my report from the team offsite is gone")
        await composer.press("Enter")
        thread_link = page.get_by_test_id("messages").locator(".thread-link").first
        await expect(thread_link).to_be_visible(timeout=20_000)
        await thread_link.click()
        panel = page.get_by_test_id("thread-panel")
        wrong = panel.get_by_role("button", name="Wrong specialist?").first
        await expect(wrong).to_be_visible(timeout=20_000)
        await wrong.click()
        await expect(panel.get_by_text("Which specialist should have answered?")).to_be_visible(
            timeout=20_000
        )
        await panel.get_by_role("button", name="Technical").click()
        await expect(panel.get_by_text("corrected the route").first).to_be_visible(timeout=20_000)
        await expect(panel.get_by_text("the router will learn from this")).to_be_visible(
            timeout=20_000
        )
        await page.screenshot(path=str(tmp_path / "corrections.png"), full_page=True)
