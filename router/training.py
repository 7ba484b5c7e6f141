"""Training the fast classifier from the shipped examples and people's corrections, with a cache.

Training takes a few seconds, and every start-up, `switchboard route` and test would pay it.
A trained classifier is stored as plain arrays (`.npz`, no pickle) under a key made of the
examples, the training code and the library versions, so a start-up with the same inputs loads
it in milliseconds, and any change of data or code trains afresh. Corrections join the
examples here: a corrected text replaces a shipped example with the same words, and a later
correction of the same text wins over an earlier one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import structlog

from router.classifier import FastClassifier
from router.examples import Example, load_default_examples
from router.text import normalize

log = structlog.stdlib.get_logger(__name__)

# The modules whose code decides what a trained model is: a change to any of them retrains.
_CODE = (
    "analyzers.py",
    "classifier.py",
    "calibration.py",
    "embeddings.py",
    "examples.py",
    "text.py",
)
_LIBRARIES = ("numpy", "scikit-learn", "wordllama", "tokenizers")
_memo: dict[str, FastClassifier] = {}


def with_corrections(base: Sequence[Example], corrections: Iterable[Example]) -> list[Example]:
    """The shipped examples with the corrections on top, oldest correction first."""
    merged: dict[str, Example] = {normalize(e.text): e for e in base}
    for correction in corrections:
        key = normalize(correction.text)
        merged.pop(key, None)  # re-inserted at the end: the newest label of a text wins
        merged[key] = correction
    return list(merged.values())


def cache_key(examples: Sequence[Example]) -> str:
    digest = hashlib.sha256()
    package = resources.files("router")
    for name in _CODE:
        digest.update(package.joinpath(name).read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}\n".encode())
    for example in examples:
        digest.update(f"{example.route}\t{example.text}\n".encode())
    return digest.hexdigest()[:24]


def cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"router-classifier-{key}.npz"


def trained_classifier(
    examples: Sequence[Example], cache_dir: Path | None, *, force: bool = False
) -> FastClassifier:
    """The classifier for these examples: from this process, from disk, or trained now."""
    key = cache_key(examples)
    if not force and key in _memo:
        return _memo[key]
    path = cache_path(cache_dir, key) if cache_dir is not None else None
    classifier = None if force or path is None else _load(path)
    if classifier is None:
        classifier = FastClassifier.train(examples)
        if path is not None:
            _save(classifier, path)
    _memo[key] = classifier
    return classifier


def default_classifier(
    corrections: Sequence[Example] = (), cache_dir: Path | None = None, *, force: bool = False
) -> FastClassifier:
    """Trained on `router/data/train.jsonl` plus the corrections."""
    examples = with_corrections(load_default_examples("train.jsonl"), corrections)
    return trained_classifier(examples, cache_dir, force=force)


def _load(path: Path) -> FastClassifier | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return FastClassifier.from_arrays({name: arrays[name] for name in arrays.files})
    except (
        OSError,
        ValueError,
        KeyError,
        EOFError,
        zipfile.BadZipFile,
    ) as exc:  # a torn or foreign file: train again
        log.warning("router.cache_unreadable", path=str(path), error=str(exc))
        return None


def _save(classifier: FastClassifier, path: Path) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a model."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as fh:
            np.savez(fh, allow_pickle=False, **classifier.to_arrays())
        os.replace(fh.name, path)
    except OSError as exc:  # a read-only disk only costs the next start-up a training run
        log.warning("router.cache_not_written", path=str(path), error=str(exc))
