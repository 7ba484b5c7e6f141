"""The encoder extra with the model its package really ships: loading, vectors, the cascade."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.config_file import FileConfig, RouterConfig
from bot.errors import ConfigError
from bot.routing import classifier
from bot.settings import EnvSettings, Settings
from router.cascade import Cascade, EncoderClassifier
from router.classifier import FastClassifier, Prediction
from router.encoder import (
    EncoderUnavailableError,
    SentenceEncoder,
    encoder_files,
    wordpiece,
)
from router.examples import Example
from router.training import default_classifier

SMALL = [
    Example("please refund my payment", "billing"),
    Example("I was charged twice", "billing"),
    Example("the invoice amount is wrong", "billing"),
    Example("my card was declined", "billing"),
    Example("I cannot log in to my account", "technical"),
    Example("the app crashes on start", "technical"),
    Example("the API returns error 500", "technical"),
    Example("password reset email never arrives", "technical"),
]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(encoder_files())


def test_the_package_ships_the_model_and_we_ship_its_vocabulary() -> None:
    files = encoder_files()
    assert files.model.name == "model.onnx" and files.model.stat().st_size > 20_000_000
    ids = wordpiece(files.vocabulary).encode("Hello, I can't log in").ids
    assert ids == [101, 7592, 1010, 1045, 2064, 1005, 1056, 8833, 1999, 102]


def test_sentence_vectors_carry_meaning(encoder: SentenceEncoder) -> None:
    refund, money_back, crash = encoder.embed_many(
        ["I want a refund", "please give me my money back", "the app crashes when I open it"]
    )
    assert refund.shape == (384,)
    assert float(np.linalg.norm(refund)) == pytest.approx(1.0)
    assert refund @ money_back > refund @ crash + 0.1


def test_a_missing_model_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailableError, match="is not a file"):
        encoder_files(str(tmp_path / "nope.onnx"))
    env = EnvSettings(SWITCHBOARD_CACHE_DIR=str(tmp_path))
    settings = Settings(
        env,
        FileConfig(router=RouterConfig(encoder="on", encoder_model=str(tmp_path / "x"))),
        None,
    )
    with pytest.raises(ConfigError, match=r"router\.encoder"):
        classifier(settings)


def test_cascade_asks_the_encoder_only_when_the_fast_classifier_is_unsure(
    encoder: SentenceEncoder, tmp_path: Path
) -> None:
    second = EncoderClassifier.train(encoder, SMALL, tmp_path)
    assert second.predict("could I get my money back?").route == "billing"
    assert list(tmp_path.glob("router-encoder-*.npz"))
    again = EncoderClassifier.train(encoder, SMALL, tmp_path)  # from the cache
    assert again.predict("the app crashes").scores == second.predict("the app crashes").scores

    fast = default_classifier()
    asked: list[str] = []

    class Counting(EncoderClassifier):
        def predict(self, text: str) -> Prediction:
            asked.append(text)
            return super().predict(text)

    counting = Counting(
        second.encoder, second.weights, second.intercept, second.temperature, second.routes
    )
    cascade = Cascade(fast, counting, below=0.8)
    sure = "I was charged twice for my subscription"
    assert fast.predict(sure).confidence >= 0.8
    assert cascade.predict(sure) == fast.predict(sure)
    unsure = "any update?"
    assert fast.predict(unsure).confidence < 0.8
    cascade.predict(unsure)
    spanish = "¿y entonces qué pasa con esto?"
    assert fast.predict(spanish).confidence < 0.8
    assert cascade.predict(spanish) == fast.predict(spanish)  # not English: the fast one keeps it
    assert asked == [unsure]


def test_default_settings_build_the_cascade_when_the_extra_is_installed(tmp_path: Path) -> None:
    env = EnvSettings(SWITCHBOARD_CACHE_DIR=str(tmp_path))
    built = classifier(Settings(env, FileConfig(), None))
    assert isinstance(built, Cascade)
    off = classifier(Settings(env, FileConfig(router=RouterConfig(encoder="off")), None))
    assert isinstance(off, FastClassifier)
