"""Policy search: curated FAQ answers and document passages, ranked by BM25, cut off by a calibrated score.

Why BM25 from rank-bm25 and not the database's full-text search: the corpus is small (135 passages and
35 FAQ entries with about 530 phrasings), static and shipped with the code, so an in-memory index built once
at start-up answers in about a millisecond with no I/O. Neither database helps with Chinese: SQLite
FTS5's tokenisers do not segment it (unicode61 makes a whole run of characters one token, trigram misses
two-character words) and PostgreSQL needs the zhparser extension, so both would need jieba in front of
them anyway and would rank differently from each other. rank-bm25 gives textbook Okapi BM25 over our own
jieba tokens and behaves the same on every deployment.

Before scoring (tokens.py): a mistyped domain word is put right (证照联半 → 证照联办); a question about a
service the documents only name in passing (公积金, 社保, 户籍 …, lexicon.yaml `other_services`), or about
a business's matter they never mention (报税, 商标, 年报 …, `other_matters`), finds nothing unless it also
names the reform.

Scoring. A question is cut into terms (a term may be a group of synonyms, any of which matches). Raw BM25
sums are not comparable across questions, so the score that is reported and thresholded is a *match* in
[0, 1]: the share of the question's information that a candidate covers. Each term weighs its IDF (a word
the index does not know weighs as much as the rarest word it knows, so "个人所得税怎么申报" is not a policy
question — unless a sub-word of it is known, 修理厂 → 修理 → 维修, which earns `PART_CREDIT` per share of
the word it spells), and counts as covered in proportion to its BM25 contribution, up to the contribution
of one occurrence in a document of average length (BM25's tf saturation and length normalisation, read
through the term's IDF). 1.0 means every meaningful word of the question is found.
- FAQ entries: a term is covered when the entry's question or any phrasing has it (no length
  normalisation, b = 0: every phrasing is one short sentence), or, for `ANSWER_CREDIT` of its weight, the
  answer has it (applicants use the answer's plain words as often as the title's). The phrasing whose own
  words the question covers best speaks for the entry: one the question covers only in part loses up to
  `FAQ_PRECISION_SHARE`, so the entry asked about beats one that merely mentions the same word.
- Passages are matched on heading path + text (b = 0.75) and weighted by `PASSAGE_WEIGHT`, so a curated
  answer is preferred to a passage that matches as well. A question's place word (睢县, 临沂 …) counts
  for `PLACE_CREDIT` in the passages of that place's document (documents.yaml `place`) that do not name
  it: a plan seldom repeats where it applies, and without this "睢县那个0.5日办是啥" found only the
  passages that happen to say 睢县 (the notice), not the one about 0.5日办.
- A question word that only the FAQ's phrasings use weighs `PHRASING_WEIGHT` of its IDF. The phrasings are
  our own sentences in applicants' words; among some 560 of them an everyday word (说法, 头回, 晚点) is as
  rare as 一窗受理 is in the documents, and 一窗受理是个啥说法 went to the 一业一证 entry whose phrasing says
  说法. Round 17: all 0.838 / 0.913 / 0.887 → 0.843 / 0.915 / 0.892; the older holdouts together 0.818 /
  0.896 / 0.851 → 0.827 / 0.896 / 0.864; the round's dev batch 0.767 / 0.907 / 0.533 → 0.814 / 0.953 / 0.600
  (0.4 to 0.6 within 0.003 of each other on all; 0.3 and 0.7 lower).
- Candidates are ordered with each word weighing its IDF over everything a question is matched against
  (documents, phrasings and answers as one corpus); the match that is reported and thresholded keeps the
  documents' IDF. Every task of a plan names who leads it, so in the documents 牵头 is almost a stop word
  (IDF 1.0) and 睢县这事谁牵头 went to the notice that names 睢县 most; over everything, 牵头 is what the
  who-leads entry is about. Weighed this way for the threshold too, the older holdouts' top-3 rose by
  0.015 and their rejection fell by 0.04 to 0.07: the documents' IDF is what the threshold is calibrated
  on, so here it only orders. Round 18 (top-1 / top-3; rejection unchanged everywhere): all 0.837 / 0.915
  → 0.841 / 0.920, holdouts 1-15 together 0.827 / 0.896 → 0.829 / 0.904, holdout-16 0.773 / 0.886 →
  0.818 / 0.909, holdout-17 (fresh) 0.755 / 0.906 → 0.736 / 0.906.
- Passages are also matched on the questions they answer, in applicants' words
  (config/policy_passage_questions.yaml, five a passage, written by people who read only the passages):
  document expansion, as doc2query does with generated questions. The documents say 网上缴费, 外商投资企业,
  一窗受理; applicants ask 网上能交钱不, 外资公司, 一个窗口收材料. One of a passage's questions that the
  question matches as a whole speaks for the passage, as an FAQ phrasing does for its entry (losing up to
  `FAQ_PRECISION_SHARE` when the question covers it only in part); a word found only by gathering several
  of its questions counts for `ASKED_TERM_CREDIT`. Round 19 (top-1 / top-3 / rejected): all 0.834 / 0.915
  / 0.884 → 0.870 / 0.935 / 0.883, tuned 0.859 / 0.935 / 0.907 → 0.890 / 0.948 / 0.907, holdouts 1-17
  together 0.823 / 0.905 / 0.871 → 0.860 / 0.925 / 0.867, holdout-18 (fresh, written blind to both)
  0.679 / 0.802 / 0.783 → 0.765 / 0.901 / 0.783. Leaving out the 82 questions of the set that come within
  a bigram Jaccard of 0.5 of a passage question, all is 0.866 / 0.932 / 0.883. Without the precision
  share, top-1 is 0.005 higher and top-3 0.003 lower, but 执照几天能下来 found the pharmacy row (药品经营
  许可证能跟执照一起办下来吗); with full credit for gathered words, 16 more out-of-scope questions were
  answered (开药店得配几个执业药师 → the pharmacy row; all's rejection 0.855).
- A second view by character bigrams (BM25 over the bigrams of every run of text) takes `CHAR_SHARE` of
  the match when the word view could not read all of the question — a character the cut left alone, or
  an unknown word: it still sees 卫生许可证 inside 公共场所卫生许可证, which search-mode jieba does not.
- A question word that neither the index nor the lexicon knows may also be read as its nearest known
  words by word vectors (backend/policies/vectors.py), where that earns more than its known sub-words:
  up to `NEIGHBOURS` of them at cosine ≥ `NEIGHBOUR_MIN`, for `neighbour_credit(similarity)` of its
  weight (面馆 → 小吃店/饭馆 …; 护照 → 证件 earns a quarter). The credit is small on purpose: a
  neighbour is a related word, not the same one, and out-of-scope questions have neighbours too. Tuned
  on the tuned part with its round-4 dev batch (0.5 / 0.6: the dev batch gains 0.033 top-1 and top-3;
  0.8 credit starts answering out-of-scope questions).
- FAQ entries are ranked by their match weighed by an FAQ classifier (classifier.py: logistic regression
  learnt from the phrasings): an entry keeps 1 - `CLASSIFIER_SHARE` of its match and earns the rest in
  proportion to its likelihood relative to the classifier's favourite. BM25 leaves near-ties between
  entries that share the question's words (许可证有变动 二维码要重新换吗: change-and-cancel or qr-code?);
  the classifier has learnt which words tell them apart. It only orders: whether a candidate passes the
  threshold, and the score reported, are its match, so what is found and what is turned away do not
  change. Round 12 (tests/backend/policy_eval.yaml): top-1 +0.011 on the tuned part, +0.021 over the
  older holdouts, holdout-11 (fresh) 0.789 → 0.816; top-3 +0.008 / +0.004 / unchanged. Passages are
  ranked the same way among themselves, each a class learnt from its questions. Round 20: all 0.863 /
  0.933 / 0.914 → 0.876 / 0.946 / 0.914, holdout-19 (fresh) 0.742 / 0.883 / 0.853 → 0.767 / 0.942 / 0.853
  (0.2 and 0.4 of share within 0.002 of 0.3 on all; 0.7 lower).
- Near-ties (common: short questions saturate) go to the candidate whose own words the question covers
  most (`TIE_BREAK`), then to raw BM25.

Threshold. Below `DEFAULT_THRESHOLD` the search answers "found nothing" rather than the least bad passage.
scripts/policy_eval.py --sweep prints top-1/top-3 accuracy and out-of-scope rejection over thresholds for
each part of tests/backend/policy_eval.yaml. On the part it was tuned on, 0.40 keeps out-of-scope
rejection at 0.98 (0.35 lets tax and rental questions through: 0.93) while lower thresholds gain almost
no correct answers. The held-out parts show the limit of a lexical match: a phone-style question with an
everyday word neither the documents, the FAQ nor the lexicon know (面馆, 刁难, 短信) scores under the
threshold — each new batch of such questions needs its synonyms. Figures: tests/backend/policy_eval.yaml.
- A long question is held to less (`question_threshold`): its situation and filler words (我把材料往一个
  柜台一交，剩下的是不是…) dilute the share its answer covers, though what the answer covers is plenty of
  evidence in itself. Covering `EVIDENCE_MIN` of IDF (more than the rarest known word) is enough, down to
  `LONG_THRESHOLD`. Tuned on round 5's dev batch (0.650 → 0.767 top-1 with the out-of-scope questions
  all still rejected); on the fresh holdout-4, +0.033 top-1 and +0.050 top-3, one more out-of-scope
  question answered (holdout-3: +0.033 / +0.067, none).
- The FAQ classifier (classifier.py) also learns out-of-scope examples (NLU's, and the search's own in
  config/policy_out_of_scope.yaml), and the threshold moves
  with its reading: by `OUT_OF_SCOPE_SHIFT` × (its out-of-scope probability − 0.5), so up to 0.15 higher
  for a question like 经营范围该怎么写 (a business's matter the documents do not answer, though
  change-and-cancel shares its words) and down to `LONG_THRESHOLD` for one like the FAQ's phrasings.
  What covers a question is still the match; the classifier only says how much cover is enough. Round 12,
  threshold 0.40 (top-1 / top-3 / rejected): tuned 0.848 / 0.918 / 0.913 → 0.849 / 0.926 / 0.918, the
  older holdouts together 0.795 / 0.865 / 0.820 → 0.816 / 0.895 / 0.856, holdout-11 (fresh) 0.816 /
  0.842 / 0.692 → 0.816 / 0.842 / 0.769. 26 of the 223 NLU examples come within a bigram Jaccard of 0.5
  of an evaluation question (讲个笑话, 明天会下雨吗 …); trained without them the figures move by at most
  0.006.
- A message of `STORY_LENGTH` characters or more that finds nothing as a whole is read clause by clause
  (split at punctuation and spaces), each clause held to its own threshold; the clause whose first three
  results clear it by the widest margin answers. Applicants often tell their story first (两口子在睢县摆
  早餐摊好几年了，想盘个门面…，饭店是不是在试点里): the story's words, which the documents do not know,
  dilute the question's match below any threshold. Round 14, threshold 0.40 (top-1 / top-3 / rejected):
  tuned 0.829 / 0.906 / 0.905 → 0.836 / 0.912 / 0.905, all 0.819 / 0.896 / 0.874 → 0.824 / 0.903 /
  0.874; no out-of-scope question of any part is answered that was not before. 20 characters answered
  one more out-of-scope question of holdout-12; the last clause alone gained less. The whole message
  still breaks the answering clause's near-ties (`STORY_CONTEXT`): 在临沂需要办卫生许可证吗 fits five table
  rows equally, and the story before it names the 图书馆. Round 16: holdout-15 (fresh) 0.729 / 0.812 →
  0.771 / 0.854, dev batch +0.021 top-1, tuned unchanged. Since the passages are the classifier's classes
  (round 20), its reading of the clause orders them more than that tie-break can, so it reads the whole
  message instead (its out-of-scope reading stays the clause's): all +0.001 top-1, +0.002 top-3.
- When nothing is found, FAQ entries that still match `SUGGEST_THRESHOLD` are offered by their questions
  (`suggestions`) for the applicant to pick from: the search does not claim they answer the question, and
  tapping one asks the entry's own question, which finds it. On holdout-3 and -4, the right entry is
  among them for 4 of the 12 FAQ-answerable questions turned away; 6 of their 39 out-of-scope questions
  get suggestions too (疫苗在哪打 → the window's hours), which is why the bar is not lower. The bar rises
  with the classifier's out-of-scope reading as the threshold does (never falls): with the moving
  threshold most questions that would have been suggested are answered, and over the older parts 15
  out-of-scope questions get suggestions instead of 34 without the rising bar.
- The answers after the first (`_answers`). The threshold decides whether the documents answer the
  question at all; once the first answer has passed it, the ones after it (the chat's related-question
  buttons, the API's list) need only half the first's match (`RELATED_RATIO`, at least
  `RELATED_THRESHOLD`), and are ordered with the classifier's own probability for each added to their
  order (`RELATED_SHARE`): where the words leave several candidates close, what the classifier is sure
  of is likelier the second thing meant (开网吧的 不想去大厅排队 网上能全程办吗: the window first, then
  applying online). Round 21, chosen on the tuned part (top-1 / top-3 / rejected; only top-3 can move): tuned
  0.904 / 0.957 / 0.934 → 0.904 / 0.967 / 0.934, the ordering alone 0.961, the lower bar alone 0.960;
  holdouts 1-19 together 0.854 / 0.938 → 0.854 / 0.951; all 0.876 / 0.946 → 0.876 / 0.958. The product
  behind NLU: top-3 0.901 → 0.912.
"""

import functools
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from rank_bm25 import BM25Okapi

from backend.policies.classifier import (
    UNDECIDED,
    FaqClassifier,
    Reading,
    features,
    load_out_of_scope,
    load_scope_examples,
    read_features,
    relative,
)
from backend.policies.faq import FaqEntry, load_faq
from backend.policies.passages import NOTICE, Document, load_documents, load_passage_questions
from backend.policies.tokens import Lexicon, PolicyTokenizer, Term
from backend.policies.vectors import WordVectors, default_vectors
from backend.settings import PROJECT_ROOT

DEFAULT_THRESHOLD = 0.40
# A long question also passes with a lower match when what it covers is plenty of evidence in itself:
# at least EVIDENCE_MIN of IDF (more than the rarest word the index knows), down to LONG_THRESHOLD.
EVIDENCE_MIN = 5.0
LONG_THRESHOLD = 0.25
SUGGEST_THRESHOLD = 0.25
# A message at least this long that finds nothing as a whole is tried clause by clause (`_read`).
STORY_LENGTH = 25
CLAUSE_MIN = 4
# How much the whole message's match for a clause's answer adds to its rank (a tie-break: `_read`).
STORY_CONTEXT = 0.05
# A question the caller doubts (a margin asked for) must name this many things the index knows, unless
# it names one in the documents' own words (`names_enough`).
DOUBTED_NAMES = 2
# The results that count as the answer (the first three, as the evaluation counts them).
FIRST = 3
_CLAUSE_BREAK = re.compile(r"[\s，,。．.！!？?；;：:、~～…]+")
MAX_SUGGESTIONS = 3
# Once the first answer has passed the question's threshold, the question is one the documents answer:
# the answers after it need only half the first's match (RELATED_RATIO), not less than RELATED_THRESHOLD
# and not more than the threshold, and are ordered with the classifier's own probability for each
# (`_related_key`, weighed RELATED_SHARE). Chosen on the tuned part of the evaluation set: top-3 0.957 →
# 0.967 there (the ordering alone 0.961, the lower bar alone 0.960); top-1 and rejection cannot move. Half
# the first's match keeps a confident answer's list clean (运管所批什么许可: its three rows at 0.9, not FAQ
# entries at 0.23 after them) and costs no tuned question (a ratio of 0.6 costs two).
RELATED_THRESHOLD = 0.2
RELATED_RATIO = 0.5
RELATED_SHARE = 1.0
MAX_RESULTS = 10
PASSAGE_WEIGHT = 0.9
PASSAGE_B = 0.75
FAQ_PRECISION_SHARE = 0.2
TIE_BREAK = 0.05
# The character-bigram view's share of a candidate's match, when the word view could not read all of
# the question (the rest is the word view).
CHAR_SHARE = 0.2
# Credit for an unknown word matched only through one of its sub-words, per share of the word it spells.
PART_CREDIT = 0.8
# A word found only in an FAQ entry's answer (not in its question or phrasings) counts for this share.
ANSWER_CREDIT = 0.5
# A question's place word (睢县, 临沂) counts for this share in a passage of that place's document that does
# not name it: the passage is about the place, but one that names it is more so.
PLACE_CREDIT = 0.5
# A question's place word weighs this share of its IDF: it says where the question applies, seldom what it
# asks (睢县证照联办谁牵头 is about who leads, not about a document that names 睢县).
PLACE_WEIGHT = 0.5
# A question word that only the FAQ's phrasings use (not the documents, not the answers) weighs this share
# of its IDF: an applicant's word we wrote into a phrasing, whose rarity among short sentences says less
# than a document word's (说法 in 一张证管一个行业是啥说法 is as rare there as 一窗受理).
PHRASING_WEIGHT = 0.5
ANSWER_B = 0.75
# A term that only the questions a passage answers have (config/policy_passage_questions.yaml), not its
# text, counts for this share, unless one question of the passage's matches the whole question (then that
# question's match counts in full): words gathered from several of its questions are weaker evidence.
ASKED_TERM_CREDIT = 0.5
# A question word the index does not know is read as its nearest known words by word vectors: those at
# least NEIGHBOUR_MIN similar (cosine), up to NEIGHBOURS of them; see `neighbour_credit`.
NEIGHBOUR_MIN = 0.5
NEIGHBOURS = 3
NEIGHBOUR_CREDIT = 0.6
# An FAQ candidate keeps 1 - CLASSIFIER_SHARE of its match and earns the rest in proportion to the FAQ
# classifier's likelihood for it (classifier.py): the classifier's favourite keeps all of it.
CLASSIFIER_SHARE = 0.3
# The threshold a question is held to moves by this much per unit of the classifier's out-of-scope
# probability away from undecided (0.5): up to 0.15 higher for a question like the ones the documents do
# not answer, up to 0.15 lower (not below LONG_THRESHOLD) for one like the FAQ's phrasings.
OUT_OF_SCOPE_SHIFT = 0.3
# Where the out-of-scope examples the classifier learns from are: NLU's training data.
DEFAULT_NLU_DIR = PROJECT_ROOT / "nlu_data" / "nlu"

Vector = npt.NDArray[np.float64]
Matrix = npt.NDArray[np.float64]


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


class Suggestion(BaseModel):
    """An FAQ entry that may be what the applicant meant; its `title` is its question."""

    id: str
    title: str
    score: float


class SearchResult(BaseModel):
    query: str
    found: bool
    results: list[Hit]
    suggestions: list[Suggestion] = Field(
        default_factory=list,
        description="found=false 时可能相关的常见问题（申请人点选后以其问题重新提问）",
    )


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
    # What it is ranked by: its match with the words weighed for ordering (`_QueryTerm.rank_weight`), for
    # an FAQ entry also weighed by the classifier's likelihood.
    order: float
    # The classifier's own probability for it (0 for a passage it has not learnt): `_related_key`.
    probability: float = 0.0


@dataclass(frozen=True, slots=True)
class _QueryTerm:
    words: Term
    weight: float
    # Share of the term's weight that a match earns (below 1 when only a sub-word of it is known).
    credit: float = 1.0
    # What it weighs when candidates are ordered (`PolicyIndex._rank_weight`); None: its weight.
    rank_weight: float | None = None

    @property
    def ordering(self) -> float:
        return self.weight if self.rank_weight is None else self.rank_weight


@dataclass(frozen=True, slots=True)
class _Question:
    terms: list[_QueryTerm]
    grams: list[_QueryTerm]
    # The bigram view's share of the match (0 when the word view read the whole question).
    char_share: float
    words: set[str]
    # What the FAQ classifier reads: the question's words, bigrams and question words (classifier.features).
    features: list[str]

    def blend(self, words: Vector, chars: Vector) -> Vector:
        return (1 - self.char_share) * words + self.char_share * chars


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
        return cls(bm25, len(corpus), weighted, [math.fsum(doc.values()) for doc in weighted])

    @functools.cached_property
    def max_idf(self) -> float:
        return max(float(v) for v in self.bm25.idf.values())

    def idf(self, word: str) -> float | None:
        value = self.bm25.idf.get(word)
        return None if value is None else float(value)

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - a few fields per index, one index per process
    def scores(self, word: str) -> Vector:
        """BM25 of one word for every document; the corpus never changes, so it is computed once."""
        scores = np.asarray(self.bm25.get_scores([word]), dtype=np.float64)
        scores.flags.writeable = False
        return scores

    def coverage(self, terms: Sequence[_QueryTerm]) -> tuple[Matrix, Vector]:
        """How far each term is covered in each document (terms × documents, in [0, 1], credit applied),
        and the raw BM25 sum per document."""
        covered = np.zeros((len(terms), self.size))
        raw = np.zeros(self.size)
        for row, term in enumerate(terms):
            best_raw = np.zeros(self.size)
            for word in term.words:
                idf = self.idf(word)
                if not idf or idf <= 0:
                    continue
                scores = self.scores(word)
                np.maximum(best_raw, scores, out=best_raw)
                np.maximum(covered[row], np.minimum(1.0, scores / idf), out=covered[row])
            covered[row] *= term.credit
            raw += best_raw
        return covered, raw

    def precision(self, doc: int, words: set[str]) -> float:
        """The share of the document's own information that the question's words cover."""
        own, mass = self.words[doc], self.mass[doc]
        # fsum: the words come from a set, whose order changes with each process's hash seed; a plain sum
        # would then differ in the last bit and reorder exact ties from one run to the next.
        return math.fsum(idf for w, idf in own.items() if w in words) / mass if mass > 0 else 0.0


def _match(covered: Matrix, terms: Sequence[_QueryTerm]) -> Vector:
    """The weighted share of the question that each document covers."""
    return _share(covered, np.array([term.weight for term in terms]))


def _matches(covered: Matrix, terms: Sequence[_QueryTerm]) -> tuple[Vector, Vector]:
    """The match (`_match`), and the same share with the terms weighed as for ordering."""
    return _match(covered, terms), _share(covered, np.array([term.ordering for term in terms]))


def _own_share(precision: float) -> float:
    """What a phrasing (or a passage's question) keeps of its match when the question covers only
    `precision` of its own words (`FAQ_PRECISION_SHARE`)."""
    return 1 - FAQ_PRECISION_SHARE * (1 - precision)


def _share(covered: Matrix, weights: Vector) -> Vector:
    total = weights.sum()
    return weights @ covered / total if total > 0 else np.zeros(covered.shape[1])


class _Matched(NamedTuple):
    """Candidates' matches (`_match`), the same weighed for ordering, and raw BM25."""

    match: Vector
    ordering: Vector
    raw: Vector


@dataclass(frozen=True, eq=False)
class _Asked:
    """The questions the passages answer, in applicants' words (config/policy_passage_questions.yaml),
    each one short sentence (b = 0), stored passage by passage."""

    words: _Field
    chars: _Field
    # The passages that have questions, and where each one's run of questions starts.
    passages: npt.NDArray[np.int_]
    starts: npt.NDArray[np.int_]
    size: int
    # Each of those passages' questions, in the same order.
    examples: tuple[tuple[str, ...], ...]

    @classmethod
    def build(cls, index: "PolicyIndex", asked: list[tuple[int, str]], size: int) -> "_Asked":
        owner = np.array([i for i, _ in asked])
        starts = np.flatnonzero(np.diff(owner, prepend=-1))
        texts = [t for _, t in asked]
        examples = tuple(tuple(texts[a:b]) for a, b in zip(starts, [*starts[1:], len(texts)], strict=True))
        return cls(
            index._word_field(texts, b=0.0),
            index._char_field(texts, b=0.0),
            owner[starts],
            starts,
            size,
            examples,
        )

    def _best(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per passage (last axis), the best of its questions' values; 0 for a passage with none."""
        out = np.zeros((*values.shape[:-1], self.size))
        out[..., self.passages] = np.maximum.reduceat(values, self.starts, axis=-1)
        return out

    def coverage(self, terms: Sequence[_QueryTerm]) -> Matrix:
        """How far any of a passage's questions covers each term (terms × passages)."""
        return self._best(self.words.coverage(terms)[0])

    def matches(self, terms: Sequence[_QueryTerm], words: set[str]) -> tuple[Vector, Vector]:
        """Per passage, the match of the one question of it that the question matches best, and its
        match weighed for ordering (`_matches`). As an FAQ phrasing does, a passage question that the
        question covers only in part loses up to `FAQ_PRECISION_SHARE` (执照几天能下来 is not
        药品经营许可证能跟执照一起办下来吗)."""
        match, ordering = _matches(self.words.coverage(terms)[0], terms)
        for i in np.flatnonzero(match):
            own_share = _own_share(self.words.precision(int(i), words))
            match[i] *= own_share
            ordering[i] *= own_share
        return self._best(match), self._best(ordering)

    def char_coverage(self, grams: Sequence[_QueryTerm]) -> Matrix:
        return self._best(self.chars.coverage(grams)[0])


@dataclass(frozen=True, slots=True)
class _Neighbours:
    """What an unknown question word may be read as: the vectors, and the known terms with theirs."""

    vectors: WordVectors
    terms: list[Term]
    matrix: Matrix


class PolicyIndex:
    """Built once at start-up (PolicyIndex.load); searching is read-only and safe to share."""

    def __init__(
        self,
        documents: list[Document],
        faq: list[FaqEntry],
        tokenizer: PolicyTokenizer,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        vectors: WordVectors | None = None,
        out_of_scope: Sequence[str] = (),
        passage_questions: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`passage_questions`: by passage ref, questions in applicants' words that the passage answers
        (config/policy_passage_questions.yaml)."""
        self.documents = {d.id: d for d in documents}
        self.faq = faq
        self.threshold = threshold
        self.loaded_in = 0.0
        self._tokenizer = tokenizer
        self._passages = [p for d in documents for p in d.passages]
        texts = [" ".join((*p.section_path, p.text)) for p in self._passages]  # headings say what it is about
        # Each document with a place: its id, the place as words (临沂市 → 临沂, 临沂市), and which passages
        # are that document's.
        self._places = [
            (
                d.id,
                frozenset(tokenizer.passage_tokens(d.meta.place)),
                np.array([p.doc_id == d.id for p in self._passages]),
            )
            for d in documents
            if d.meta.place
        ]
        self._place_words = frozenset(w for _, words, _ in self._places for w in words)
        self._passage_words = self._word_field(texts, b=PASSAGE_B)
        self._passage_chars = self._char_field(texts, b=PASSAGE_B)
        phrasings = [(i, text) for i, entry in enumerate(faq) for text in (entry.question, *entry.phrasings)]
        self._faq_owner = np.array([i for i, _ in phrasings])
        # Phrasings are stored entry by entry: where each entry's run of phrasings starts.
        self._faq_starts = np.flatnonzero(np.diff(self._faq_owner, prepend=-1))
        self._faq_words = self._word_field([t for _, t in phrasings], b=0.0)
        self._faq_chars = self._char_field([t for _, t in phrasings], b=0.0)
        self._answer_words = self._word_field([entry.answer for entry in faq], b=ANSWER_B)
        position = {p.ref: i for i, p in enumerate(self._passages)}
        asked = [
            (position[ref], text)
            for ref, texts in (passage_questions or {}).items()
            if ref in position
            for text in texts
        ]
        asked.sort(key=lambda item: item[0])
        self._asked = _Asked.build(self, asked, len(self._passages)) if asked else None
        # Where a question word is known (`_idf`), in this order.
        self._known_fields = (
            self._passage_words,
            self._faq_words,
            *((self._asked.words,) if self._asked else ()),
        )
        # Only its IDF is read (`_rank_weight`): everything a question is matched against, as one corpus.
        self._all_words = self._word_field(
            [*texts, *(t for _, t in phrasings), *(entry.answer for entry in faq), *(t for _, t in asked)],
            b=PASSAGE_B,
        )
        rows = [" ".join((p.section_path[-1], p.text)) for p in self._passages if p.kind == "table_row"]
        # Each passage with questions is a class of its own; the tables' rows are in scope and no one's.
        self._classifier = FaqClassifier(
            faq,
            tokenizer,
            out_of_scope,
            in_scope=rows,
            passages=self._asked.examples if self._asked else (),
        )
        self._unknown_weight = self._passage_words.max_idf
        self._neighbours = _Neighbours(vectors, *self._neighbour_vocabulary(vectors)) if vectors else None

    @property
    def tokenizer(self) -> PolicyTokenizer:
        return self._tokenizer

    def _neighbour_vocabulary(self, vectors: WordVectors) -> tuple[list[Term], Matrix]:
        """The words an unknown question word may be read as — every word the index knows and every
        applicant word the lexicon maps (read as the documents' words it maps to) — with their vectors."""
        terms: dict[str, Term] = {}
        asked = [*self._asked.words.bm25.idf] if self._asked else []
        for word in [*self._passage_words.bm25.idf, *self._faq_words.bm25.idf, *asked]:
            if len(word) > 1 and self._idf(word):
                terms.setdefault(word, (word,))
        for word in self._tokenizer.lexicon.synonyms:
            mapped = tuple(w for t in self._tokenizer.query_terms(word) for w in t if self._idf(w))
            if len(word) > 1 and mapped:
                terms[word] = mapped
        found = [
            (term, vector) for word, term in terms.items() if (vector := vectors.vector(word)) is not None
        ]
        return [term for term, _ in found], np.array([vector for _, vector in found], dtype=np.float64)

    def _word_field(self, texts: list[str], *, b: float) -> _Field:
        tokens = [self._tokenizer.passage_tokens(t) for t in texts]
        return _Field.build(tokens, [self._words(t) for t in texts], b=b)

    def _char_field(self, texts: list[str], *, b: float) -> _Field:
        grams = [self._tokenizer.passage_bigrams(t) for t in texts]
        return _Field.build(grams, [frozenset(g) for g in grams], b=b)

    @classmethod
    def load(
        cls,
        policies_dir: Path,
        faq_file: Path | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        values: Mapping[str, str] | None = None,
        nlu_dir: Path = DEFAULT_NLU_DIR,
        questions_file: Path | None = None,
        out_of_scope_file: Path | None = None,
    ) -> "PolicyIndex":
        """Documents, lexicon and dictionary from `policies_dir` (config/policies), FAQ from `faq_file`
        (default: config/policy_faq.yaml next to it), its answers filled with the deployment's `values`
        (default: the built-in settings'), out-of-scope examples from NLU's data in `nlu_dir` and from
        `out_of_scope_file` (default: config/policy_out_of_scope.yaml), the questions passages answer from
        `questions_file` (default: config/policy_passage_questions.yaml)."""
        started = time.perf_counter()
        documents = load_documents(policies_dir)
        faq = load_faq(
            faq_file or policies_dir.parent / "policy_faq.yaml",
            {d.id: d for d in documents},
            values,
        )
        tokenizer = PolicyTokenizer(
            policies_dir / "jieba_userdict.txt", Lexicon.load(policies_dir / "lexicon.yaml")
        )
        index = cls(
            documents,
            faq,
            tokenizer,
            threshold=threshold,
            vectors=default_vectors(),
            out_of_scope=[
                *load_out_of_scope(nlu_dir),
                *load_scope_examples(out_of_scope_file or policies_dir.parent / "policy_out_of_scope.yaml"),
            ],
            passage_questions=load_passage_questions(
                questions_file or policies_dir.parent / "policy_passage_questions.yaml", documents
            ),
        )
        index.loaded_in = time.perf_counter() - started
        return index

    def search(self, query: str, limit: int = 5, margin: float = 0.0) -> SearchResult:
        """The answer and the related answers after it (`_answers`); none unless the first clears the
        threshold the question is held to by `margin`, asked for by a caller that has reason to doubt the
        question is about the documents (the chat, when NLU is sure it is out of scope), and then only for
        a question that names enough of what the documents know (`names_enough`)."""
        limit = max(1, min(limit, MAX_RESULTS))
        ranked, threshold, out_of_scope = self._read(query)
        answers = self._answers(query, ranked, threshold, margin)[:limit]
        hits: list[Hit] = []
        if answers:
            named = self._named_documents(query)
            hits = [self._hit(c, named) for c in answers]
        # Suggestions need more of a question the classifier reads as out of scope, as answers do, and of
        # a doubted one as much naming as an answer would (周末带娃去哪玩好 suggests no office hours).
        bar = SUGGEST_THRESHOLD + max(0.0, _scope_shift(out_of_scope))
        suggestions = (
            []
            if hits or not self.names_enough(query, margin)
            else [self._suggestion(c) for c in ranked if c.kind == "faq" and c.score >= bar][:MAX_SUGGESTIONS]
        )
        return SearchResult(query=query, found=bool(hits), results=hits, suggestions=suggestions)

    def answer_refs(
        self, query: str, threshold: float | None = None, margin: float = 0.0
    ) -> list[tuple[str, float]]:
        """What `search` answers, as (ref, score) pairs, held to `threshold` instead of the calibrated one
        when given (for calibration)."""
        ranked, held_to, _ = self._read(query, threshold)
        return [(self._ref(c), c.score) for c in self._answers(query, ranked, held_to, margin)]

    def _answers(
        self, query: str, ranked: list[_Candidate], threshold: float, margin: float
    ) -> list[_Candidate]:
        """The first of the first three candidates that passes `threshold` answers, if it clears it by
        `margin` (`clears`); then the other candidates that pass a lower bar (`RELATED_RATIO`), ordered with
        the classifier's own probability for each (`_related_key`), those tied with the first ahead of the
        rest after the first three. None when nothing answers."""
        first = next((c for c in ranked[:FIRST] if c.score >= threshold), None)
        if first is None or not self.clears(query, first.score, threshold, margin):
            return []
        bar = min(threshold, max(RELATED_THRESHOLD, RELATED_RATIO * first.score))
        related = sorted(
            (c for c in ranked if c is not first and c.score >= bar), key=_related_key, reverse=True
        )
        # Past the first three, what scores as the first does (as reported) comes first: such ties are as
        # much the answer (the nine rows that need a 公共场所卫生许可证, which the chat lists together), and
        # surer FAQ entries that match less must not push them out of a short list.
        tied = _floor(first.score)
        rest = sorted(related[FIRST - 1 :], key=lambda c: _floor(c.score) != tied)
        return [first, *related[: FIRST - 1], *rest]

    def clears(self, query: str, score: float, threshold: float, margin: float) -> bool:
        """Whether a first answer scoring `score` answers `query` held to `threshold`: by `margin` above it,
        and, when a margin is asked for, for a question that names enough (`names_enough`)."""
        return score >= threshold + margin and self.names_enough(query, margin)

    def names_enough(self, query: str, margin: float) -> bool:
        """Whether a question the caller doubts (`margin` > 0) names something the documents know in their
        own words (容缺受理是啥), or `DOUBTED_NAMES` things they know at all. One everyday word that the
        lexicon reads as a policy word is no evidence that a chat message is about the documents:
        周末带娃去哪玩好 (周末 → 节假日: the window's hours)."""
        if margin <= 0:
            return True
        query = self._tokenizer.correct(query)
        known = [term for term in self._tokenizer.query_terms(query) if self._known(term)]
        return len(known) >= DOUBTED_NAMES or any(word in query for term in known for word in term)

    def ranked_refs(
        self, query: str, threshold: float | None = None
    ) -> tuple[list[tuple[str, float]], float]:
        """Every candidate with a non-zero match, best first, and the threshold this question is held to
        (`question_threshold`), not applied (for calibration)."""
        ranked, held_to, _ = self._read(query, threshold)
        return [(self._ref(c), c.score) for c in ranked], held_to

    def _read(self, query: str, threshold: float | None = None) -> tuple[list[_Candidate], float, float]:
        """The candidates, best first, the threshold the question is held to and the classifier's
        out-of-scope reading. A long message that finds nothing as a whole — a story first, then the
        question (我跟对象在罗庄开了个小饭店 … 现在是不是能一个窗口全弄完) — is read clause by clause instead,
        each held to its own threshold: the clause that passes by the widest margin speaks for it."""
        ranked, weight, out_of_scope = self._rank(query)
        held_to = self.question_threshold(weight, threshold, out_of_scope)
        if len(query) < STORY_LENGTH or _margin(ranked, held_to) >= 0:
            return ranked, held_to, out_of_scope
        best: tuple[float, list[_Candidate], float, float] | None = None
        story = self._classifier.read(read_features(self._tokenizer, self._tokenizer.correct(query)))
        for clause in _CLAUSE_BREAK.split(query):
            if len(clause) < CLAUSE_MIN or clause == query:
                continue
            found, weight, scope = self._rank(clause, story=story)
            bar = self.question_threshold(weight, threshold, scope)
            margin = _margin(found, bar)
            if margin >= 0 and (best is None or margin > best[0]):
                best = (margin, found, bar, scope)
        if best is None:
            return ranked, held_to, out_of_scope
        _, found, bar, scope = best
        # The clause answers; the story around it breaks its near-ties (a public library is one of the
        # five places that need a 公共场所卫生许可证, which the clause alone cannot tell apart).
        whole = {(c.kind, c.index): c.score for c in ranked}
        found = [replace(c, order=c.order + STORY_CONTEXT * whole.get((c.kind, c.index), 0.0)) for c in found]
        found.sort(key=_key, reverse=True)
        return found, bar, scope

    def question_threshold(
        self, weight: float, threshold: float | None = None, out_of_scope: float = UNDECIDED
    ) -> float:
        """The threshold, or lower for a question carrying `weight` of IDF, so that covering
        `EVIDENCE_MIN` of it is enough; then moved by the classifier's `out_of_scope` probability
        (`OUT_OF_SCOPE_SHIFT`). Never below `LONG_THRESHOLD`."""
        threshold = self.threshold if threshold is None else threshold
        if weight > 0:
            threshold = min(threshold, max(LONG_THRESHOLD, EVIDENCE_MIN / weight))
        return max(LONG_THRESHOLD, threshold + _scope_shift(out_of_scope))

    def _rank(self, query: str, story: Reading | None = None) -> tuple[list[_Candidate], float, float]:
        """The candidates, best first, the question's weight (the sum of its terms' weights) and the
        classifier's probability that it is out of scope. A clause read apart from its message is ordered
        by the classifier's reading of the whole message (`story`, read once for all its clauses): the
        story around it says which of its candidates it is about (在临沂需要办卫生许可证吗 after a story of a
        small library)."""
        query = self._tokenizer.correct(query)
        word_terms = self._tokenizer.query_terms(query)
        if not word_terms or self._tokenizer.is_other_service(word_terms, query):
            return [], 0.0, UNDECIDED
        terms = [self._query_term(term) for term in word_terms]
        # The bigram view stands in where the word view met something it could not read: a character
        # left alone by the cut or a word the index does not know.
        unread = self._tokenizer.has_loose_characters(query) or any(
            term.credit < 1 or not self._known(term.words) for term in terms
        )
        bigrams = self._tokenizer.query_bigrams(query)
        grams = [_QueryTerm((g,), self._gram_weight(g)) for g in bigrams]
        question = _Question(
            terms,
            grams,
            CHAR_SHARE if unread and grams else 0.0,
            # Its words including search-mode sub-words: 行业综合许可证 also covers 综合许可证.
            {w for term in terms for w in term.words} | set(self._tokenizer.passage_tokens(query)),
            features(word_terms, bigrams, self._tokenizer.question_words(query)),
        )
        faq, passages = self._faq_match(question), self._passage_match(question)
        reading = self._classifier.read(question.features)
        if story is not None:
            reading = replace(story, out_of_scope=reading.out_of_scope)
        ranked = [
            *self._faq_candidates(question, faq, reading),
            *self._passage_candidates(question, passages, reading),
        ]
        ranked.sort(key=_key, reverse=True)
        return ranked, sum(term.weight for term in terms), reading.out_of_scope

    def _faq_match(self, question: _Question) -> _Matched:
        """An entry covers a term when its question or any phrasing has it, or (for part of the term's
        weight) its answer. Raw BM25 per phrasing."""
        covered, raw = self._faq_words.coverage(question.terms)
        phrasings = np.maximum.reduceat(covered, self._faq_starts, axis=1)
        answers, _ = self._answer_words.coverage(question.terms)
        match, ordering = _matches(np.maximum(phrasings, ANSWER_CREDIT * answers), question.terms)
        if question.char_share:
            chars = _match(self._faq_chars.coverage(question.grams)[0], question.grams)
            chars = np.maximum.reduceat(chars, self._faq_starts)
            match, ordering = question.blend(match, chars), question.blend(ordering, chars)
        return _Matched(match, ordering, raw)

    def _faq_candidates(self, question: _Question, matched: _Matched, reading: Reading) -> list[_Candidate]:
        """Of an entry's phrasings, the one whose own words the question covers best speaks for it; the
        classifier's likelihood orders the entries (`CLASSIFIER_SHARE`)."""
        match, ordering, raw = matched
        likelihood = relative(reading.entries, match > 0)
        candidates = []
        for entry in np.flatnonzero(match):
            own = np.flatnonzero(self._faq_owner == entry)
            precision = max(self._faq_words.precision(int(doc), question.words) for doc in own)
            own_share = _own_share(precision)
            score = float(match[entry]) * own_share
            share = 1 - CLASSIFIER_SHARE + CLASSIFIER_SHARE * float(likelihood[entry])
            order = float(ordering[entry]) * own_share * share
            probability = float(reading.entries[entry])
            candidates.append(
                _Candidate("faq", int(entry), score, precision, float(raw[own].max()), order, probability)
            )
        return candidates

    def _passage_match(self, question: _Question) -> _Matched:
        covered, raw = self._passage_words.coverage(question.terms)
        if self._asked:
            np.maximum(covered, ASKED_TERM_CREDIT * self._asked.coverage(question.terms), out=covered)
        for row, term in enumerate(question.terms):
            for _, words, passages in self._places:
                if words.intersection(term.words):
                    covered[row, passages] = np.maximum(covered[row, passages], PLACE_CREDIT * term.credit)
        match, ordering = _matches(covered, question.terms)
        if self._asked:
            # One of its questions that the question matches as a whole speaks for the passage.
            asked, asked_ordering = self._asked.matches(question.terms, question.words)
            match, ordering = np.maximum(match, asked), np.maximum(ordering, asked_ordering)
        if question.char_share:
            chars = _match(self._passage_chars.coverage(question.grams)[0], question.grams)
            if self._asked:
                asked = _match(self._asked.char_coverage(question.grams), question.grams)
                np.maximum(chars, ASKED_TERM_CREDIT * asked, out=chars)
            match, ordering = question.blend(match, chars), question.blend(ordering, chars)
        return _Matched(match, ordering, raw)

    def _passage_candidates(
        self, question: _Question, matched: _Matched, reading: Reading
    ) -> list[_Candidate]:
        """Passages weigh `PASSAGE_WEIGHT`; the classifier's likelihood for those learnt from their
        questions orders them as it orders the FAQ's entries."""
        match, ordering, raw = matched
        likelihood, probability = np.ones(len(match)), np.zeros(len(match))
        if self._asked:
            learnt = self._asked.passages
            likelihood[learnt] = relative(reading.passages, match[learnt] > 0)
            probability[learnt] = reading.passages
        scores = match * PASSAGE_WEIGHT
        orders = ordering * PASSAGE_WEIGHT * (1 - CLASSIFIER_SHARE + CLASSIFIER_SHARE * likelihood)
        return [
            _Candidate(
                "passage",
                int(i),
                float(scores[i]),
                self._passage_words.precision(int(i), question.words),
                float(raw[i]),
                float(orders[i]),
                float(probability[i]),
            )
            for i in np.flatnonzero(match)
        ]

    def _query_term(self, term: Term) -> _QueryTerm:
        """A term the index knows weighs its IDF; a word it does not know weighs as much as the rarest
        word it knows, so an unknown subject ("个人所得税") pulls the match down instead of being ignored —
        unless a sub-word of it is known (修理厂 → 修理 → 维修), which earns the share of the word it
        spells, or its nearest known words by word vectors earn part of it (whichever earns more)."""
        known = self._known(term)
        if known:
            weight = max(known, 0.1)
            if self._place_words.intersection(term):
                share = PLACE_WEIGHT
            elif not self._written(term):
                share = PHRASING_WEIGHT
            else:
                share = 1.0
            return _QueryTerm(term, weight * share, rank_weight=self._rank_weight(term) * share)
        known_parts = [
            (len(spelled) / len(word), part)
            for word in term
            for spelled, part in self._tokenizer.parts(word)
            if self._known(part)
        ]
        options: list[_QueryTerm] = []
        if known_parts:
            # Equally long sub-words are alternatives: 汽车站 may be about 汽车 or 车站.
            share = max(share for share, _ in known_parts)
            words = tuple(dict.fromkeys(w for s, part in known_parts if s == share for w in part))
            options.append(_QueryTerm(words, self._unknown_weight, PART_CREDIT * share))
        if neighbours := self._nearest(term):
            options.append(neighbours)
        best = max(options, key=lambda option: option.credit, default=_QueryTerm(term, self._unknown_weight))
        # Unknown, it weighs as much as the rarest word when ordering too.
        return replace(best, rank_weight=self._all_words.max_idf)

    def _nearest(self, term: Term) -> _QueryTerm | None:
        """The known words nearest the unknown word by word vectors, as one term (刁难 → 为难 …)."""
        if self._neighbours is None:
            return None
        found: dict[str, float] = {}
        for word in term:
            vector = self._neighbours.vectors.vector(word)
            if vector is None:
                continue
            similarity = self._neighbours.matrix @ vector.astype(np.float64)
            for row in np.argsort(-similarity)[:NEIGHBOURS]:
                if similarity[row] < NEIGHBOUR_MIN:
                    break
                for known in self._neighbours.terms[row]:
                    found[known] = max(found.get(known, 0.0), float(similarity[row]))
        if not found:
            return None
        return _QueryTerm(tuple(found), self._unknown_weight, neighbour_credit(max(found.values())))

    def _rank_weight(self, words: Term) -> float:
        """What a known term weighs when candidates are ordered: its IDF over the documents, the FAQ's
        phrasings and its answers together, not the documents' first (`_known`)."""
        known = [idf for idf in (self._all_words.idf(w) for w in words) if idf is not None]
        return max(max(known, default=0.0), 0.1)

    def _written(self, words: Term) -> bool:
        """Whether the documents or the FAQ's answers use any of the words (not only its phrasings)."""
        return any(
            self._passage_words.idf(w) is not None or self._answer_words.idf(w) is not None for w in words
        )

    def _known(self, words: Term) -> float:
        """The highest IDF of the words the index knows (0 when it knows none of them)."""
        known = [idf for idf in (self._idf(w) for w in words) if idf is not None]
        return max(known) if known else 0.0

    def _idf(self, word: str) -> float | None:
        return next(
            (idf for idf in (field.idf(word) for field in self._known_fields) if idf is not None), None
        )

    def _gram_weight(self, gram: str) -> float:
        idf = self._passage_chars.idf(gram)
        if idf is None:
            idf = self._faq_chars.idf(gram)
        if idf is None and self._asked:
            idf = self._asked.chars.idf(gram)
        return max(idf, 0.1) if idf is not None else self._passage_chars.max_idf

    def _words(self, text: str) -> frozenset[str]:
        return frozenset(w for term in self._tokenizer.query_terms(text) for w in term)

    def _ref(self, candidate: _Candidate) -> str:
        if candidate.kind == "faq":
            return self.faq[candidate.index].ref
        return self._passages[candidate.index].ref

    def _suggestion(self, candidate: _Candidate) -> Suggestion:
        entry = self.faq[candidate.index]
        return Suggestion(id=entry.ref, title=entry.question, score=_floor(candidate.score))

    def _named_documents(self, query: str) -> frozenset[str]:
        """The documents of the places a question names (睢县 → the 睢县 plan), found in the text as written:
        the places' names are no part of other words, and cutting the question again cost the bench 0.5 ms
        of p95."""
        return frozenset(doc for doc, place, _ in self._places if any(word in query for word in place))

    def _hit(self, candidate: _Candidate, named: frozenset[str]) -> Hit:
        """The candidate as an answer; an FAQ answer cites the documents of the places the question names
        (`named`) first, as the chat shows its first citation: asked 睢县这事谁牵头, the answer that says who
        leads in every place cites the 睢县 plan, not 临沂's."""
        score = _floor(candidate.score)
        if candidate.kind == "faq":
            entry = self.faq[candidate.index]
            citations = list(
                {c.url: c for c in (self._citation(c.doc, c.passage) for c in entry.citations)}.values()
            )
            citations.sort(key=lambda citation: citation.doc_id not in named)
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
        text = passage.text
        if passage.id == NOTICE:  # mostly addressees: say first what the plan is, by whom and when
            text = f"{self.documents[passage.doc_id].meta.issued()}\n{text}"
        return Hit(
            kind="passage",
            id=passage.ref,
            title=citation.citation,
            text=text,
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


def neighbour_credit(similarity: float) -> float:
    """From nothing at NEIGHBOUR_MIN to NEIGHBOUR_CREDIT for the same word: similarity just above the
    minimum is common between words that are merely related (明天 → 节假日)."""
    return NEIGHBOUR_CREDIT * (similarity - NEIGHBOUR_MIN) / (1 - NEIGHBOUR_MIN)


def _scope_shift(out_of_scope: float) -> float:
    """How far the classifier's out-of-scope reading moves a question's bar (negative: lowers it)."""
    return OUT_OF_SCOPE_SHIFT * (out_of_scope - UNDECIDED)


def _margin(ranked: list[_Candidate], bar: float) -> float:
    """How far the best of the first three candidates clears `bar` (negative: none of them does)."""
    return max((c.score for c in ranked[:FIRST]), default=0.0) - bar


def _floor(score: float) -> float:
    # Reported to three places, never rounded up across the threshold.
    return math.floor(score * 1000) / 1000


def _key(candidate: _Candidate) -> tuple[float, float, float]:
    # Ranked by `order` (the classifier's word on FAQ entries). Near-ties (within a few hundredths) go to
    # the candidate that is more about the question: a table row that names the licence beats a long
    # paragraph that mentions the same words.
    return candidate.order + TIE_BREAK * candidate.precision, candidate.precision, candidate.raw


def _related_key(candidate: _Candidate) -> tuple[float, float, float]:
    # The answers after the first are ranked as the first is, plus the classifier's own probability
    # (`RELATED_SHARE`): where the words leave several candidates close, the one the classifier is sure
    # of is more likely the second thing meant.
    order, precision, raw = _key(candidate)
    return order + RELATED_SHARE * candidate.probability, precision, raw
