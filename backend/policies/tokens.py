"""Chinese tokenisation for the policy search: jieba with the domain dictionary (config/policies/
jieba_userdict.txt), stop words and synonyms (config/policies/lexicon.yaml).

Passages are cut in jieba's search mode (a compound also yields its dictionary sub-words: 行业综合许可证 →
行业, 综合, 许可证, 综合许可证, 行业综合许可证), so a question that names only part of a term still finds
it. Questions are cut in precise mode and then mapped through the synonym table: an applicant's word that
the documents never use (汽修厂, 快递, 法人) becomes the documents' word (机动车维修, 寄递, 法定代表人). A
question word that neither the documents nor the synonym table know stays as it is — it matches nothing,
and the search counts it against the match (that is how "个人所得税怎么申报" is told apart from a policy
question).
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import jieba
import yaml

_WORD = re.compile(r"[\w\u4e00-\u9fff]")


@dataclass(frozen=True)
class Lexicon:
    synonyms: dict[str, tuple[str, ...]]
    stopwords: frozenset[str]

    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        synonyms = {str(k): tuple(str(v).split()) for k, v in (raw.get("synonyms") or {}).items()}
        return cls(synonyms, frozenset(str(raw.get("stopwords") or "").split()))


# One term of a question: alternative words, any one of which is a match.
Term = tuple[str, ...]


class PolicyTokenizer:
    """One jieba tokenizer of our own (jieba's module-level one is shared process state)."""

    def __init__(self, userdict: Path, lexicon: Lexicon) -> None:
        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict…" lines are not ours to print
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self._jieba.load_userdict(str(userdict))
        self._lexicon = lexicon
        # Synonym keys and targets must come out of the cut as whole words.
        for key, targets in lexicon.synonyms.items():
            for word in (key, *targets):
                if len(word) > 1 and not self._jieba.FREQ.get(word):
                    self._jieba.add_word(word, freq=1000)

    def passage_tokens(self, text: str) -> list[str]:
        """Search-mode words, plus the documents' words for any applicant word in the text (FAQ phrasings
        are written in applicants' words and must meet the questions on the same ground)."""
        words = [w for w in (self._normalise(t) for t in self._jieba.cut_for_search(text, HMM=False)) if w]
        extra = [w for term in self.query_terms(text) for w in term if w not in words]
        return words + extra

    def query_terms(self, text: str) -> list[Term]:
        """The question's terms in order; a word the lexicon maps becomes the documents' words for it
        (药店 → 药店 | 药品经营). A term that repeats words of an earlier one is dropped (几天能办完)."""
        out: list[Term] = []
        seen: set[str] = set()
        for raw in self._jieba.cut(text, HMM=False):
            word = raw.strip().lower()
            if word in self._lexicon.synonyms:
                term = self._mapped(self._lexicon.synonyms[word])
            else:
                normalised = self._normalise(word)
                term = (normalised,) if normalised else ()
            if term and seen.isdisjoint(term):
                out.append(term)
                seen.update(term)
        return out

    def _mapped(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for target in targets for w in self._precise(target)))

    def _precise(self, phrase: str) -> list[str]:
        if len(phrase) == 1:
            return [phrase]
        return [w for w in (self._normalise(t) for t in self._jieba.cut(phrase, HMM=False)) if w]

    def _normalise(self, token: str) -> str:
        token = token.strip().lower()
        if not token or not _WORD.search(token) or token in self._lexicon.stopwords:
            return ""
        # Single characters (开, 证, 的 …) are too ambiguous to match on; the synonym table turns the
        # meaningful ones into words before this point.
        return token if len(token) > 1 else ""
