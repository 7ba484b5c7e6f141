"""Anthropic's messages protocol, scripted: `POST /v1/messages`.

Whole messages (content blocks of `text` and `tool_use`, `stop_reason`, `usage` with input
and output tokens) and the streamed events as Anthropic sends them: `message_start` (with the
input tokens), per block `content_block_start`, `content_block_delta` (`text_delta`, or
`input_json_delta` pieces of a tool call's input), `content_block_stop`, then `message_delta`
(stop reason, output tokens) and `message_stop`. Errors carry Anthropic's JSON body, 529 is
its "overloaded". litellm reaches it as `anthropic/<model>` with `ANTHROPIC_API_BASE = url`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from tests.helpers.providers.script import ScriptedServer, Step, sse, words

_ERRORS: dict[str, tuple[int, str, str]] = {
    "401": (401, "authentication_error", "invalid x-api-key"),
    "403": (403, "permission_error", "Your API key does not have permission to use this model."),
    "404": (404, "not_found_error", "model: {model}"),
    "400": (400, "invalid_request_error", "prompt is too long: 205351 tokens > 200000 maximum"),
    "429": (429, "rate_limit_error", "Number of requests has exceeded your rate limit."),
    "500": (500, "api_error", "Internal server error"),
    "529": (529, "overloaded_error", "Overloaded"),
}


def blocks(step: Step) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if step.text:
        content.append({"type": "text", "text": step.text})
    for index, call in enumerate(step.calls):
        content.append(
            {
                "type": "tool_use",
                "id": call.id or f"toolu_{index}_{call.name}",
                "name": call.name,
                "input": json.loads(call.arguments),
            }
        )
    return content


def message(model: str, step: Step) -> dict[str, Any]:
    return {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks(step),
        "stop_reason": "tool_use" if step.calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": step.prompt_tokens, "output_tokens": step.completion_tokens},
    }


def events(model: str, step: Step) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a streamed message, in order."""
    start = message(model, step) | {"content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": step.prompt_tokens, "output_tokens": 1}
    out: list[tuple[str, dict[str, Any]]] = [("message_start", {"message": start})]
    for index, block in enumerate(blocks(step)):
        if block["type"] == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in words(block["text"])]
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"])
            deltas = [
                {"type": "input_json_delta", "partial_json": raw[i : i + 8]}
                for i in range(0, len(raw), 8)
            ]
        out.append(("content_block_start", {"index": index, "content_block": opening}))
        if index == 0:
            out.append(("ping", {}))
        out += [("content_block_delta", {"index": index, "delta": d}) for d in deltas]
        out.append(("content_block_stop", {"index": index}))
    stop = {"stop_reason": "tool_use" if step.calls else "end_turn", "stop_sequence": None}
    out.append(
        ("message_delta", {"delta": stop, "usage": {"output_tokens": step.completion_tokens}})
    )
    out.append(("message_stop", {}))
    return [(name, {"type": name, **data}) for name, data in out]


class AnthropicServer(ScriptedServer):
    def __init__(self) -> None:
        super().__init__(path="/v1/messages")

    @property
    def api_base(self) -> str:
        return self.url

    def failure(self, step: Step) -> web.Response:
        assert step.fail is not None
        status, kind, text = _ERRORS[step.fail]
        model = self.requests[-1].body.get("model") if self.requests else ""
        body = {"type": "error", "error": {"type": kind, "message": text.format(model=model)}}
        response = web.json_response(body, status=status)
        if step.fail == "429":
            response.headers["retry-after"] = step.retry_after
        return response

    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        return message(str(body.get("model")), step)

    async def stream(
        self, request: web.Request, body: dict[str, Any], step: Step
    ) -> web.StreamResponse:
        response = await sse(request)
        sent_text = 0
        for name, data in events(str(body.get("model")), step):
            if data.get("delta", {}).get("type") == "text_delta":
                if step.stall_after is not None and sent_text >= step.stall_after:
                    await self.hang()
                sent_text += 1
                if step.per_chunk:
                    await asyncio.sleep(step.per_chunk)
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        await response.write_eof()
        return response
