"""The demo workspace: a support team, an on-call engineer, two approving leads and the bot.

Ids are fixed and readable (U0ALICE, C0SUPPORT) so tests, fixtures and people can name them;
tokens and the signing secret are fixed too, since nothing here leaves the machine.
"""

from __future__ import annotations

import time

from .models import AppIdentity, Channel, User, Usergroup
from .state import Workspace

TEAM_ID = "T0LOCAL"
TEAM_NAME = "Switchboard Local"

DEMO_APP = AppIdentity(
    app_id="A0SWITCHBOARD",
    bot_id="B0SWITCHBOARD",
    bot_user_id="U0SWITCHBOARD",
    bot_name="switchboard",
    bot_token="xoxb-0000000000-localslack-bot-token",  # noqa: S106 (a local fake)
    app_token="xapp-1-A0SWITCHBOARD-localslack-app-token",  # noqa: S106 (a local fake)
    signing_secret="localslack-signing-secret",  # noqa: S106 (a local fake)
    verification_token="localslack-verification-token",  # noqa: S106 (a local fake)
)

DEMO_USERS = (
    User(
        id="U0ALICE",
        name="alice",
        real_name="Alice Chen",
        title="Support lead (approver)",
        color="2b6cb0",
        is_admin=True,
    ),
    User(
        id="U0ERIN",
        name="erin",
        real_name="Erin Walsh",
        title="Support lead (approver)",
        color="9c4221",
    ),
    User(id="U0BOB", name="bob", real_name="Bob Okafor", title="Support agent", color="2f855a"),
    User(id="U0CARA", name="cara", real_name="Cara Jensen", title="Support agent", color="6b46c1"),
    User(id="U0DEV", name="dev", real_name="Dev Patel", title="On-call engineer", color="c53030"),
)

BOT_CHANNELS = ("support", "oncall", "billing")
ALL_CHANNELS = (
    ("C0SUPPORT", "support", "Customer questions and escalations"),
    ("C0ONCALL", "oncall", "Pages, incidents and the on-call rota"),
    ("C0BILLING", "billing", "Refunds, invoices and plans"),
    ("C0GENERAL", "general", "Everyone, everything (the bot is not here)"),
)


def demo_workspace() -> Workspace:
    """A fresh workspace with the demo team, channels, DMs and user groups."""
    ws = Workspace(TEAM_ID, TEAM_NAME, DEMO_APP)
    bot = User(
        id=DEMO_APP.bot_user_id,
        name=DEMO_APP.bot_name,
        real_name="Switchboard",
        title="Bot",
        is_bot=True,
    )
    ws.add_user(bot)
    ws.add_user(
        User(
            id="USLACKBOT",
            name="slackbot",
            real_name="Slackbot",
            title="Slack's own bot",
            is_bot=True,
            color="6b6b6b",
        )
    )
    for user in DEMO_USERS:
        ws.add_user(user)
    people = {u.id for u in DEMO_USERS}
    created = int(time.time())
    for channel_id, name, purpose in ALL_CHANNELS:
        members = set(people)
        if name in BOT_CHANNELS:
            members.add(bot.id)
        ws.add_channel(
            Channel(
                id=channel_id,
                name=name,
                kind="channel",
                members=members,
                created=created,
                purpose=purpose,
            )
        )
    for user in DEMO_USERS:
        dm_id = "D" + user.id[1:]
        ws.add_channel(
            Channel(
                id=dm_id,
                name=dm_id,
                kind="im",
                members={user.id, bot.id},
                created=created,
                im_user=user.id,
            )
        )
    ws.add_usergroup(
        Usergroup(
            id="S0SUPLEADS",
            handle="support-leads",
            name="Support leads",
            users=["U0ALICE", "U0ERIN"],
        )
    )
    ws.add_usergroup(Usergroup(id="S0ONCALL", handle="oncall", name="On-call", users=["U0DEV"]))
    ws.add_usergroup(
        Usergroup(
            id="S0SUPPORT",
            handle="support",
            name="Support",
            users=["U0ALICE", "U0ERIN", "U0BOB", "U0CARA"],
        )
    )
    return ws
