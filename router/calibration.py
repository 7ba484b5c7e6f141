"""Turning scores into probabilities that can be thresholded: softmax with a fitted temperature.

The supervisor asks a clarifying question (or the LLM) when the classifier is unsure, so its
confidence must mean what it says: 0.8 should be right about 80% of the time. One temperature,
fitted on cross-validated scores, is enough for that (Guo et al., 2017) and cannot overfit.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def softmax(scores: NDArray[np.float64], temperature: float = 1.0) -> NDArray[np.float64]:
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
    return out


def log_softmax(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    z = scores - scores.max(axis=-1, keepdims=True)
    out: NDArray[np.float64] = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return out


def fit_temperature(scores: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    """The temperature that makes held-out softmax(scores / T) least surprised by the truth.

    The log-likelihood is unimodal in log T, so a golden-section search is enough.
    """
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        probs = softmax(scores, math.exp(log_t))
        return float(-np.log(np.clip(probs[rows, labels], 1e-12, None)).mean())

    lo, hi = -5.0, 3.0
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    while hi - lo > 1e-3:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return math.exp((lo + hi) / 2)
