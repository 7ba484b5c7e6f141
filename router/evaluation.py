"""Scoring a router against labelled messages: the numbers behind `switchboard eval routing`.

Accuracy alone hides the failure that matters most here, an outage routed to triage, so the
report always carries per-route recall and the confusion matrix. When the predictor gives a
confidence, the report also says whether it can be trusted: accuracy per confidence bucket and
the expected calibration error, because the supervisor thresholds on that confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from router.classifier import ROUTES, Example


class Routed(Protocol):
    """Anything with a route and a confidence, such as `Prediction`."""

    @property
    def route(self) -> str: ...

    @property
    def confidence(self) -> float: ...


Predictor = Callable[[str], str | Routed]


@dataclass(frozen=True, kw_only=True)
class RouteMetrics:
    route: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, kw_only=True)
class CalibrationBucket:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True, kw_only=True)
class Miss:
    text: str
    expected: str
    predicted: str
    confidence: float | None


@dataclass(frozen=True, kw_only=True)
class EvaluationReport:
    total: int
    correct: int
    labels: tuple[str, ...]
    per_route: tuple[RouteMetrics, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: expected, columns: predicted, in `labels` order
    calibration: tuple[CalibrationBucket, ...]  # empty when the predictor gave no confidence
    misses: tuple[Miss, ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        return sum(m.f1 for m in self.per_route) / len(self.per_route) if self.per_route else 0.0

    @property
    def expected_calibration_error(self) -> float | None:
        """Mean gap between confidence and accuracy, weighted by how many predictions fall in it."""
        if not self.calibration:
            return None
        n = sum(b.count for b in self.calibration)
        return sum(b.count * abs(b.mean_confidence - b.accuracy) for b in self.calibration) / n


def evaluate(
    examples: Sequence[Example], predict: Predictor, buckets: int = 10
) -> EvaluationReport:
    """Run `predict` on every example; it may return a route or something with a confidence."""
    predicted: list[str] = []
    confidences: list[float] = []
    for example in examples:
        result = predict(example.text)
        if isinstance(result, str):
            predicted.append(result)
        else:
            predicted.append(result.route)
            confidences.append(result.confidence)
    return score(
        [e.text for e in examples],
        [e.route for e in examples],
        predicted,
        confidences if len(confidences) == len(examples) else None,
        buckets,
    )


def score(
    texts: Sequence[str],
    expected: Sequence[str],
    predicted: Sequence[str],
    confidences: Sequence[float] | None = None,
    buckets: int = 10,
) -> EvaluationReport:
    """The report for predictions already made; `evaluate` is the usual way in."""
    if not len(texts) == len(expected) == len(predicted):
        raise ValueError("texts, expected and predicted must have the same length")
    if confidences is not None and len(confidences) != len(expected):
        raise ValueError("confidences must have one value per prediction")
    labels = _labels([*expected, *predicted])
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for gold, guess in zip(expected, predicted, strict=True):
        matrix[index[gold]][index[guess]] += 1
    per_route = tuple(_route_metrics(label, i, matrix) for i, label in enumerate(labels))
    misses = tuple(
        Miss(
            text=text,
            expected=gold,
            predicted=guess,
            confidence=None if confidences is None else confidences[i],
        )
        for i, (text, gold, guess) in enumerate(zip(texts, expected, predicted, strict=True))
        if gold != guess
    )
    hits = [g == p for g, p in zip(expected, predicted, strict=True)]
    return EvaluationReport(
        total=len(expected),
        correct=sum(hits),
        labels=labels,
        per_route=per_route,
        confusion=tuple(tuple(row) for row in matrix),
        calibration=() if confidences is None else calibration(confidences, hits, buckets),
        misses=misses,
    )


def calibration(
    confidences: Sequence[float], correct: Sequence[bool], buckets: int = 10
) -> tuple[CalibrationBucket, ...]:
    """Equal-width confidence buckets, empty ones left out; 1.0 falls in the top bucket."""
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(buckets)]
    for conf, hit in zip(confidences, correct, strict=True):
        grouped[min(int(conf * buckets), buckets - 1)].append((conf, hit))
    return tuple(
        CalibrationBucket(
            low=i / buckets,
            high=(i + 1) / buckets,
            count=len(group),
            mean_confidence=sum(c for c, _ in group) / len(group),
            accuracy=sum(h for _, h in group) / len(group),
        )
        for i, group in enumerate(grouped)
        if group
    )


def _labels(routes: Sequence[str]) -> tuple[str, ...]:
    seen = set(routes)
    return tuple([r for r in ROUTES if r in seen] + sorted(seen - set(ROUTES)))


def _route_metrics(label: str, i: int, matrix: list[list[int]]) -> RouteMetrics:
    tp = matrix[i][i]
    support = sum(matrix[i])
    predicted = sum(row[i] for row in matrix)
    precision = tp / predicted if predicted else 0.0
    recall = tp / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return RouteMetrics(route=label, precision=precision, recall=recall, f1=f1, support=support)


def render_report(report: EvaluationReport, show_misses: int = 10) -> str:
    """Plain text for a terminal or a Slack code block: summary, table, matrix, calibration."""
    lines = [f"accuracy {report.accuracy:.3f} ({report.correct}/{report.total})"]
    lines.append(f"macro F1 {report.macro_f1:.3f}")
    ece = report.expected_calibration_error
    if ece is not None:
        lines.append(f"expected calibration error {ece:.3f}")
    width = max([len("route"), *(len(label) for label in report.labels)])
    lines += ["", f"{'route':<{width}}  precision  recall     f1  support"]
    for m in report.per_route:
        lines.append(
            f"{m.route:<{width}}  {m.precision:9.3f}  {m.recall:6.3f}  {m.f1:5.3f}  {m.support:7d}"
        )
    cell = max(6, *(len(label) for label in report.labels))
    lines += ["", "confusion (rows: expected, columns: predicted)"]
    lines.append(" " * width + "  " + " ".join(f"{label:>{cell}}" for label in report.labels))
    for label, row in zip(report.labels, report.confusion, strict=True):
        lines.append(f"{label:<{width}}  " + " ".join(f"{n:>{cell}d}" for n in row))
    if report.calibration:
        lines += ["", "confidence  count  mean conf  accuracy"]
        for b in report.calibration:
            span = f"{b.low:.1f}-{b.high:.1f}"
            lines.append(f"{span:<10}  {b.count:5d}  {b.mean_confidence:9.3f}  {b.accuracy:8.3f}")
    if report.misses and show_misses:
        lines += [
            "",
            f"misses (first {min(show_misses, len(report.misses))} of {len(report.misses)})",
        ]
        for miss in report.misses[:show_misses]:
            conf = "" if miss.confidence is None else f" {miss.confidence:.2f}"
            text = " ".join(miss.text.split())
            text = text if len(text) <= 80 else text[:77] + "..."
            lines.append(f"  {miss.expected} -> {miss.predicted}{conf}: {text}")
    return "\n".join(lines)
