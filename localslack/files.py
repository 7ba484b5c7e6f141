"""Slack's three-step file upload, and serving the stored bytes to the web page.

1. ``files.getUploadURLExternal(filename, length)`` reserves a file id and returns an
   ``upload_url`` (here ``/upload/v1/<file_id>/<key>`` on this server).
2. The client POSTs the bytes there (raw body, or multipart with one file part).
3. ``files.completeUploadExternal(files=[{id, title}], channel_id, thread_ts,
   initial_comment)`` shares the files into the conversation as a bot message with ``files``.

``files.info`` describes a shared file (people's uploads too), with ``url_private``.

Bytes stay in memory so the page can show images at ``url_private``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from .actions import Actions
from .api_chat import ChatMethods
from .errors import ApiCallError, invalid_arguments
from .models import FileRecord, Json, file_json
from .spec import as_int
from .state import Workspace
from .webapi import ApiCall, Method


class FileMethods:
    """The file upload methods and the HTTP endpoints for bytes in and out."""

    def __init__(self, workspace: Workspace, actions: Actions, chat: ChatMethods) -> None:
        self.ws = workspace
        self.actions = actions
        self.chat = chat
        self.downloads: list[tuple[str, str]] = []  # (file id, Authorization header)

    def table(self) -> dict[str, Method]:
        """The methods this module serves."""
        return {
            "files.getUploadURLExternal": Method(self.get_upload_url),
            "files.completeUploadExternal": Method(self.complete_upload),
            "files.info": Method(self.info),
        }

    async def info(self, call: ApiCall) -> Json:
        """files.info: a shared file's metadata, with ``url_private`` to download it."""
        record = self.ws.files.get(call.str_arg("file"))
        if record is None or not record.completed:
            raise ApiCallError("file_not_found")
        return {"file": file_json(record, self.ws.base_url, self.ws.team_id)}

    async def get_upload_url(self, call: ApiCall) -> Json:
        """Step 1: reserve a file and hand out where to send its bytes."""
        name = call.str_arg("filename")
        length = as_int(call.args.get("length"), 0)
        if not name or length <= 0:
            raise invalid_arguments("filename and a positive length are required")
        record = self.ws.new_file(
            self.ws.app.bot_user_id,
            name,
            length,
            call.str_arg("alt_txt") or call.str_arg("alt_text"),
        )
        url = f"{self.ws.base_url}/upload/v1/{record.id}/{record.upload_key}"
        return {"upload_url": url, "file_id": record.id}

    async def receive_bytes(self, request: web.Request) -> web.Response:
        """Step 2: POST /upload/v1/{file_id}/{key} with the bytes."""
        record = self.ws.files.get(request.match_info["file_id"])
        if record is None or record.upload_key != request.match_info["key"]:
            return web.Response(status=404, text="upload_url not found")
        data = await _read_upload(request)
        record.data = data
        return web.Response(text=f"OK - {len(data)}")

    async def complete_upload(self, call: ApiCall) -> Json:
        """Step 3: finish the uploads and share them, with an optional comment."""
        entries = call.args.get("files")
        if not isinstance(entries, list) or not entries:
            raise invalid_arguments("files must be a non-empty JSON array of {id, title}")
        records = [self._uploaded(entry) for entry in entries]
        channel_ref = call.str_arg("channel_id") or call.str_arg("channels").split(",")[0]
        for record, entry in zip(records, entries, strict=True):
            record.title = str(entry.get("title") or record.title or record.name)
            record.completed = True
        if channel_ref:
            channel = self.chat.bot_channel(channel_ref)
            thread_ts = call.str_arg("thread_ts") or None
            if thread_ts is not None and self.ws.message(channel.id, thread_ts) is None:
                raise ApiCallError("thread_not_found")
            for record in records:
                record.channels.append(channel.id)
            self.actions.bot_post(
                channel.id,
                call.str_arg("initial_comment"),
                thread_ts=thread_ts,
                file_ids=[r.id for r in records],
                subtype="file_share",
            )
        return {"files": [file_json(r, self.ws.base_url, self.ws.team_id) for r in records]}

    def _uploaded(self, entry: Any) -> FileRecord:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise invalid_arguments("each file needs an id")
        record = self.ws.files.get(entry["id"])
        if record is None:
            raise ApiCallError("file_not_found")
        if record.data is None:
            raise ApiCallError("file_upload_not_found")
        return record

    async def serve(self, request: web.Request) -> web.Response:
        """GET /files/{file_id}[/{name}]: the stored bytes, for the page and url_private.

        Slack wants the bot token on ``url_private`` downloads; each download's Authorization
        header is recorded, so a test can check the app sent it."""
        self.downloads.append(
            (request.match_info["file_id"], request.headers.get("Authorization", ""))
        )
        record = self.ws.files.get(request.match_info["file_id"])
        if record is None or record.data is None:
            return web.Response(status=404, text="file not found")
        headers = {"Cache-Control": "private, max-age=3600"}
        if request.query.get("download"):
            headers["Content-Disposition"] = f'attachment; filename="{record.name}"'
        return web.Response(body=record.data, content_type=record.mimetype, headers=headers)


async def _read_upload(request: web.Request) -> bytes:
    """The uploaded bytes: the first file part of a multipart body, or the raw body."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and (part.filename or part.name == "file"):
                return bytes(await part.read(decode=False))
        return b""
    return await request.read()
