"""The desk recognises its own posted cards by outbox key, and nothing else as one."""

from __future__ import annotations

from bot.approvals.desk import card_key, posted_card


def test_only_a_posted_card_names_its_approval() -> None:
    assert posted_card(card_key("apv_1", "post")) == "apv_1"
    assert posted_card(card_key("apv_1", "pointer")) is None
    assert posted_card(card_key("apv_1", "decided")) is None
    assert posted_card("turn:Ev1:0") is None
    assert posted_card("card::post") is None
    assert posted_card("eph:apv_1:U1:post") is None
