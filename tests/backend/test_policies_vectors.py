"""The word vectors the policy search reads unknown words with: read safely, cached, and meaningful."""

import gzip
import io
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest

from backend.policies import vectors
from backend.policies.vectors import WordVectors, default_vectors


@pytest.fixture(scope="module")
def words() -> WordVectors:
    return default_vectors()


def test_the_package_data_is_read_as_unit_vectors(words: WordVectors) -> None:
    assert len(words.words) > 50_000
    assert words.matrix.shape == (len(words.words), 200)
    sample = words.matrix[:: len(words.words) // 100]
    assert np.allclose(np.linalg.norm(sample, axis=1), 1.0, atol=1e-4)


def test_neighbours_mean_what_applicants_mean(words: WordVectors) -> None:
    def similarity(a: str, b: str) -> float:
        va, vb = words.vector(a), words.vector(b)
        assert va is not None and vb is not None
        return float(va @ vb)

    assert similarity("面馆", "饭馆") > 0.75
    assert similarity("邮寄", "邮递") > 0.75
    assert similarity("面馆", "饭馆") > similarity("面馆", "护照") + 0.3
    assert words.vector("不是一个词语") is None


def test_the_cache_is_written_once_and_read_back_identically(tmp_path: Path) -> None:
    parsed = WordVectors.load(tmp_path)
    [cache] = tmp_path.glob("word-vectors-*.npz")
    written = cache.stat().st_mtime_ns
    again = WordVectors.load(tmp_path)
    assert cache.stat().st_mtime_ns == written
    assert again.words == parsed.words
    assert np.array_equal(again.matrix, parsed.matrix)


def test_a_broken_cache_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reference = default_vectors()
    WordVectors.load(tmp_path)
    [cache] = tmp_path.glob("word-vectors-*.npz")
    cache.write_bytes(b"not an npz file")
    with caplog.at_level(logging.WARNING, logger=vectors.__name__):
        rebuilt = WordVectors.load(tmp_path)
    assert "rebuilding" in caplog.text
    assert rebuilt.words == reference.words
    with np.load(cache) as data:  # and the file is whole again
        assert data["matrix"].shape == reference.matrix.shape


def test_an_unwritable_cache_directory_still_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger=vectors.__name__):
        loaded = WordVectors.load(blocked / "cache")
    assert "not written" in caplog.text
    assert len(loaded.words) == len(default_vectors().words)


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this must never run",))


def test_the_data_file_may_hold_plain_data_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The package's file is unpickled; a file that names any class or function is refused, so a
    # tampered package cannot run code in the backend.
    hostile = tmp_path / "model"
    hostile.mkdir()
    with gzip.open(hostile / "test.model", "wb") as out:
        pickle.dump((["词 0.1 0.2"], {}, {}, _Payload()), out)

    class Files:
        def joinpath(self, *parts: str) -> Path:
            return tmp_path.joinpath(*parts)

    monkeypatch.setattr(vectors.importlib.resources, "files", lambda package: Files())
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        WordVectors.parse()

    plain = io.BytesIO()
    with gzip.open(plain, "wb") as out:
        pickle.dump((["甲 3 4", "乙 0 2"], {}, {}), out)
    (hostile / "test.model").write_bytes(plain.getvalue())
    parsed = WordVectors.parse()
    assert parsed.words == ("甲", "乙")
    assert np.allclose(parsed.matrix, [[0.6, 0.8], [0.0, 1.0]])
