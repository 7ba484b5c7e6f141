"""OpenAI's chat-completions protocol, scripted: `POST /v1/chat/completions`.

Whole answers and server-sent events as OpenAI sends them: a first chunk with the role, content
a word at a time, tool calls as deltas (the id and name first, the arguments in pieces),
`finish_reason` last, then, when the request asked with `stream_options.include_usage`, one
more chunk with no choices and the usage, and `data: [DONE]`. Errors carry OpenAI's JSON body.
litellm reaches it as `openai/<model>` with `OPENAI_API_BASE` set to `url + "/v1"`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from tests.helpers.providers.script import Call, ScriptedServer, Step, sse, words

_ERRORS: dict[str, tuple[int, str, str | None]] = {
    "401": (401, "Incorrect API key provided: {key}.", "invalid_api_key"),
    "403": (403, "You are not allowed to sample from this model.", "forbidden"),
    "404": (404, "The model `{model}` does not exist or you do not have access to it.", None),
    "400": (400, "Invalid 'messages[1].content': string too long.", "string_above_max_length"),
    "429": (429, "Rate limit reached for requests.", "rate_limit_exceeded"),
    "500": (500, "The server had an error while processing your request.", None),
    "529": (503, "The engine is currently overloaded, please try again later.", None),
}


def call_id(call: Call, index: int) -> str:
    return call.id or f"call_{index}_{call.name}"


def usage(step: Step) -> dict[str, int]:
    total = step.prompt_tokens + step.completion_tokens
    return {
        "prompt_tokens": step.prompt_tokens,
        "completion_tokens": step.completion_tokens,
        "total_tokens": total,
    }


def completion(model: str, step: Step) -> dict[str, Any]:
    """A whole chat completion."""
    message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
    if step.calls:
        message["tool_calls"] = [
            {
                "id": call_id(c, i),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for i, c in enumerate(step.calls)
        ]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if step.calls else "stop",
            }
        ],
        "usage": usage(step),
    }


def chunks(model: str, step: Step, *, include_usage: bool) -> list[dict[str, Any]]:
    """The chunks of a streamed completion, in order (without the final [DONE])."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return body

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": piece}) for piece in words(step.text)]
    for index, call in enumerate(step.calls):
        head = {
            "index": index,
            "id": call_id(call, index),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        out.append(chunk({"tool_calls": [head]}))
        arguments = call.arguments
        for start in range(0, len(arguments), 8):
            piece = {"index": index, "function": {"arguments": arguments[start : start + 8]}}
            out.append(chunk({"tool_calls": [piece]}))
    out.append(chunk({}, "tool_calls" if step.calls else "stop"))
    if include_usage:
        out.append(
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": usage(step),
            }
        )
    return out


def error(status: int, message: str, code: str | None) -> web.Response:
    kind = {429: "requests", 500: "server_error", 503: "server_error"}.get(
        status, "invalid_request_error"
    )
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


class OpenAIServer(ScriptedServer):
    def __init__(self, answered_by: str | None = None) -> None:
        """`answered_by`: the model the answers name, as OpenAI names its dated snapshot
        (`gpt-4o-mini-2024-07-18`) when asked for `gpt-4o-mini`; by default the one asked for."""
        super().__init__(path="/v1/chat/completions")
        self._key = ""
        self.answered_by = answered_by

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self._key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return await super()._handle(request)

    def failure(self, step: Step) -> web.Response:
        assert step.fail is not None
        status, message, code = _ERRORS[step.fail]
        model = self.requests[-1].body.get("model") if self.requests else ""
        response = error(status, message.format(key=self._key, model=model), code)
        if step.fail == "429":
            response.headers["Retry-After"] = step.retry_after
        return response

    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        return completion(self.answered_by or str(body.get("model")), step)

    async def stream(
        self, request: web.Request, body: dict[str, Any], step: Step
    ) -> web.StreamResponse:
        include = bool((body.get("stream_options") or {}).get("include_usage"))
        response = await sse(request)
        sent_text = 0
        model = self.answered_by or str(body.get("model"))
        for item in chunks(model, step, include_usage=include):
            delta = item["choices"][0]["delta"] if item["choices"] else {}
            if delta.get("content"):
                if step.stall_after is not None and sent_text >= step.stall_after:
                    await self.hang()
                sent_text += 1
                if step.per_chunk:
                    await asyncio.sleep(step.per_chunk)
            await response.write(f"data: {json.dumps(item)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
