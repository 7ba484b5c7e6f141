"""Two stages: the fast classifier decides when it is sure, the sentence encoder when it is not.

The encoder (`router.encoder`, an optional extra) is a better reader but costs 10 to 30 ms a
message, against well under one for the fast classifier, so it is asked only below
`router.encoder_below` confidence. It was trained on English, so a message in another language
stays with the fast classifier, which learnt the common requests in five languages.

The encoder's own classifier is a logistic regression on its sentence vectors of the same
examples, calibrated like the fast one; encoding the examples takes tens of seconds, so its
weights are cached on disk under a key of the examples, the code and the model file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog
from numpy.typing import NDArray

from router.calibration import fit_temperature, softmax
from router.classifier import FastClassifier, Prediction
from router.encoder import SentenceEncoder
from router.examples import Example, check_examples
from router.language import language
from router.text import gist

log = structlog.stdlib.get_logger(__name__)

_C = 16.0
_FOLDS = 5
_VERSION = b"cascade-1"


@dataclass(frozen=True)
class EncoderClassifier:
    encoder: SentenceEncoder
    weights: NDArray[np.float64]  # (dimensions, routes)
    intercept: NDArray[np.float64]
    temperature: float
    routes: tuple[str, ...]

    @classmethod
    def train(
        cls, encoder: SentenceEncoder, examples: Sequence[Example], cache_dir: Path | None
    ) -> EncoderClassifier:
        routes = check_examples(examples)
        key = _key(encoder, examples)
        path = None if cache_dir is None else cache_dir / f"router-encoder-{key}.npz"
        saved = _load(path, routes) if path is not None else None
        if saved is not None:
            weights, intercept, temperature = saved
            return cls(encoder, weights, intercept, temperature, routes)
        from sklearn.linear_model import LogisticRegression  # only to train: seconds to import
        from sklearn.model_selection import StratifiedKFold

        x = encoder.embed_many([gist(e.text) for e in examples])
        labels = np.array([routes.index(e.route) for e in examples], dtype=np.int64)
        folds = min(_FOLDS, min(Counter(labels.tolist()).values()))
        held = np.zeros((len(examples), len(routes)))
        for fit, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, labels):
            model = LogisticRegression(C=_C, max_iter=2000).fit(x[fit], labels[fit])
            held[test] = model.decision_function(x[test]).reshape(len(test), -1)
        model = LogisticRegression(C=_C, max_iter=2000).fit(x, labels)
        weights = np.ascontiguousarray(np.asarray(model.coef_, dtype=np.float64).T)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(routes) == 2:
            weights = np.hstack([-weights, weights]) / 2
            intercept = np.concatenate([-intercept, intercept]) / 2
            held = np.hstack([-held, held]) / 2
        trained = cls(encoder, weights, intercept, fit_temperature(held, labels), routes)
        if path is not None:
            _save(trained, path)
        return trained

    def predict(self, text: str) -> Prediction:
        scores = self.encoder.embed(gist(text)) @ self.weights + self.intercept
        row = softmax(scores, self.temperature)
        best = int(row.argmax())
        return Prediction(
            self.routes[best],
            float(row[best]),
            {r: float(p) for r, p in zip(self.routes, row, strict=True)},
        )


class Cascade:
    """Looks like the fast classifier to the decider; asks the encoder only when unsure."""

    def __init__(self, fast: FastClassifier, second: EncoderClassifier, below: float) -> None:
        self.fast = fast
        self.second = second
        self.below = below
        self.routes = fast.routes

    def predict(self, text: str) -> Prediction:
        first = self.fast.predict(text)
        if first.confidence >= self.below or language(text) != "en":
            return first
        return self.second.predict(text)

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        return [self.predict(t) for t in texts]


def _key(encoder: SentenceEncoder, examples: Sequence[Example]) -> str:
    digest = hashlib.sha256(_VERSION)
    stat = encoder.files.model.stat()
    digest.update(f"{encoder.files.model.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for example in examples:
        digest.update(f"{example.route}\t{example.text}\n".encode())
    return digest.hexdigest()[:24]


def _load(
    path: Path, routes: tuple[str, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64], float] | None:
    """The cached weights, or None when missing, torn or for other routes: then train again."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            if tuple(str(r) for r in saved["routes"]) != routes:
                return None
            return saved["weights"], saved["intercept"], float(saved["temperature"][0])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("router.encoder_cache_unreadable", path=str(path), error=str(exc))
        return None


def _save(trained: EncoderClassifier, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as fh:
            np.savez(
                fh,
                allow_pickle=False,
                routes=np.array(trained.routes, dtype=str),
                weights=trained.weights,
                intercept=trained.intercept,
                temperature=np.array([trained.temperature]),
            )
        os.replace(fh.name, path)
    except OSError as exc:
        log.warning("router.encoder_cache_not_written", path=str(path), error=str(exc))
