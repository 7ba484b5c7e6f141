"""A reply streaming on the local workspace's page, as a person watches it in Chromium.

The bot runs with `openai/gpt-4o-mini` against the scripted OpenAI server, which writes its
answer a word at a time; the page shows the thread's status, then the text growing with a caret,
then the whole reply with its context line. The mid-stream screenshot is `streaming.png`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from localslack import LocalSlack
from tests.helpers.browser import needs_chromium
from tests.helpers.harness import bot, settings_for
from tests.helpers.providers.openai_server import OpenAIServer
from tests.helpers.providers.script import Call, Step, serving

pytestmark = needs_chromium

FIRST = "Invoice INV-1024 was charged on 1 March for the Team plan."
REST = (
    " The cancellation you asked for takes effect at the end of that billing period, so this"
    " charge stands. If the plan was not used after the cancellation, I can ask a billing lead"
    " to review a refund."
)


@pytest.fixture
async def model(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[OpenAIServer]:
    async with serving(OpenAIServer()) as server:
        monkeypatch.setenv("OPENAI_API_BASE", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-browser")
        assert isinstance(server, OpenAIServer)
        yield server
        server.assert_done()


async def test_a_reply_streams_on_the_page(
    browser: Browser, slack: LocalSlack, sqlite_url: str, tmp_path: Path, model: OpenAIServer
) -> None:
    model.script(
        Step(calls=(Call("explain_charge", '{"invoice": "INV-1024"}', "call-1"),)),
        Step(text=FIRST + REST, per_chunk=0.08),
    )
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model="openai/gpt-4o-mini")
    async with bot(slack, settings):
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(slack.url)
        await expect(page.locator("#live-state")).to_have_text("● live")
        composer = page.get_by_test_id("composer")
        await composer.fill("@switchboard Why was invoice INV-1024 charged after we cancelled?")
        await composer.press("Enter")
        thread_link = page.get_by_test_id("messages").locator(".thread-link").first
        await expect(thread_link).to_be_visible(timeout=20_000)
        await thread_link.click()
        panel = page.get_by_test_id("thread-panel")
        streaming = panel.locator(".block.markdown", has_text="▍")
        await expect(streaming).to_contain_text(FIRST, timeout=20_000)
        await page.screenshot(path=str(tmp_path / "streaming.png"))
        shown = await streaming.inner_text()
        assert "review a refund" not in shown, "the screenshot is mid-stream"
        await expect(panel.get_by_text("review a refund.").first).to_be_visible(timeout=20_000)
        await expect(panel.get_by_text("Answered by Billing").first).to_be_visible()
        assert await panel.locator(".block.markdown", has_text="▍").count() == 0
