"""Special mentions in user- or model-written text are disarmed; the code's own stay."""

from __future__ import annotations

import pytest

from agents.mentions import defang, has_mass_mention


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> hi",
        "<!here>",
        "<!here|here>",
        "<!everyone>",
        "<!subteam^S0SUPPORT|@support>",
        "<!subteam^S0ONCALL>",
        "ping @channel now",
        "@HERE please",
        "@everyone!",
    ],
)
def test_mass_mentions_are_disarmed(text: str) -> None:
    safe = defang(text)
    assert has_mass_mention(text) and not has_mass_mention(safe)
    assert "<!" not in safe


def test_the_intended_group_and_dates_stay() -> None:
    text = "<!subteam^S0ONCALL> at <!date^1700000000^{time}|12:00>"
    assert defang(text, {"S0ONCALL"}) == text


def test_ordinary_at_signs_stay() -> None:
    text = "mail ops@channel.example or @channels or <@U123>"
    assert defang(text) == text
