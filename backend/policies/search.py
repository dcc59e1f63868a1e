"""Policy search: curated FAQ answers and document passages, ranked by BM25, cut off by a calibrated score.

Why BM25 from rank-bm25 and not the database's full-text search: the corpus is small (135 passages and
29 FAQ entries with 172 phrasings), static and shipped with the code, so an in-memory index built once
at start-up answers in well under a millisecond with no I/O. Neither database helps with Chinese: SQLite
FTS5's tokenisers do not segment it (unicode61 makes a whole run of characters one token, trigram misses
two-character words) and PostgreSQL needs the zhparser extension, so both would need jieba in front of
them anyway and would rank differently from each other. rank-bm25 gives textbook Okapi BM25 over our own
jieba tokens and behaves the same on every deployment.

Scoring. A question is cut into terms (tokens.py; a term may be a group of synonyms, any of which
matches). Raw BM25 sums are not comparable across questions, so the score that is reported and
thresholded is a *match* in [0, 1]: the share of the question's information that a candidate covers.
Each term weighs its IDF (a word the passages never use weighs as much as their rarest word), and counts
as covered in proportion to its BM25 contribution, up to the contribution of one occurrence in a document
of average length (BM25's tf saturation and length normalisation, read through the term's IDF). 1.0 means
every meaningful word of the question is found.
- FAQ entries are matched on their question and each phrasing (best phrasing wins), with no length
  normalisation (b = 0: every phrasing is one short sentence); a phrasing the question covers only in part
  loses up to `FAQ_PRECISION_SHARE` of its score, so the entry asked about beats one that merely mentions
  the same word.
- Passages are matched on heading path + text (b = 0.75) and weighted by `PASSAGE_WEIGHT`, so a curated
  answer is preferred to a passage that matches as well.
- Near-ties (common: short questions saturate) go to the candidate whose own words the question covers
  most (`TIE_BREAK`), then to raw BM25.

Threshold. Below `DEFAULT_THRESHOLD` the search answers "found nothing" rather than the least bad passage.
scripts/policy_eval.py --sweep prints top-1/top-3 accuracy and out-of-scope rejection over thresholds on
tests/backend/policy_eval.yaml. On the questions it was tuned on, 0.40 lies in the gap between the weakest
correct answers (≈0.45) and the strongest out-of-scope matches (≈0.37, 个人所得税怎么申报 → 申报); lower
thresholds let weather and tax questions through, higher ones drop correct answers quickly. Held-out
questions show the limit of a lexical match: paraphrases with words neither the documents nor the lexicon
know score under the threshold (top-1 0.72 there) — more FAQ phrasings and synonyms are the remedy.
"""

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from rank_bm25 import BM25Okapi

from backend.policies.faq import FaqEntry, load_faq
from backend.policies.passages import Document, load_documents
from backend.policies.tokens import Lexicon, PolicyTokenizer, Term

DEFAULT_THRESHOLD = 0.40
MAX_RESULTS = 10
PASSAGE_WEIGHT = 0.9
PASSAGE_B = 0.75
FAQ_PRECISION_SHARE = 0.2
TIE_BREAK = 0.05

Vector = npt.NDArray[np.float64]


class Citation(BaseModel):
    doc_id: str
    doc_title: str
    passage_id: str
    section: str
    citation: str
    url: str


class Hit(BaseModel):
    kind: Literal["faq", "passage"]
    id: str
    title: str
    text: str
    score: float
    sample: bool = False
    url: str
    citations: list[Citation]


class SearchResult(BaseModel):
    query: str
    found: bool
    results: list[Hit]


def passage_url(doc_id: str, passage_id: str) -> str:
    """Relative URL of the document page with the passage highlighted (the caller adds the base URL)."""
    return f"/policies/{doc_id}/passages/{passage_id}#p-{passage_id}"


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: Literal["faq", "passage"]
    index: int
    score: float
    precision: float
    raw: float


@dataclass(frozen=True, eq=False)
class _Field:
    """One BM25 index, scored term by term."""

    bm25: BM25Okapi
    size: int
    # Each document's words as a question would be cut (no search-mode sub-words) with their IDF, and
    # the sum of those IDFs, for `precision`.
    words: list[dict[str, float]]
    mass: list[float]

    @classmethod
    def build(cls, corpus: list[list[str]], words: list[frozenset[str]], *, b: float) -> "_Field":
        bm25 = BM25Okapi(corpus, b=b)
        weighted = [{w: max(float(bm25.idf.get(w, 0.0)), 0.0) for w in doc} for doc in words]
        return cls(bm25, len(corpus), weighted, [sum(doc.values()) for doc in weighted])

    def idf(self, word: str) -> float | None:
        value = self.bm25.idf.get(word)
        return None if value is None else float(value)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - two fields per index, one index per process
    def scores(self, word: str) -> Vector:
        """BM25 of one word for every document; the corpus never changes, so it is computed once."""
        scores = np.asarray(self.bm25.get_scores([word]), dtype=np.float64)
        scores.flags.writeable = False
        return scores

    def match(self, terms: Sequence[Term], weights: Sequence[float]) -> tuple[Vector, Vector]:
        """(match in [0, 1], raw BM25) for every document."""
        covered = np.zeros(self.size)
        raw = np.zeros(self.size)
        for term, weight in zip(terms, weights, strict=True):
            best_match = np.zeros(self.size)
            best_raw = np.zeros(self.size)
            for word in term:
                idf = self.idf(word)
                if not idf:
                    continue
                scores = self.scores(word)
                np.maximum(best_raw, scores, out=best_raw)
                np.maximum(best_match, np.minimum(1.0, scores / idf), out=best_match)
            raw += best_raw
            covered += weight * best_match
        return covered / sum(weights), raw

    def precision(self, doc: int, words: set[str]) -> float:
        """The share of the document's own information that the question's words cover."""
        own, mass = self.words[doc], self.mass[doc]
        return sum(idf for w, idf in own.items() if w in words) / mass if mass > 0 else 0.0


class PolicyIndex:
    """Built once at start-up (PolicyIndex.load); searching is read-only and safe to share."""

    def __init__(
        self,
        documents: list[Document],
        faq: list[FaqEntry],
        tokenizer: PolicyTokenizer,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.documents = {d.id: d for d in documents}
        self.faq = faq
        self.threshold = threshold
        self.loaded_in = 0.0
        self._tokenizer = tokenizer
        self._passages = [p for d in documents for p in d.passages]
        texts = [" ".join((*p.section_path, p.text)) for p in self._passages]  # headings say what it is about
        self._passage_field = _Field.build(
            [tokenizer.passage_tokens(t) for t in texts], [self._words(t) for t in texts], b=PASSAGE_B
        )
        phrasings = [(i, text) for i, entry in enumerate(faq) for text in (entry.question, *entry.phrasings)]
        self._faq_owner = [i for i, _ in phrasings]
        self._faq_field = _Field.build(
            [tokenizer.passage_tokens(t) for _, t in phrasings], [self._words(t) for _, t in phrasings], b=0.0
        )
        self._unknown_weight = max(float(v) for v in self._passage_field.bm25.idf.values())

    @classmethod
    def load(
        cls, policies_dir: Path, faq_file: Path | None = None, *, threshold: float = DEFAULT_THRESHOLD
    ) -> "PolicyIndex":
        """Documents, lexicon and dictionary from `policies_dir` (config/policies), FAQ from `faq_file`
        (default: config/policy_faq.yaml next to it)."""
        started = time.perf_counter()
        documents = load_documents(policies_dir)
        faq = load_faq(faq_file or policies_dir.parent / "policy_faq.yaml", {d.id: d for d in documents})
        tokenizer = PolicyTokenizer(
            policies_dir / "jieba_userdict.txt", Lexicon.load(policies_dir / "lexicon.yaml")
        )
        index = cls(documents, faq, tokenizer, threshold=threshold)
        index.loaded_in = time.perf_counter() - started
        return index

    def search(self, query: str, limit: int = 5) -> SearchResult:
        limit = max(1, min(limit, MAX_RESULTS))
        hits = [self._hit(c) for c in self._rank(query)[:limit] if c.score >= self.threshold]
        return SearchResult(query=query, found=bool(hits), results=hits)

    def ranked_refs(self, query: str) -> list[tuple[str, float]]:
        """Every candidate with a non-zero match, best first, threshold not applied (for calibration)."""
        return [(self._ref(c), c.score) for c in self._rank(query)]

    def _rank(self, query: str) -> list[_Candidate]:
        terms = self._tokenizer.query_terms(query)
        if not terms:
            return []
        weights = [self._weight(term) for term in terms]
        # The question's words including search-mode sub-words: 行业综合许可证 also covers 综合许可证.
        words = {w for term in terms for w in term} | set(self._tokenizer.passage_tokens(query))
        best: dict[int, _Candidate] = {}
        match, raw = self._faq_field.match(terms, weights)
        for doc in np.flatnonzero(match):
            precision = self._faq_field.precision(int(doc), words)
            score = float(match[doc]) * (1 - FAQ_PRECISION_SHARE * (1 - precision))
            owner = self._faq_owner[doc]
            candidate = _Candidate("faq", owner, score, precision, float(raw[doc]))
            if owner not in best or _key(candidate) > _key(best[owner]):
                best[owner] = candidate
        ranked = list(best.values())
        match, raw = self._passage_field.match(terms, weights)
        ranked.extend(
            _Candidate(
                "passage",
                int(i),
                float(match[i]) * PASSAGE_WEIGHT,
                self._passage_field.precision(int(i), words),
                float(raw[i]),
            )
            for i in np.flatnonzero(match)
        )
        ranked.sort(key=_key, reverse=True)
        return ranked

    def _weight(self, term: Term) -> float:
        """A term weighs its IDF; a word the corpus does not know weighs as much as the rarest word it
        knows, so an unknown subject ("个人所得税") pulls the match down instead of being ignored."""
        known = [
            idf
            for idf in (self._passage_field.idf(w) or self._faq_field.idf(w) for w in term)
            if idf is not None
        ]
        return max(max(known), 0.1) if known else self._unknown_weight

    def _words(self, text: str) -> frozenset[str]:
        return frozenset(w for term in self._tokenizer.query_terms(text) for w in term)

    def _ref(self, candidate: _Candidate) -> str:
        if candidate.kind == "faq":
            return self.faq[candidate.index].ref
        return self._passages[candidate.index].ref

    def _hit(self, candidate: _Candidate) -> Hit:
        score = math.floor(candidate.score * 1000) / 1000
        if candidate.kind == "faq":
            entry = self.faq[candidate.index]
            citations = list(
                {c.url: c for c in (self._citation(c.doc, c.passage) for c in entry.citations)}.values()
            )
            return Hit(
                kind="faq",
                id=entry.ref,
                title=entry.question,
                text=entry.answer,
                score=score,
                sample=entry.sample,
                url=citations[0].url,
                citations=citations,
            )
        passage = self._passages[candidate.index]
        citation = self._citation(passage.doc_id, passage.id)
        return Hit(
            kind="passage",
            id=passage.ref,
            title=citation.citation,
            text=passage.text,
            score=score,
            url=citation.url,
            citations=[citation],
        )

    def _citation(self, doc_id: str, passage_id: str) -> Citation:
        document = self.documents[doc_id]
        passage = document.passage(passage_id)
        if passage is None:  # load_faq has checked every citation
            raise KeyError(f"{doc_id}#{passage_id}")
        return Citation(
            doc_id=doc_id,
            doc_title=document.meta.title,
            passage_id=passage_id,
            section=passage.section,
            citation=document.citation(passage),
            url=passage_url(doc_id, passage_id),
        )


def _key(candidate: _Candidate) -> tuple[float, float, float]:
    # Near-ties (within a few hundredths) go to the candidate that is more about the question: a table row
    # that names the licence beats a long paragraph that mentions the same words.
    return candidate.score + TIE_BREAK * candidate.precision, candidate.precision, candidate.raw
