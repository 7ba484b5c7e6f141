"""The digest's Block Kit stays within Slack's limits, compares every figure, and the chart is
a PNG with alt text."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from matplotlib.image import imread

from bot.digests.service import compose
from bot.digests.view import DigestView, blocks, chart_png, duration, money, span, versus
from bot.slack.render import BLOCK_LIMIT, SECTION_LIMIT
from storage.figures import (
    ApprovalFigures,
    Conversations,
    DailyRoutes,
    OpenItem,
    Topics,
    WindowFigures,
)
from storage.store import Store
from tests.helpers.digest_scenario import END, seed
from tests.helpers.digests import DAILY


def test_figures_show_their_change() -> None:
    assert versus(7, 2, str) == "7 (+5)"
    assert versus(2, 7, str) == "2 (−5)"
    assert versus(3, 3, str) == "3 (=)"
    assert versus(59.0, None, duration) == "59s (new)"
    assert versus(None, 5.0, duration) == "–"
    assert versus(0.05, 0.02, money) == "$0.0500 (+$0.0300)"
    assert duration(45) == "45s" and duration(600) == "10m 00s" and duration(5400) == "1h 30m"
    assert (span(timedelta(hours=24)), span(timedelta(days=7)), span(timedelta(minutes=90))) == (
        "24h",
        "7d",
        "90m",
    )


async def test_the_digest_blocks_hold_every_figure_within_slack_limits(
    sqlite_store: Store,
) -> None:
    await seed(sqlite_store)
    digest = await compose(sqlite_store, DAILY, END)
    assert len(digest.blocks) <= BLOCK_LIMIT
    for block in digest.blocks:
        assert len(block.get("text", {}).get("text", "")) <= SECTION_LIMIT
        assert len(block.get("fields", [])) <= 10
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    text = json.dumps(digest.blocks)
    for shown in [
        "*Conversations*\\n7 (+5)",
        "*Resolved*\\n3 (+2)",
        "*Escalated*\\n1 (+1)",
        "*Waiting on approval*\\n1 (+1)",
        "Technical 3 (+3)\\nBilling 2 (+1)",
        "*First reply p50*\\n1m 00s (\\u22124m 00s)",
        "*First reply p95*\\n10m 00s (+5m 00s)",
        "*Approvals requested*\\n4 (+2)",
        "*Approved*\\n2 (+2)",
        "*Rejected*\\n1 (=)",
        "*Expired*\\n1 (+1)",
        "*Median time to a decision*\\n30m 00s (+20m 00s)",
        "1 (=) incidents\\n1 (+1) escalations",
        "refund 33% (+33 pts)",
        "Escalation: 380 (+380) tokens, $0.0500 (+$0.0500)",
        "Triage: 110 (+40) tokens, $0.0090 (+$0.0030)",
        "*Model cost*\\n$0.1170 (+$0.1110)",
        "Incident #2 SEV1: Checkout down (<#C0SUPPORT>)",
    ]:
        assert shown in text, shown
    assert digest.text.startswith("Digest daily: 7 (+5) conversations, 3 resolved")
    assert digest.text.endswith("model cost $0.1170 (+$0.1110).")
    assert digest.chart is not None
    assert digest.chart_alt.startswith(
        "Stacked bar chart of new conversations per route per day, 23 Feb to 02 Mar "
        "(Europe/Berlin). In all: Billing 3, Escalation 1, Technical 3, Triage 1."
    )


def test_long_lists_are_cut_to_fit() -> None:
    zone = ZoneInfo("UTC")
    figures = WindowFigures(
        start=END,
        end=END,
        conversations=Conversations(total=1),
        approvals=ApprovalFigures(),
        usage=[],
        topics=Topics(),
        incidents_opened=0,
        escalations_opened=0,
    )
    items = [
        OpenItem(
            kind="incident",
            id=n,
            title="x" * 500,
            label="SEV1",
            channel="C0SUPPORT",
            thread_ts=f"{n}.000100",
            created_at=END,
        )
        for n in range(10)
    ]
    view = DigestView(
        name="daily",
        zone=zone,
        window=timedelta(hours=24),
        current=figures,
        previous=figures,
        open_items=items,
        open_total=250,
        links={},
    )
    rendered = blocks(view)
    open_block = next(b for b in rendered if "Open escalations" in str(b.get("text")))
    assert len(open_block["text"]["text"]) <= SECTION_LIMIT
    assert "… and 240 more" in open_block["text"]["text"]


def test_the_chart_is_a_png_of_the_days() -> None:
    zone = ZoneInfo("Europe/Berlin")
    days = [END - timedelta(days=n) for n in range(7, 0, -1)]
    daily = DailyRoutes(days, {"billing": [1, 2, 3, 4, 5, 6, 7], "technical": [0] * 7})
    png = chart_png(daily, zone, "New conversations per route per day (daily)")
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (400, 800)
