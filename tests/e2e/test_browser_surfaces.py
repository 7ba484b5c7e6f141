"""The surfaces as a person uses them: Chromium on the local workspace's page, the real bot behind.

Each flow leaves a screenshot in the test's folder, or in $SWITCHBOARD_SCREENSHOTS when set
(how the README's pictures are made).
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from localslack import LocalSlack
from tests.helpers.browser import needs_chromium
from tests.helpers.harness import bot, settings_for

pytestmark = needs_chromium
WAIT = 20_000  # ms: the bot answers in well under a second; a busy machine is slower


def shot(tmp_path: Path, name: str) -> str:
    folder = Path(os.environ.get("SWITCHBOARD_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


async def open_as(browser: Browser, slack: LocalSlack, user: str) -> Page:
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    await page.goto(slack.url)
    await expect(page.locator("#live-state")).to_have_text("● live")
    await view_as(page, slack, user)
    return page


async def view_as(page: Page, slack: LocalSlack, user: str) -> None:
    await page.get_by_test_id("viewer").select_option(slack.workspace.user(user).id)


async def say(page: Page, words: str) -> Locator:
    """Post in the open channel; the new message."""
    composer = page.get_by_test_id("composer")
    await composer.fill(words)
    await composer.press("Enter")
    message = page.get_by_test_id("messages").locator(".message", has_text=words[-30:]).last
    await expect(message).to_be_visible(timeout=WAIT)
    return message


async def test_reject_asks_for_a_reason_then_a_lead_approves_in_the_home_tab(
    browser: Browser, slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)):
        page = await open_as(browser, slack, "bob")
        panel = page.get_by_test_id("thread-panel")

        # Reject: the card asks why, the card and the thread say it.
        asked = await say(page, "@switchboard Please refund the double charge on INV-1018")
        await expect(asked.locator(".thread-link")).to_be_visible(timeout=WAIT)
        await view_as(page, slack, "erin")
        await page.get_by_test_id("messages").locator(".thread-link").first.click()
        await panel.get_by_role("button", name="Reject").click()
        modal = page.get_by_test_id("modal")
        await expect(modal.get_by_text("Why are you rejecting it?")).to_be_visible(timeout=WAIT)
        await modal.get_by_label("Why are you rejecting it?").fill(
            "The customer is on the annual plan; no refunds mid-term."
        )
        await page.screenshot(path=shot(tmp_path, "reject-reason-modal.png"))
        await modal.get_by_role("button", name="Reject").click()
        await expect(modal).to_be_hidden(timeout=WAIT)
        await expect(panel.get_by_text("Rejected by").first).to_be_visible(timeout=WAIT)
        await expect(panel.get_by_text("no refunds mid-term").first).to_be_visible()
        await expect(panel.get_by_text("was rejected").first).to_be_visible(timeout=WAIT)
        await page.screenshot(path=shot(tmp_path, "reject-reason.png"))
        await page.locator("#close-thread").click()

        # Home: a lead opens the tab and approves the refund waiting there.
        await view_as(page, slack, "bob")
        await page.locator("#channel-list li", has_text="support").click()
        again = await say(page, "@switchboard Please refund the double charge on INV-1018 again")
        await expect(again.locator(".thread-link")).to_be_visible(timeout=WAIT)
        await view_as(page, slack, "alice")
        await page.get_by_test_id("app-home").click()
        home = page.get_by_test_id("home")
        await expect(home.get_by_text("Waiting for your decision (1)")).to_be_visible(timeout=WAIT)
        await expect(home.get_by_text("Refund $199.00 to Helix Analytics")).to_be_visible()
        await home.get_by_role("button", name="Approve").click()
        await page.locator("#confirm-ok").click()
        await expect(home.get_by_text("Approved.")).to_be_visible(timeout=WAIT)
        await expect(home.get_by_text("Waiting for your decision (0)")).to_be_visible()
        await page.screenshot(path=shot(tmp_path, "home-approve.png"))


async def test_the_assistant_panel_and_ask_switchboard_from_a_messages_menu(
    browser: Browser, slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)):
        page = await open_as(browser, slack, "bob")

        # The assistant panel: suggested prompts from the specialists; one is picked.
        await page.get_by_test_id("open-assistant").click()
        assistant = page.get_by_test_id("assistant-panel")
        prompts = page.get_by_test_id("assistant-prompts")
        await expect(prompts.get_by_role("button")).to_have_count(4, timeout=WAIT)
        await page.screenshot(path=shot(tmp_path, "assistant-prompts.png"))
        await prompts.get_by_role("button", name="Explain a charge").click()
        await expect(assistant.get_by_text("Answered by Billing")).to_be_visible(timeout=WAIT)
        await expect(page.locator("#assistant-title")).to_contain_text(
            "Billing · Why was invoice", timeout=WAIT
        )
        await page.screenshot(path=shot(tmp_path, "assistant-panel.png"))
        await page.locator("#close-assistant").click()

        # A customer's words, relayed without a mention; erin asks Switchboard about them.
        relayed = await say(page, "Customer writes: our SSO login fails with invalid_grant")
        await view_as(page, slack, "erin")
        message = page.get_by_test_id("messages").locator(".message", has_text="invalid_grant")
        await message.hover()
        await message.locator('button[title="More actions"]').click()
        await page.screenshot(path=shot(tmp_path, "ask-switchboard-menu.png"))
        await (
            page.get_by_test_id("message-menu")
            .get_by_role("button", name="Ask Switchboard")
            .click()
        )
        await expect(message.locator(".thread-link")).to_be_visible(timeout=WAIT)
        await message.locator(".thread-link").click()
        panel = page.get_by_test_id("thread-panel")
        await expect(panel.get_by_text("Answered by Technical")).to_be_visible(timeout=WAIT)
        await page.screenshot(path=shot(tmp_path, "ask-switchboard.png"))
        assert relayed is not None
