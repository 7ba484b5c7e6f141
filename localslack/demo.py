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
        "U0ALICE", "alice", "Alice Chen", "Support lead (approver)", color="2b6cb0", is_admin=True
    ),
    User("U0ERIN", "erin", "Erin Walsh", "Support lead (approver)", color="9c4221"),
    User("U0BOB", "bob", "Bob Okafor", "Support agent", color="2f855a"),
    User("U0CARA", "cara", "Cara Jensen", "Support agent", color="6b46c1"),
    User("U0DEV", "dev", "Dev Patel", "On-call engineer", color="c53030"),
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
    bot = User(DEMO_APP.bot_user_id, DEMO_APP.bot_name, "Switchboard", "Bot", is_bot=True)
    ws.add_user(bot)
    ws.add_user(User("USLACKBOT", "slackbot", "Slackbot", "Slack's own bot", True, "6b6b6b"))
    for user in DEMO_USERS:
        ws.add_user(user)
    people = {u.id for u in DEMO_USERS}
    created = int(time.time())
    for channel_id, name, purpose in ALL_CHANNELS:
        members = set(people)
        if name in BOT_CHANNELS:
            members.add(bot.id)
        ws.add_channel(Channel(channel_id, name, "channel", members, created, purpose=purpose))
    for user in DEMO_USERS:
        dm_id = "D" + user.id[1:]
        ws.add_channel(Channel(dm_id, dm_id, "im", {user.id, bot.id}, created, im_user=user.id))
    ws.add_usergroup(
        Usergroup("S0SUPLEADS", "support-leads", "Support leads", ["U0ALICE", "U0ERIN"])
    )
    ws.add_usergroup(Usergroup("S0ONCALL", "oncall", "On-call", ["U0DEV"]))
    ws.add_usergroup(
        Usergroup("S0SUPPORT", "support", "Support", ["U0ALICE", "U0ERIN", "U0BOB", "U0CARA"])
    )
    return ws
