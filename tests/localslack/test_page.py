"""The web page in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack
from tests.helpers.bolt import CARD, bolt_app, serve_bolt
from tests.helpers.browser import needs_chromium

pytestmark = needs_chromium


async def open_page(browser: Browser, ls: LocalSlack) -> Page:
    page = await browser.new_page()
    await page.goto(ls.url)
    await expect(page.locator("#live-state")).to_have_text("● live")
    return page


async def test_post_as_user_and_see_bot_card_live(
    browser: Browser, ls: LocalSlack, client: AsyncWebClient
) -> None:
    app = bolt_app(ls)

    @app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        page = await open_page(browser, ls)
        composer = page.get_by_test_id("composer")
        await composer.fill("hello from the browser, @switchboard")
        await composer.press("Enter")
        messages = page.get_by_test_id("messages")
        await expect(messages.get_by_text("hello from the browser")).to_be_visible()
        await expect(messages.locator(".mention", has_text="@switchboard")).to_be_visible()
        posted = ls.history("support")[-1]
        assert posted["user"] == "U0ALICE"
        assert posted["text"] == f"hello from the browser, <@{ls.bot_user_id}>"

        await client.chat_postMessage(channel="C0SUPPORT", text="Approval needed", blocks=CARD)
        approve_button = messages.get_by_role("button", name="Approve")
        await expect(approve_button).to_be_visible()
        await expect(messages.get_by_text("Refund $120 to order 42?")).to_be_visible()

        await messages.get_by_role("button", name="Reject").click()
        await expect(page.locator("#confirm")).to_be_visible()
        await page.locator("#confirm-deny").click()
        await expect(page.locator("#confirm")).to_be_hidden()

        await approve_button.click()
        await expect(messages.get_by_text("Approved by @alice")).to_be_visible()
        await expect(approve_button).to_have_count(0)
