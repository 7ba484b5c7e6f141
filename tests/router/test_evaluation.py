from __future__ import annotations

import pytest

from router.classifier import Example, Prediction
from router.evaluation import calibration, evaluate, render_report, score

# Six messages, worked out by hand:
#   expected  billing billing billing technical technical triage
#   predicted billing billing technical technical billing triage
# billing:   tp 2, predicted 3, support 3 -> precision 2/3, recall 2/3, f1 2/3
# technical: tp 1, predicted 2, support 2 -> precision 1/2, recall 1/2, f1 1/2
# triage:    tp 1, predicted 1, support 1 -> 1, 1, 1
EXPECTED = ["billing", "billing", "billing", "technical", "technical", "triage"]
PREDICTED = ["billing", "billing", "technical", "technical", "billing", "triage"]
TEXTS = [f"message {i}" for i in range(len(EXPECTED))]


def test_accuracy_precision_recall_f1_by_hand() -> None:
    report = score(TEXTS, EXPECTED, PREDICTED)
    assert report.total == 6
    assert report.correct == 4
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.labels == ("billing", "technical", "triage")
    metrics = {m.route: m for m in report.per_route}
    assert metrics["billing"].precision == pytest.approx(2 / 3)
    assert metrics["billing"].recall == pytest.approx(2 / 3)
    assert metrics["billing"].f1 == pytest.approx(2 / 3)
    assert metrics["billing"].support == 3
    assert metrics["technical"].precision == pytest.approx(1 / 2)
    assert metrics["technical"].recall == pytest.approx(1 / 2)
    assert metrics["triage"].f1 == pytest.approx(1.0)
    assert report.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)


def test_confusion_matrix_rows_are_expected_columns_are_predicted() -> None:
    report = score(TEXTS, EXPECTED, PREDICTED)
    assert report.confusion == (
        (2, 1, 0),
        (1, 1, 0),
        (0, 0, 1),
    )
    assert [(m.expected, m.predicted) for m in report.misses] == [
        ("billing", "technical"),
        ("technical", "billing"),
    ]


def test_route_never_predicted_has_zero_precision_not_an_error() -> None:
    report = score(["a", "b"], ["escalation", "billing"], ["billing", "billing"])
    metrics = {m.route: m for m in report.per_route}
    assert metrics["escalation"].precision == 0.0
    assert metrics["escalation"].f1 == 0.0
    assert metrics["billing"].precision == pytest.approx(0.5)


def test_calibration_buckets_by_hand() -> None:
    buckets = calibration([0.95, 0.92, 0.55, 0.58, 1.0], [True, False, True, True, True])
    assert [(b.low, b.count) for b in buckets] == [(0.5, 2), (0.9, 3)]
    top = buckets[1]
    assert top.mean_confidence == pytest.approx((0.95 + 0.92 + 1.0) / 3)
    assert top.accuracy == pytest.approx(2 / 3)


def test_evaluate_accepts_routes_or_predictions() -> None:
    examples = [Example("refund", "billing"), Example("crash", "technical")]

    def as_route(text: str) -> str:
        return "billing"

    def as_prediction(text: str) -> Prediction:
        return Prediction("billing", 0.8, {"billing": 0.8, "technical": 0.2})

    plain = evaluate(examples, as_route)
    assert plain.accuracy == pytest.approx(0.5)
    assert plain.calibration == ()
    assert plain.expected_calibration_error is None

    scored = evaluate(examples, as_prediction)
    assert scored.accuracy == pytest.approx(0.5)
    assert scored.expected_calibration_error == pytest.approx(abs(0.8 - 0.5))


def test_render_report_has_table_matrix_and_calibration() -> None:
    report = score(TEXTS, EXPECTED, PREDICTED, [0.9, 0.8, 0.6, 0.7, 0.95, 0.99])
    text = render_report(report)
    assert "accuracy 0.667 (4/6)" in text
    assert "precision" in text
    assert "confusion (rows: expected, columns: predicted)" in text
    assert "billing -> technical 0.60: message 2" in text
    assert "0.9-1.0" in text


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        score(["a"], ["billing"], [])
