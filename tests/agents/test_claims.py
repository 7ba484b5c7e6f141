"""Sentences that claim an effect nobody carried out are dropped; honest ones stay."""

from __future__ import annotations

import pytest

from agents.claims import claims_effect, keep_backed


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("The refund has been issued.", "money"),
        ("I've credited $99 to the account.", "money"),
        ("✅ Done: refunded $199.00.", "money"),
        ("El reembolso ha sido procesado.", "money"),
        ("O reembolso foi processado.", "money"),
        ("Le remboursement a été effectué.", "money"),
        ("Die Rückerstattung wurde veranlasst.", "money"),
        ("I have paged on-call.", "page"),
        ("Incident INC-4 was opened.", "incident"),
        ("I opened ticket #12 for you.", "ticket"),
    ],
)
def test_claims_are_recognised(sentence: str, kind: str) -> None:
    assert claims_effect(sentence, kind)


@pytest.mark.parametrize(
    "sentence",
    [
        "Nothing has been refunded yet.",
        "Refunds over the limit wait for a lead's approval.",
        "Paid $199.00, refunded $0.00; $199.00 can still be refunded.",
        "The refund was rejected: not a duplicate.",
        "Once someone approves, the refund will be issued.",
        "Should I refund INV-1018?",
        "No page was sent.",
    ],
)
def test_honest_sentences_are_not_claims(sentence: str) -> None:
    assert not any(claims_effect(sentence, k) for k in ("money", "page", "incident", "ticket"))


def test_a_claim_is_kept_when_the_tool_did_it() -> None:
    text = "✅ Done: refunded $199.00 to Helix."
    assert keep_backed(text, {"money"}) == (text, False)


def test_an_unbacked_claim_is_cut_and_reported() -> None:
    text, cut = keep_backed("Here is INV-1018.\nThe refund has been issued. Anything else?", set())
    assert (text, cut) == ("Here is INV-1018.\nAnything else?", True)


def test_talk_of_approval_gives_way_to_the_stated_state() -> None:
    text, cut = keep_backed("INV-1018 is a double charge. I asked a lead to approve it.", (), True)
    assert (text, cut) == ("INV-1018 is a double charge.", False)
