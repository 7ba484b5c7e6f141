"""The router's tests share one trained classifier (training takes seconds)."""

from __future__ import annotations

import pytest

from router.classifier import FastClassifier
from router.training import default_classifier


@pytest.fixture(scope="session")
def classifier() -> FastClassifier:
    return default_classifier()
