"""Which FAQ entry a question asks about — or whether it asks about the reform at all — learnt from
examples.

BM25 weighs a word by how rare it is, not by which entry it points to: 谁 and 哪个部门 are common words,
yet they tell who-leads from the entry that merely names the same licence, and 多久 tells processing-time
from the entry on the same step. A multinomial logistic regression learns those weights from the FAQ's
question and phrasings (about 530 sentences, one class per entry) and from questions the documents do not
answer (one more class): NLU's `out_of_scope` examples (nlu_data/nlu/, about 220: taxes, trademarks,
personal papers, chat), the questions that teach NLU to turn a message away. Many of those ask about an
industry's licence the documents do not list (烟草, 网吧, 理发店), so a question about one they do list
(客运站, 旅行社) read as out of scope too; the documents' table rows (Annex 1's licences, Annex 2's tasks)
are a last class, in scope and no FAQ entry's. Round 14: all parts 0.839 / 0.909 / 0.876 → 0.839 / 0.911
/ 0.881 (旅行社业务经营许可证是旅游局发还是市场监管发 now found; 货车的ETC在哪办 now turned away).
Round 19 gave each side more of the questions it was missing: out of scope, 208 more that speak the
documents' words (config/policy_out_of_scope.yaml: 健康证, 消防验收, 经营范围, 中午吃啥好 …), which NLU does
not train on; in scope, the questions the passages answer (config/policy_passage_questions.yaml; one class
then, a class a passage since round 20). All
parts 0.870 / 0.935 / 0.883 → 0.870 / 0.936 / 0.917; holdout-18 (fresh, blind to both) 0.765 / 0.901 /
0.783 → 0.765 / 0.901 / 0.870; the 503 of the set's 545 out-of-scope questions that come within a bigram
Jaccard of 0.5 of no example: 0.918. Either side alone moved the other way (only the out-of-scope
examples: 0.863 / 0.925 / 0.932, in-scope questions turned away; only the passage questions, under an
earlier weighting of them: rejection 0.829).

Each passage is a class too, learnt from the questions it answers (config/policy_passage_questions.yaml),
after the FAQ's entries: a passage's questions tell it from its neighbours as an entry's phrasings do.
Round 20 (top-1 / top-3 / rejected): all 0.863 / 0.933 / 0.914 → 0.876 / 0.946 / 0.914; holdout-19 (fresh)
0.742 / 0.883 / 0.853 → 0.767 / 0.942 / 0.853. It costs training time: about 170 classes instead of 40.

The search (search.py) uses it in three ways, and none can lift a candidate that matches nothing:
- among FAQ candidates, the classifier's favourite keeps its match in the ranking and the others give up
  part of it (`CLASSIFIER_SHARE`), which breaks the ties BM25 leaves between entries that share words;
  so among passage candidates;
- a question the classifier reads as out of scope is held to a higher threshold, one it reads as a policy
  question to a lower one (`OUT_OF_SCOPE_SHIFT`);
- the answers after the first are ordered with its own probability for each (`RELATED_SHARE`), not
  relative to the others asked about: how sure it is counts there.

It reads a question as the search does (tokens.py): the words after the lexicon's mapping and the
character bigrams of the content, so an applicant's word the lexicon knows counts as the documents' word;
and, unlike the search, the stop words a question is asked with (lexicon `question_words`: 谁, 多少,
什么时候), which tell who-leads, fees and processing-time apart where the other words are shared.
scikit-learn gives the model (TF-IDF features, L2-regularised, lbfgs: deterministic); training takes about
five seconds when the index is built (174 classes over 5,300 features; half a second before the passages
were classes), and reading a question about half a millisecond.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from backend.policies.faq import FaqEntry
from backend.policies.nlu_data import intent_examples
from backend.policies.tokens import PolicyTokenizer, Term

log = logging.getLogger(__name__)

# Inverse regularisation strength: a few phrasings per entry need little regularisation (1 to 100 score
# within 0.006 of each other on the tuned part and the older holdouts).
C = 10.0
_GRAM = "#"  # marks a bigram feature apart from a one- or two-character word
_ASKED = "?"  # marks a question word (谁, 多少), which the words of the match leave out
# What the classifier says when it has learnt nothing about out-of-scope questions: no opinion.
UNDECIDED = 0.5


def features(terms: Iterable[Term], bigrams: Iterable[str], asked: Iterable[str] = ()) -> list[str]:
    """A question's features: its (mapped) words, its character bigrams and the question words it is
    asked with."""
    return [w for term in terms for w in term] + [_GRAM + g for g in bigrams] + [_ASKED + w for w in asked]


def read_features(tokenizer: PolicyTokenizer, text: str) -> list[str]:
    """The features of a (corrected) question, as the classifier learns and reads them."""
    terms, bigrams = tokenizer.query_terms(text), tokenizer.query_bigrams(text)
    return features(terms, bigrams, tokenizer.question_words(text))


def load_out_of_scope(nlu_dir: Path) -> list[str]:
    """The text of every `out_of_scope` example in the Rasa NLU files of `nlu_dir`, annotations removed.
    A missing directory gives none (the classifier then has no opinion on scope)."""
    if not nlu_dir.is_dir():
        log.warning("no NLU data in %s: the policy search learns no out-of-scope questions", nlu_dir)
        return []
    texts = (
        text
        for path in sorted(nlu_dir.glob("*.yml"))
        for intent, text in intent_examples(path)
        if intent == "out_of_scope"
    )
    return list(dict.fromkeys(texts))


def load_scope_examples(path: Path) -> list[str]:
    """The search's own out-of-scope examples (config/policy_out_of_scope.yaml: `out_of_scope`, a list of
    questions)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts = raw.get("out_of_scope")
    if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError(f"{path}: `out_of_scope` must be a list of questions")
    return [t.strip() for t in texts]


def _identity(document: list[str]) -> list[str]:
    return document


@dataclass(frozen=True)
class Reading:
    # Each FAQ entry's probability (all 0 when the classifier has learnt nothing).
    entries: npt.NDArray[np.float64]
    # The same for each passage learnt from its questions, in the order they were given.
    passages: npt.NDArray[np.float64]
    # The probability that the question is none of the FAQ's but one the documents do not answer.
    out_of_scope: float


def relative(probabilities: npt.NDArray[np.float64], among: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Each probability relative to the likeliest of those `among` marks (the candidates the question is
    asked about: 1.0 for it); all 1.0 when none of them has any."""
    best = float(probabilities[among].max()) if among.any() else 0.0
    return probabilities / best if best > 0 else np.ones(len(probabilities))


class FaqClassifier:
    def __init__(
        self,
        faq: Sequence[FaqEntry],
        tokenizer: PolicyTokenizer,
        out_of_scope: Sequence[str] = (),
        in_scope: Sequence[str] = (),
        passages: Sequence[Sequence[str]] = (),
    ) -> None:
        """`out_of_scope`: questions the documents do not answer (one class); `in_scope`: other text the
        documents do answer from, beside the FAQ (one more class, no entry's); `passages`: the questions
        each of some passages answers (a class each, after the FAQ's)."""
        self._size = len(faq)
        self._passages = len(passages)
        self._learnt_scope = bool(out_of_scope)
        examples: list[list[str]] = []
        labels: list[int] = []
        texts = [(i, t) for i, entry in enumerate(faq) for t in (entry.question, *entry.phrasings)]
        texts += [(self._size + k, t) for k, questions in enumerate(passages) for t in questions]
        scope = self._size + self._passages
        texts += [(scope, t) for t in out_of_scope] + [(scope + 1, t) for t in in_scope]
        for label, text in texts:
            text = tokenizer.correct(text)
            examples.append(read_features(tokenizer, text))
            labels.append(label)
        self._vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        self._model = LogisticRegression(C=C, max_iter=3000)
        self._fitted = len(set(labels)) > 1  # one class alone: nothing to tell apart
        if self._fitted:
            self._model.fit(self._vectorizer.fit_transform(examples), labels)

    def read(self, question: list[str]) -> Reading:
        """The question's reading (its features: `read_features`)."""
        if not self._fitted:
            return Reading(np.zeros(self._size), np.zeros(self._passages), UNDECIDED)
        scope = self._size + self._passages
        probabilities = np.zeros(scope + 2)
        vector = self._vectorizer.transform([question])
        probabilities[self._model.classes_] = self._model.predict_proba(vector)[0]
        return Reading(
            probabilities[: self._size],
            probabilities[self._size : scope],
            float(probabilities[scope]) if self._learnt_scope else UNDECIDED,
        )
