"""``python -m localslack``: serve the fake workspace and its web page standalone.

Examples::

    python -m localslack                       # page at http://127.0.0.1:3000, no delivery
    python -m localslack --socket-mode         # a Bolt app connects with the app token
    python -m localslack --request-url http://127.0.0.1:8080/slack/events
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .config import LocalSlackConfig
from .scripting import LocalSlack


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localslack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--socket-mode", action="store_true", help="deliver over Socket Mode")
    mode.add_argument("--request-url", help="deliver signed HTTP requests to this URL")
    parser.add_argument("--no-rate-limits", action="store_true")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    config = LocalSlackConfig(
        host=args.host,
        port=args.port,
        delivery="socket" if args.socket_mode else "http" if args.request_url else "none",
        request_url=args.request_url,
        rate_limits_enabled=not args.no_rate_limits,
    )
    async with LocalSlack(config) as ls:
        print(f"localslack: page {ls.url}  web api {ls.api_url}")
        print(f"  bot token {ls.bot_token}\n  app token {ls.app_token}")
        print(f"  signing secret {ls.signing_secret}")
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(_parse(argv)))


if __name__ == "__main__":
    main()
