"""How fast the router's classifier is, and how good, in numbers that fit on one screen.

Run: .venv/bin/python bench/router.py [--messages 3000] [--train-runs 3] [--encoder]

Training happens at a start-up with new data (otherwise the cache is read), so its time is
measured over several runs; prediction is measured per message, one at a time, the way the
supervisor calls it. "decide" is the whole routing decision of the default install (rules,
pasted-log condensing, the fast classifier, multi-intent, language and frustration), on short
chat lines (at most 25 words) and on long e-mails separately. `--encoder` adds the cascade with
the sentence encoder, when the extra is installed.
"""

from __future__ import annotations

import argparse
import gc
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

import asyncio

from router.classifier import Classifier, FastClassifier, detect_intents, load_default_examples
from router.decider import Decider
from router.evaluation import evaluate, render_report

SHORT_WORDS = 25


_CPU: dict[int, list[float]] = {}


def _latencies_ms(fn: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    """Wall-clock milliseconds per call; the CPU time of this thread is kept beside them.

    On a shared machine the wall clock includes the time another process held the core; the
    thread's CPU time does not, so both are printed.
    """
    out, cpu = [], []
    for text in texts:
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn(text)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        out.append((time.perf_counter() - start) * 1000)
    _CPU[id(out)] = cpu
    return out


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--train-runs", type=int, default=3)
    parser.add_argument("--encoder", action="store_true", help="also measure the cascade")
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
    short = [e.text for e in heldout if len(e.text.split()) <= SHORT_WORDS]
    long = [e.text for e in heldout if len(e.text.split()) > SHORT_WORDS]
    texts = [rng.choice(heldout).text for _ in range(args.messages)]
    short_texts = [rng.choice(short) for _ in range(args.messages)]
    long_texts = [rng.choice(long) for _ in range(max(1, args.messages // 5))]
    clf.predict_many(texts[:50])  # warm caches before timing
    gc.freeze()  # as the runtime does after start-up: the model's objects are never collected
    decider = Decider(clf)

    def decide(text: str) -> object:
        return _run(decider, text)

    for name, fn, sample in [
        ("predict, short", clf.predict, short_texts),
        ("predict, long", clf.predict, long_texts),
        ("decide, short", decide, short_texts),
        ("decide, long", decide, long_texts),
        ("detect_intents", lambda t: detect_intents(clf, t), texts),
    ]:
        _print_latency(name, _latencies_ms(fn, sample))

    split = sum(len(detect_intents(clf, e.text)) > 1 for e in heldout)
    print(f"false splits on heldout (all single-intent): {split}/{len(heldout)}")
    _print_quality("fast classifier", clf, heldout)
    if args.encoder:
        _encoder(clf, train, heldout, short_texts, long_texts)


_LOOP = asyncio.new_event_loop()


def _run(decider: Decider, text: str) -> object:
    """One decision on a loop kept open, as the supervisor makes it (no per-call loop set-up)."""
    return _LOOP.run_until_complete(decider.decide(text))


def _print_latency(name: str, lat: list[float]) -> None:
    cpu = _CPU.pop(id(lat), lat)
    print(
        f"{name}: p50 {_percentile(lat, 50):.3f} ms, p99 {_percentile(lat, 99):.3f} ms, "
        f"max {max(lat):.3f} ms (CPU time p50 {_percentile(cpu, 50):.3f}, "
        f"p99 {_percentile(cpu, 99):.3f} ms), {len(lat) / (sum(lat) / 1000):,.0f} msg/s one by "
        f"one ({len(lat)} messages)"
    )


def _print_quality(name: str, clf: Classifier, heldout: Sequence[object]) -> None:
    examples = list(heldout)
    report = evaluate(examples, clf.predict)  # type: ignore[arg-type]
    parts = {
        "short": [e for e in examples if len(e.text.split()) <= SHORT_WORDS],  # type: ignore[attr-defined]
        "long": [e for e in examples if len(e.text.split()) > SHORT_WORDS],  # type: ignore[attr-defined]
    }
    pieces = ", ".join(
        f"{k} {evaluate(v, clf.predict).accuracy:.3f} ({len(v)})" for k, v in parts.items()
    )
    print()
    print(f"== {name} on heldout: {pieces}")
    print(render_report(report, show_misses=0))


def _encoder(
    fast: FastClassifier,
    train: Sequence[object],
    heldout: Sequence[object],
    short_texts: list[str],
    long_texts: list[str],
) -> None:
    from router.cascade import Cascade, EncoderClassifier
    from router.encoder import SentenceEncoder, encoder_files

    encoder = SentenceEncoder(encoder_files())
    start = time.perf_counter()
    second = EncoderClassifier.train(encoder, train, None)  # type: ignore[arg-type]
    took = time.perf_counter() - start
    print(f"\nencoder classifier training (encoding every example): {took:.1f} s")
    cascade = Cascade(fast, second, 0.8)
    _print_latency("encoder alone, short", _latencies_ms(encoder.embed, short_texts[:300]))
    _print_latency("encoder alone, long", _latencies_ms(encoder.embed, long_texts[:100]))
    _print_latency("cascade, short", _latencies_ms(cascade.predict, short_texts[:1000]))
    _print_quality("cascade (fast, then the encoder below 0.8)", cascade, heldout)


if __name__ == "__main__":
    main()
