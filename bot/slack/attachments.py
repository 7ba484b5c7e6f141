"""What a person attached to a message, in words the specialists can use.

A message with files (`file_share`) may say nothing but "see attached"; without the files the
bot would answer blind. Each file is looked up with `files.info` (the event's copy of a file can
be partial), named with its type and size, and a small text file (a log, a CSV, a config) is read
through its private URL with the bot token, up to a size limit. Files the bot cannot or should
not read (images, large or binary files, a failed download) are named, and said to be unread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.failures import describe_failure

log = structlog.stdlib.get_logger(__name__)

MAX_FILES = 5
TEXT_TYPES = frozenset({"text", "csv", "tsv", "json", "yaml", "yml", "xml", "log", "markdown"})


class Attachments:
    def __init__(
        self,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        max_text_bytes: int = 16_000,
        timeout: float = 5.0,
    ) -> None:
        self.client = client
        self.session = session
        self.max_text_bytes = max_text_bytes
        self.timeout = timeout

    async def describe(self, files: list[dict[str, Any]]) -> str:
        """A paragraph per file; "" when there are none."""
        shown = [f for f in files if isinstance(f.get("id"), str)][:MAX_FILES]
        parts = await asyncio.gather(*(self._one(f["id"]) for f in shown))
        more = len(files) - len(shown)
        if more > 0:
            parts.append(f"[{more} more attached file(s) not read]")
        return "\n\n".join(parts)

    async def _one(self, file_id: str) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                info = (await self.client.files_info(file=file_id)).get("file") or {}
        except Exception as exc:
            log.info("attachments.info_failed", file=file_id, error=describe_failure(exc).code)
            return f"[Attached: a file ({file_id}) that could not be looked up]"
        name = str(info.get("name") or info.get("title") or file_id)
        kind = str(info.get("mimetype") or info.get("filetype") or "unknown type")
        size = int(info.get("size") or 0)
        heading = f"[Attached: {name} ({kind}, {_size(size)})"
        if not _is_text(info):
            return f"{heading}; not read]"
        if size > self.max_text_bytes:
            return f"{heading}; too large to read, over {_size(self.max_text_bytes)}]"
        text = await self._download(
            str(info.get("url_private_download") or info.get("url_private"))
        )
        if text is None:
            return f"{heading}; could not be downloaded]"
        return f"{heading}:]\n```\n{text}\n```"

    async def _download(self, url: str) -> str | None:
        """The file's text, with the bot token as Slack requires for private URLs."""
        if not url.startswith(("https://", "http://")):
            return None
        headers = {"Authorization": f"Bearer {self.client.token}"}
        try:
            async with (
                asyncio.timeout(self.timeout),
                self.session.get(url, headers=headers) as response,
            ):
                if response.status != 200:
                    return None
                data = await response.content.read(self.max_text_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("attachments.download_failed", error=type(exc).__name__)
            return None
        return data[: self.max_text_bytes].decode("utf-8", errors="replace").strip()


def _is_text(info: dict[str, Any]) -> bool:
    mimetype = str(info.get("mimetype") or "")
    return mimetype.startswith("text/") or str(info.get("filetype") or "") in TEXT_TYPES


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB"
