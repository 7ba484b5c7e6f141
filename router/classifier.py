"""The fast local intent classifier: the router's first opinion when no rule matched.

Two small models vote, because each fails where the other holds:

- **Words and characters** (TF-IDF over word n-grams and character n-grams, a linear SVM
  whose margins a fitted temperature turns into probabilities) know the exact phrases of the
  examples and survive typos ("cant loggin", "refnd"), but know nothing of a word they never
  saw.
- **Static word embeddings** (WordLlama's table, see `router.embeddings`, averaged over the
  message, logistic regression) know that "reimbursement" is close to "refund" and carry some
  meaning across languages, but blur a long message into its vocabulary.

Their log-probabilities are averaged and one temperature, fitted on cross-validated scores,
turns the sum into probabilities a threshold can trust. Both models read the message's gist
(`router.text`), so a greeting and a signature do not outvote the request. Trained from
`router/data/train.jsonl` and the stored corrections in a couple of seconds, and cached on disk
(`router.training`), so the examples are the model: to change a routing decision, add examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from router.analyzers import ANALYZERS, CHAR_NGRAMS, WORD_NGRAMS, WORD_PATTERN
from router.calibration import fit_temperature, log_softmax, softmax
from router.embeddings import WordEmbeddings, default_embeddings
from router.examples import (
    FALLBACK_ROUTE,
    ROUTES,
    ClassifierError,
    Example,
    check_examples,
    load_default_examples,
    load_examples,
    parse_examples,
)
from router.segments import split_segments
from router.text import fold, gist, normalize

if TYPE_CHECKING:  # scikit-learn is imported only to train: loading a cached model skips it
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

__all__ = [
    "FALLBACK_ROUTE",
    "ROUTES",
    "Classifier",
    "ClassifierError",
    "Example",
    "FastClassifier",
    "Prediction",
    "detect_intents",
    "load_default_examples",
    "load_examples",
    "normalize",
    "parse_examples",
]

_FOLDS = 5
_SVM_C = 0.5
_EMBEDDING_C = 16.0
_EMBEDDING_SHARE = 0.5  # weight of the embedding model's vote in the log-probability average
_FALLBACK_SHARE = 0.4
_BESIDE_ESCALATION_SHARE = 0.3


@dataclass(frozen=True)
class Prediction:
    route: str
    confidence: float
    scores: dict[str, float]


class Classifier(Protocol):
    """What the decider needs: the fast classifier alone, or the cascade with the encoder."""

    routes: tuple[str, ...]

    def predict(self, text: str) -> Prediction: ...

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]: ...


def _vectorizers() -> list[TfidfVectorizer]:
    """Word and character TF-IDF side by side: words for phrases, characters for typos.

    Only training uses these; scoring uses the same analyzers from `router.analyzers`.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [
        TfidfVectorizer(
            ngram_range=WORD_NGRAMS, sublinear_tf=True, token_pattern=WORD_PATTERN, dtype=np.float64
        ),
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, dtype=np.float64
        ),
    ]


@dataclass(frozen=True)
class _Block:
    """One fitted vectorizer folded together with its slice of the weights.

    Scoring one message through sklearn costs about 2 ms, nearly all of it input validation;
    doing the same sums here (sublinear tf times idf, l2 norm, dot with the weights) costs a
    tenth of that. Training still goes through sklearn, so the numbers are the same.
    """

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    weights: NDArray[np.float64]  # (features in this block, routes)

    def scores(self, text: str) -> NDArray[np.float64]:
        counts = Counter(self.analyze(text))
        lookup = self.vocabulary.get
        ids = np.array([lookup(t, -1) for t in counts], dtype=np.int64)
        known = ids >= 0
        if not known.any():
            return np.zeros(self.weights.shape[1])
        idx = ids[known]
        tf = np.array(list(counts.values()), dtype=np.float64)[known]
        values = (1.0 + np.log(tf)) * self.idf[idx]
        values /= np.sqrt(values @ values)
        out: NDArray[np.float64] = values @ self.weights[idx]
        return out


def _fit(
    x: Any, labels: NDArray[np.int64], n_routes: int, model: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Weights (routes × features) and intercepts of a linear model, one row per route."""
    model.fit(x, labels)
    if len(model.classes_) != n_routes:
        raise ClassifierError("a training fold lost a route; add more examples for every route")
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if n_routes == 2:  # sklearn keeps one score for two classes: positive means the second
        coef = np.vstack([-coef, coef]) / 2
        intercept = np.concatenate([-intercept, intercept]) / 2
    return coef, intercept


def _svm() -> LinearSVC:
    """Fast on 20,000 sparse features (logistic regression takes 40 times longer there)."""
    from sklearn.svm import LinearSVC

    return LinearSVC(C=_SVM_C, random_state=0)


def _logistic() -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=_EMBEDDING_C, max_iter=2000)


def _vote(
    margins: NDArray[np.float64], embedded: NDArray[np.float64], lexical_temperature: float
) -> NDArray[np.float64]:
    """The two models' log-probabilities, averaged (a weighted geometric mean of their odds).

    The SVM's margins become log-probabilities through their own fitted temperature first, so
    neither model outvotes the other just by the scale of its scores.
    """
    share = _EMBEDDING_SHARE
    lexical = log_softmax(margins / lexical_temperature)
    vote: NDArray[np.float64] = (1 - share) * lexical + share * log_softmax(embedded)
    return vote


class FastClassifier:
    """Routes one message in well under a millisecond, with probabilities worth thresholding."""

    def __init__(
        self,
        blocks: Sequence[_Block],
        lexical_intercept: NDArray[np.float64],
        embedding_weights: NDArray[np.float64],
        embedding_intercept: NDArray[np.float64],
        temperatures: tuple[float, float],
        routes: tuple[str, ...],
        embeddings: WordEmbeddings,
    ) -> None:
        self._blocks = tuple(blocks)
        self._lexical_intercept = lexical_intercept
        self._embedding_weights = embedding_weights  # (dimensions, routes)
        self._embedding_intercept = embedding_intercept
        self.lexical_temperature, self.temperature = temperatures
        self.routes = routes
        self.embeddings = embeddings

    @classmethod
    def train(
        cls, examples: Sequence[Example], embeddings: WordEmbeddings | None = None
    ) -> FastClassifier:
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import FeatureUnion

        routes = check_examples(examples)
        words = embeddings or default_embeddings()
        gists = [gist(e.text) for e in examples]
        texts = [normalize(g) for g in gists]
        labels = np.array([routes.index(e.route) for e in examples], dtype=np.int64)
        vectorizers = _vectorizers()
        x = FeatureUnion([(str(i), v) for i, v in enumerate(vectorizers)]).fit_transform(texts)
        e = words.embed_many(gists)
        n = len(routes)
        folds = min(_FOLDS, min(Counter(labels.tolist()).values()))
        margins = np.zeros((len(texts), n), dtype=np.float64)
        embedded = np.zeros((len(texts), n), dtype=np.float64)
        split = StratifiedKFold(folds, shuffle=True, random_state=0).split(x, labels)
        for fit_idx, held_idx in split:
            lex_coef, lex_b = _fit(x[fit_idx], labels[fit_idx], n, _svm())
            emb_coef, emb_b = _fit(e[fit_idx], labels[fit_idx], n, _logistic())
            margins[held_idx] = np.asarray(x[held_idx] @ lex_coef.T) + lex_b
            embedded[held_idx] = e[held_idx] @ emb_coef.T + emb_b
        lexical_t = fit_temperature(margins, labels)
        temperature = fit_temperature(_vote(margins, embedded, lexical_t), labels)
        lex_coef, lex_b = _fit(x, labels, n, _svm())
        emb_coef, emb_b = _fit(e, labels, n, _logistic())
        blocks, offset = [], 0
        for v, analyze in zip(vectorizers, ANALYZERS, strict=True):
            width = len(v.vocabulary_)
            weights = np.ascontiguousarray(lex_coef[:, offset : offset + width].T)
            idf = np.asarray(v.idf_, dtype=np.float64)
            blocks.append(_Block(analyze, dict(v.vocabulary_), idf, weights))
            offset += width
        emb_weights = np.ascontiguousarray(emb_coef.T)
        return cls(blocks, lex_b, emb_weights, emb_b, (lexical_t, temperature), routes, words)

    @classmethod
    def from_default_data(cls) -> FastClassifier:
        return cls.train(load_default_examples("train.jsonl"))

    def predict(self, text: str) -> Prediction:
        essence = gist(text)
        norm = fold(essence)  # gist has cleaned it already
        if not norm:
            return self._empty()
        margins = self._lexical_intercept + sum(b.scores(norm) for b in self._blocks)
        embedded = self.embeddings.embed(essence) @ self._embedding_weights
        vote = _vote(margins, embedded + self._embedding_intercept, self.lexical_temperature)
        row = softmax(vote, self.temperature)
        best = int(row.argmax())
        scores = {r: float(p) for r, p in zip(self.routes, row, strict=True)}
        return Prediction(self.routes[best], float(row[best]), scores)

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        return [self.predict(t) for t in texts]

    def _empty(self) -> Prediction:
        """Nothing left after normalising (only a mention or an emoji): ask, don't guess."""
        share = 1.0 / len(self.routes)
        route = FALLBACK_ROUTE if FALLBACK_ROUTE in self.routes else self.routes[0]
        return Prediction(route, share, dict.fromkeys(self.routes, share))

    # -- the cache (router.training) stores a trained classifier as plain arrays --------------

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        arrays: dict[str, NDArray[Any]] = {
            "routes": np.array(self.routes, dtype=str),
            "temperatures": np.array([self.lexical_temperature, self.temperature]),
            "lexical_intercept": self._lexical_intercept,
            "embedding_weights": self._embedding_weights,
            "embedding_intercept": self._embedding_intercept,
        }
        for i, block in enumerate(self._blocks):
            terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            arrays[f"terms_{i}"] = np.array(terms, dtype=str)
            arrays[f"idf_{i}"] = block.idf
            arrays[f"weights_{i}"] = block.weights
        return arrays

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, NDArray[Any]], embeddings: WordEmbeddings | None = None
    ) -> FastClassifier:
        blocks = []
        for i, analyze in enumerate(ANALYZERS):
            terms = [str(t) for t in arrays[f"terms_{i}"]]
            blocks.append(
                _Block(
                    analyze,
                    {t: j for j, t in enumerate(terms)},
                    np.asarray(arrays[f"idf_{i}"], dtype=np.float64),
                    np.asarray(arrays[f"weights_{i}"], dtype=np.float64),
                )
            )
        return cls(
            blocks,
            np.asarray(arrays["lexical_intercept"], dtype=np.float64),
            np.asarray(arrays["embedding_weights"], dtype=np.float64),
            np.asarray(arrays["embedding_intercept"], dtype=np.float64),
            (float(arrays["temperatures"][0]), float(arrays["temperatures"][1])),
            tuple(str(r) for r in arrays["routes"]),
            embeddings or default_embeddings(),
        )


def detect_intents(
    clf: Classifier,
    text: str,
    threshold: float = 0.8,
    min_share: float = 0.25,
    whole: Prediction | None = None,
) -> list[Prediction]:
    """One prediction per route the message asks for: usually one, sometimes two or three.

    A route counts only if some piece of the message is confidently about it (`threshold`) and
    it holds at least `min_share` of the message, in words weighted by probability. The share
    test keeps a long e-mail about a refund that says "the app is great" in passing a single
    billing turn; whole-message confidence is no guide, since it is as high for "refund me, and
    also the app crashes" as for a plain refund. Triage needs a bigger share to join another
    route, because context on its own looks like triage ("I only have one workspace", "what
    did you do?"), and so does anything beside an outage, whose symptoms ("the web app shows
    503") look technical. Routes come in the order the whole message leans to them.
    """
    whole = whole or clf.predict(text)  # callers that have it already pass it in
    pieces = split_segments(gist(text))
    if len(pieces) < 2:
        return [whole]
    predictions = clf.predict_many(pieces)
    words = np.array([len(p.split()) for p in pieces], dtype=np.float64)
    mass = {r: float(words @ [p.scores[r] for p in predictions]) for r in clf.routes}
    total = sum(mass.values())
    best: dict[str, Prediction] = {}
    for piece in predictions:
        share = min_share
        if piece.route != whole.route and whole.route == "escalation":
            share = _BESIDE_ESCALATION_SHARE
        if piece.route == FALLBACK_ROUTE != whole.route:
            share = _FALLBACK_SHARE
        held = best.get(piece.route)
        if (
            piece.confidence >= threshold
            and mass[piece.route] >= share * total
            and (held is None or piece.confidence > held.confidence)
        ):
            best[piece.route] = piece
    if len(best) < 2:
        return [whole]
    return sorted(best.values(), key=lambda p: whole.scores[p.route], reverse=True)
