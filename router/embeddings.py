"""Static word embeddings shipped inside the `wordllama` wheel: meaning without a model server.

WordLlama (MIT) ships a 32,000-token embedding table (256 dimensions, 16 MB of safetensors) and
its tokenizer inside the package, so the default install understands that "money back" is close
to "refund" without torch and without downloading anything. Only those two files are read, from
where pip put them; WordLlama's own loader is not used because it looks for the tokenizer in a
folder the wheel does not have and then tries the network.

A message is the mean of its tokens' vectors, scaled to length 1: about 50 µs for a chat line.
The table is mapped from the file, not read into memory: a running bot keeps in memory only
the pages of the tokens it has met (a safetensors file is a JSON header, then the raw array).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from router.errors import RouterError

WEIGHTS = Path("weights") / "l2_supercat_256.safetensors"
TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
TENSOR = "embedding.weight"
MAX_TOKENS = 512  # a pasted log past this adds nothing but time


class EmbeddingsUnavailableError(RouterError):
    """The wordllama package (or its weights) is not installed where Python can find it."""


def package_dir(name: str = "wordllama") -> Path:
    """Where a package is installed, found without importing it (WordLlama's import is slow)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingsUnavailableError(
            f"the {name} package is not installed; reinstall Switchboard (pip install -e .)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class WordEmbeddings:
    table: NDArray[np.floating[Any]]  # float16 in the shipped file; rows widen when read
    tokenizer: Tokenizer

    @classmethod
    def load(cls, root: Path) -> WordEmbeddings:
        weights, tokenizer = root / WEIGHTS, root / TOKENIZER
        for path in (weights, tokenizer):
            if not path.is_file():
                raise EmbeddingsUnavailableError(f"{path} is missing; reinstall wordllama")
        return cls(mapped_tensor(weights, TENSOR), Tokenizer.from_file(str(tokenizer)))

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])

    def embed(self, text: str) -> NDArray[np.float64]:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids[:MAX_TOKENS]
        if not ids:
            return np.zeros(self.dim, dtype=np.float64)
        vector = self.table[ids].astype(np.float32).sum(axis=0).astype(np.float64)
        norm = float(np.sqrt(vector @ vector))  # the mean's direction: the sum's, scaled to 1
        out: NDArray[np.float64] = vector / norm if norm else vector
        return out

    def embed_many(self, texts: list[str]) -> NDArray[np.float64]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float64)
        return np.vstack([self.embed(t) for t in texts])


_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64}


def mapped_tensor(path: Path, name: str) -> NDArray[np.floating[Any]]:
    """One tensor of a safetensors file, memory-mapped read-only."""
    try:
        with path.open("rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            entry = json.loads(fh.read(size))[name]
        start, end = entry["data_offsets"]
        dtype = np.dtype(_DTYPES[entry["dtype"]])
        shape = tuple(int(n) for n in entry["shape"])
        if end - start != dtype.itemsize * int(np.prod(shape)):
            raise ValueError("its size does not match its shape")
        table: NDArray[np.floating[Any]] = np.memmap(
            path, dtype=dtype, mode="r", offset=8 + size + start, shape=shape
        )
    except (OSError, ValueError, KeyError, struct.error) as exc:
        problem = f"{path} is unreadable ({exc}); reinstall wordllama"
        raise EmbeddingsUnavailableError(problem) from exc
    return table


@cache
def default_embeddings() -> WordEmbeddings:
    """Loaded once per process from the installed wordllama package (about 0.1 s)."""
    return WordEmbeddings.load(package_dir())
