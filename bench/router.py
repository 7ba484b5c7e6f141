"""How fast the router's classifier is, and how good, in numbers that fit on one screen.

Run: .venv/bin/python bench/router.py [--messages 3000] [--train-runs 5]

Training happens at every start-up, so its time is measured over several runs; prediction is
measured per message, one at a time, the way the supervisor calls it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# This script is itself called router.py: with only its own folder first on sys.path,
# `import router` would find the script instead of the package. The repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.classifier import FastClassifier, detect_intents, load_default_examples
from router.evaluation import evaluate, render_report


def _latencies_ms(fn: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    out = []
    for text in texts:
        start = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--train-runs", type=int, default=5)
    args = parser.parse_args()

    train = load_default_examples("train.jsonl")
    heldout = load_default_examples("heldout.jsonl")
    print(f"cpus: {os.cpu_count()}  train examples: {len(train)}  heldout: {len(heldout)}")

    train_s = []
    clf = FastClassifier.train(train)
    for _ in range(args.train_runs):
        start = time.perf_counter()
        clf = FastClassifier.train(train)
        train_s.append(time.perf_counter() - start)
    print(
        f"training: median {statistics.median(train_s):.3f} s, "
        f"min {min(train_s):.3f} s, max {max(train_s):.3f} s over {len(train_s)} runs"
    )

    rng = random.Random(0)
    texts = [rng.choice(heldout).text for _ in range(args.messages)]
    clf.predict_many(texts[:50])  # warm caches before timing

    for name, fn in [
        ("predict", clf.predict),
        ("detect_intents", lambda t: detect_intents(clf, t)),
    ]:
        lat = _latencies_ms(fn, texts)
        print(
            f"{name}: p50 {_percentile(lat, 50):.3f} ms, p99 {_percentile(lat, 99):.3f} ms, "
            f"max {max(lat):.3f} ms, {len(lat) / (sum(lat) / 1000):,.0f} msg/s one by one "
            f"({len(lat)} messages)"
        )
    start = time.perf_counter()
    clf.predict_many(texts)
    batch_s = time.perf_counter() - start
    print(f"predict_many: {len(texts) / batch_s:,.0f} msg/s in one batch of {len(texts)}")

    report = evaluate(heldout, clf.predict)
    split = sum(len(detect_intents(clf, e.text)) > 1 for e in heldout)
    print(f"false splits on heldout (all single-intent): {split}/{len(heldout)}")
    print()
    print(render_report(report, show_misses=0))


if __name__ == "__main__":
    main()
