"""Which FAQ entry a question asks about, learnt from the entries' own phrasings.

BM25 weighs a word by how rare it is, not by which entry it points to: 谁 and 哪个部门 are common words,
yet they tell who-leads from the entry that merely names the same licence, and 多久 tells processing-time
from the entry on the same step. A multinomial logistic regression over the FAQ's question and phrasings
(about 530 sentences, 35 classes) learns those weights; the search lowers an FAQ candidate the classifier
thinks less likely than its favourite in the ranking (search.py `CLASSIFIER_SHARE`), so it breaks the ties
BM25 leaves between entries that share words. It cannot lift an entry that matches nothing, and it does not
decide whether anything is found: the threshold applies to the match.

It reads a question as the search does (tokens.py): the words after the lexicon's mapping and the
character bigrams of the content, so an applicant's word the lexicon knows counts as the documents' word.
scikit-learn gives the model (TF-IDF features, L2-regularised, lbfgs: deterministic); training takes about
0.4 s when the index is built and a question about half a millisecond.
"""

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from backend.policies.faq import FaqEntry
from backend.policies.tokens import PolicyTokenizer, Term

# Inverse regularisation strength: a few phrasings per entry need little regularisation (1 to 100 score
# within 0.006 of each other on the tuned part and the older holdouts).
C = 10.0
_GRAM = "#"  # marks a bigram feature apart from a one- or two-character word


def features(terms: Iterable[Term], bigrams: Iterable[str]) -> list[str]:
    """A question's features: its (mapped) words and its character bigrams."""
    return [w for term in terms for w in term] + [_GRAM + g for g in bigrams]


def _identity(document: list[str]) -> list[str]:
    return document


class FaqClassifier:
    def __init__(self, faq: Sequence[FaqEntry], tokenizer: PolicyTokenizer) -> None:
        examples: list[list[str]] = []
        labels: list[int] = []
        for i, entry in enumerate(faq):
            for text in (entry.question, *entry.phrasings):
                text = tokenizer.correct(text)
                examples.append(features(tokenizer.query_terms(text), tokenizer.query_bigrams(text)))
                labels.append(i)
        self._size = len(faq)
        self._vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        self._model = LogisticRegression(C=C, max_iter=3000)
        if self._size > 1:  # one entry is a class of its own: nothing to tell apart
            self._model.fit(self._vectorizer.fit_transform(examples), labels)

    def likelihood(self, question: list[str], among: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        """Each entry's probability relative to the likeliest of the entries `among` (1.0 for it), in FAQ
        order."""
        if self._size < 2:
            return np.ones(self._size)
        probabilities = np.asarray(
            self._model.predict_proba(self._vectorizer.transform([question]))[0], dtype=np.float64
        )
        best = float(probabilities[among].max())
        return probabilities / best
