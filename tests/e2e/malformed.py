"""Malformed requests to `/slack/events`, generated from real ones: for the test and the bench.

Each case starts from a request Slack really sends (an app_mention, a DM, a click, a slash
command, a url_verification) and breaks one thing: a field deleted, nulled or given the wrong
type, at any depth; a body that is not UTF-8, JSON or a form; a charset nobody knows; a
timestamp that is not a number. Signed cases are signed over the broken bytes, as an attacker
holding the secret (or a buggy proxy) would; unsigned ones carry a wrong or missing signature.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from localslack import signature

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
WRONG: tuple[object, ...] = ("x", 7, [], {}, [1], "", True, 1.5)


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    headers: dict[str, str]
    signed: bool


def _event(kind: str, channel: str, text: str, *, channel_type: str = "channel") -> dict[str, Any]:
    ts = f"{int(time.time())}.000100"
    return {
        "token": "x",
        "team_id": "T0LOCAL",
        "api_app_id": "A0LOCAL",
        "type": "event_callback",
        "event_id": "EvMALFORMED",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0LOCAL", "user_id": "U0SWITCHBOARD", "is_bot": True}],
        "event": {
            "type": kind,
            "user": "U0BOB",
            "text": text,
            "ts": ts,
            "channel": channel,
            "channel_type": channel_type,
            "event_ts": ts,
            "files": [{"id": "F1", "name": "a.txt", "mimetype": "text/plain"}],
        },
    }


def _click() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "team_id": "T0LOCAL"},
        "team": {"id": "T0LOCAL"},
        "channel": {"id": "C0SUPPORT"},
        "container": {"type": "message", "channel_id": "C0SUPPORT", "message_ts": "1.000100"},
        "trigger_id": "1.2.3",
        "response_url": "http://127.0.0.1:9/hooks/actions/T0LOCAL/x",
        "actions": [
            {
                "action_id": "approval_approve",
                "value": "apv_missing",
                "type": "button",
                "action_ts": "1.2",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _broken(base: dict[str, Any], path: tuple[Any, ...], replacement: Any) -> dict[str, Any]:
    broken = copy.deepcopy(base)
    parent: Any = broken
    for step in path[:-1]:
        parent = parent[step]
    if replacement is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return broken


_DELETE = object()


def _sign(secret: str, body: bytes, content_type: str, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp if stamp is not None else str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body),
    }


def cases(secret: str, bot_user_id: str, *, seed: int = 10) -> list[Case]:
    """A few hundred malformed requests, the same ones for the same seed."""
    rng = random.Random(seed)
    bases: list[tuple[str, dict[str, Any]]] = [
        ("mention", _event("app_mention", "C0SUPPORT", f"<@{bot_user_id}> hello")),
        ("dm", _event("message", "D0BOB", "hello", channel_type="im")),
        ("click", _click()),
    ]
    out: list[Case] = []
    for name, base in bases:
        for path in _paths(base):
            choices = [_DELETE, None, *rng.sample(WRONG, 2)]
            for replacement in choices:
                broken = _broken(base, path, replacement)
                what = "deleted" if replacement is _DELETE else repr(replacement)
                label = f"{name}:{'.'.join(map(str, path))}={what}"
                if name == "click":
                    raw = urlencode({"payload": json.dumps(broken)}).encode()
                    out.append(Case(label, raw, _sign(secret, raw, FORM), True))
                else:
                    raw = json.dumps(broken).encode()
                    out.append(Case(label, raw, _sign(secret, raw, JSON), True))
    out += _bodies(secret)
    out += _headers(secret, json.dumps(bases[0][1]).encode())
    return out


def _bodies(secret: str) -> list[Case]:
    bodies: list[tuple[str, bytes, str]] = [
        ("not utf-8", b'{"type": "event_callback", "x": "\xff\xfe"}', JSON),
        ("latin-1 charset", '{"type": "url_verification", "challenge": "é"}'.encode(), JSON),
        (
            "unknown charset",
            b'{"type": "url_verification", "challenge": "c"}',
            f"{JSON}; charset=klingon",
        ),
        ("empty", b"", JSON),
        ("null", b"null", JSON),
        ("list", b"[]", JSON),
        ("number", b"42", JSON),
        ("string", b'"event_callback"', JSON),
        ("truncated", b'{"type": "event_callback", "event": {"type"', JSON),
        ("bom", b'\xef\xbb\xbf{"type": "url_verification", "challenge": "c"}', JSON),
        ("form without payload", b"a=1&b=2", FORM),
        ("payload not json", b"payload=%7Bbroken", FORM),
        ("payload list", b"payload=%5B%5D", FORM),
        ("payload null", b"payload=null", FORM),
        ("payload twice", b"payload=%7B%7D&payload=%5B%5D", FORM),
        ("command without slash", b"command=switchboard&text=help", FORM),
        ("command empty", b"command=&text=help", FORM),
        ("form binary", b"payload=\xff\xfe", FORM),
        ("json as text/plain", b'{"type": "event_callback"}', "text/plain"),
        ("multipart without boundary", b"--x\r\n", "multipart/form-data"),
        ("no content type", b'{"type": "block_actions", "actions": []}', ""),
        ("deep nesting", b'{"event": ' * 200 + b"1" + b"}" * 200, JSON),
    ]
    return [Case(name, raw, _sign(secret, raw, kind), True) for name, raw, kind in bodies]


def _headers(secret: str, raw: bytes) -> list[Case]:
    now = int(time.time())
    good = _sign(secret, raw, JSON)
    variants: list[tuple[str, dict[str, str]]] = [
        ("no signature", {"Content-Type": JSON, "X-Slack-Request-Timestamp": str(now)}),
        ("no timestamp", {"Content-Type": JSON, "X-Slack-Signature": good["X-Slack-Signature"]}),
        ("no headers", {}),
        ("wrong signature", {**good, "X-Slack-Signature": "v0=" + "0" * 64}),
        (
            "v1 signature",
            {**good, "X-Slack-Signature": good["X-Slack-Signature"].replace("v0", "v1")},
        ),
        ("signature not hex", {**good, "X-Slack-Signature": "v0=zz"}),
        ("signature unicode", {**good, "X-Slack-Signature": "v0=é"}),
        ("stale", _sign(secret, raw, JSON, str(now - 600))),
        ("future", _sign(secret, raw, JSON, str(now + 600))),
    ]
    for stamp in ("abc", "", "1e9", "-5", "9" * 40, " 12", "12.5", "0x10", "١٢٣"):
        variants.append((f"timestamp {stamp!r}", {**good, "X-Slack-Request-Timestamp": stamp}))
        variants.append((f"signed timestamp {stamp!r}", _sign(secret, raw, JSON, stamp)))
    return [Case(name, raw, headers, False) for name, headers in variants]
