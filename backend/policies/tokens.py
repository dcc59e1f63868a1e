"""Chinese tokenisation for the policy search: jieba with the domain dictionary (config/policies/
jieba_userdict.txt), stop words, synonyms and the names of other services (config/policies/lexicon.yaml).

Passages are cut in jieba's search mode (a compound also yields its dictionary sub-words: 行业综合许可证 →
行业, 综合, 许可证, 综合许可证, 行业综合许可证), so a question that names only part of a term still finds
it. Questions are cut in precise mode and then mapped through the synonym table: an applicant's word that
the documents never use (汽修厂, 快递, 法人) becomes the documents' word (机动车维修, 寄递, 法定代表人). A
question word that neither the documents nor the synonym table know stays as it is — it matches nothing,
and the search counts it against the match (that is how "个人所得税怎么申报" is told apart from a policy
question).

What applicants type on a phone needs four more things:
- mistyped words: a pinyin keyboard puts a wrong character of the same sound into a word (证照联半,
  容却受理) and jieba cuts the word into single characters that carry nothing. `correct` puts a domain
  word of 3–6 characters right when one character differs, sounds the same (pypinyin) and no other
  domain word of that sound fits (留个一 → 六个一, though ?个一 also fits 五个一);
- pinyin left in Latin letters when the keyboard was not switched (san lian ban): `correct` writes a run
  of syllables that spells a domain word in its characters (三联办);
- character bigrams, a second view of the text for the search (`passage_bigrams`, `query_bigrams`): they
  still see a word inside a compound jieba keeps whole (卫生许可证 in 公共场所卫生许可证);
- other services: the documents list other windows and chains (公积金, 社保, 户籍 …) without describing
  them, so a question about one of them would otherwise match the list (`is_other_service`).
"""

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba
import yaml
from pypinyin import Style, lazy_pinyin, pinyin

_WORD = re.compile(r"[\w\u4e00-\u9fff]")
# Runs the bigram view is taken from: Chinese characters, or letters and digits (kept whole: "app", "0.5").
_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+(?:\.[0-9]+)?")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HAN_ONLY = re.compile(r"[\u4e00-\u9fff]+")
# A count of things (两辆, 三家, 几台): says how many, not what about. Counts of the documents' own units
# (项, 批, 天, 次) and of papers (张, 份, 套) are left alone: "首批18项", "几天办结", "交几套材料"
# are what a question asks.
_COUNT = re.compile(r"[一二两三四五六七八九十几好每半]+[个辆台位名件家间把只栋]")
# A time of day (十二点, 一点半, 8点): a question that names one asks about the window's hours, as 几点 does.
# A bare 一点 or 一点多 is left alone: it is as often "a little" (快一点, 多一点) as one o'clock.
_CLOCK = re.compile(r"(?:[两三四五六七八九十]|十[一二]|[一二](?=点[半钟]))点(?:半|钟|多)?")
# jieba cuts a clock time written in digits apart (5 / 点半), so it is replaced before the cut.
_DIGIT_CLOCK = re.compile(r"(?<![\d.])\d{1,2}点(?:半|钟|多)?")
_CLOCK_AS = "几点"
# Spaces next to a Chinese character: the documents put them around numbers ("市场准入 0.5 日办", "18 项"),
# applicants do not ("0.5日办"), and jieba would cut the dictionary word apart at the space.
_LOOSE_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=\w)|(?<=\w)\s+(?=[\u4e00-\u9fff])")
# A run of Latin letters, as typed when the keyboard was left in its Latin mode (san lian ban).
_LATIN_RUN = re.compile(r"[A-Za-z]+(?:[ \t]+[A-Za-z]+)*")
# Length of the domain words a mistyped character is put right in.
_TYPO_MIN, _TYPO_MAX = 3, 6
# An applicant's word must come out of jieba's cut whole even where jieba's general dictionary prefers
# another cut (快递给我 → 快/递给/我), so lexicon keys are given at least this frequency.
_LEXICON_FREQ = 3000


@functools.cache
def _readings(char: str) -> frozenset[str]:
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")[0] or ())


def sound_alike(typed: str, meant: str) -> bool:
    """Whether a pinyin keyboard could give `typed` for `meant`: a reading in common, tones aside."""
    return bool(_readings(typed) & _readings(meant))


@dataclass(frozen=True)
class Lexicon:
    synonyms: dict[str, tuple[str, ...]]
    stopwords: frozenset[str]
    # Services the documents name only in passing (the other windows of a service centre, other chains of
    # 一链办理) and do not describe, a person's own papers (护照, 驾照) and a business's other matters (报税,
    # 商标); see lexicon.yaml.
    other_services: frozenset[str] = frozenset()
    # Words that name the reform itself: with one of them, a question about another service is a question
    # about the reform (一链办理包括公积金吗).
    reform: frozenset[str] = frozenset()
    # Stop words a question is asked with (谁, 多少, 什么时候): nothing for the match, yet they tell FAQ
    # entries apart (who leads, what it costs, how long), so the FAQ classifier reads them.
    question_words: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        synonyms = {str(k): tuple(str(v).split()) for k, v in (raw.get("synonyms") or {}).items()}
        return cls(
            synonyms,
            _words(raw.get("stopwords")),
            _words(raw.get("other_services"))
            | _words(raw.get("personal_documents"))
            | _words(raw.get("other_matters")),
            _words(raw.get("reform")),
            _words(raw.get("question_words")),
        )


def _words(value: object) -> frozenset[str]:
    return frozenset(str(value or "").split())


# One term of a question: alternative words, any one of which is a match.
Term = tuple[str, ...]


class PolicyTokenizer:
    """One jieba tokenizer of our own (jieba's module-level one is shared process state)."""

    def __init__(self, userdict: Path, lexicon: Lexicon) -> None:
        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict…" lines are not ours to print
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self._jieba.load_userdict(str(userdict))
        self.lexicon = lexicon
        # Synonym keys and targets must come out of the cut as whole words.
        for key, targets in lexicon.synonyms.items():
            if len(key) > 1 and self._jieba.FREQ.get(key, 0) < _LEXICON_FREQ:
                self._jieba.add_word(key, freq=_LEXICON_FREQ)
            for word in targets:
                if len(word) > 1 and not self._jieba.FREQ.get(word):
                    self._jieba.add_word(word, freq=1000)
        # Stop phrases too (中午好 is a greeting, not 中午: the window's lunch break).
        for word in lexicon.other_services | lexicon.reform | lexicon.stopwords:
            if len(word) > 1 and not self._jieba.FREQ.get(word):
                self._jieba.add_word(word, freq=1000)
        # The words a mistyped character is put right towards: the dictionary, the documents' words the
        # lexicon maps to, the reform's and the other services' names.
        dictionary = (
            line.split()[0] for line in userdict.read_text(encoding="utf-8").splitlines() if line.strip()
        )
        self._domain = frozenset(dictionary) | lexicon.reform | lexicon.other_services
        self._domain |= {w for targets in lexicon.synonyms.values() for w in targets}
        self._typos = self._typo_patterns()
        self._spelled = self._spellings()
        # A time of day is read as 几点 only where the lexicon maps 几点 (checked once, not per word).
        self._reads_clock = _CLOCK_AS in lexicon.synonyms

    def passage_tokens(self, text: str) -> list[str]:
        """Search-mode words, plus the documents' words for any applicant word in the text (FAQ phrasings
        are written in applicants' words and must meet the questions on the same ground). A word the
        lexicon maps stands for what it means, as in a question, not also for the words inside it: 改名字
        is 名称变更, and its 名字 made "你叫什么名字" a question about changing a licence."""
        text = _squeeze(text)
        words = [w for w in (self._normalise(t) for t in self._jieba.cut_for_search(text, HMM=False)) if w]
        cut = (raw.strip().lower() for raw in self._jieba.cut(self._clock(text), HMM=False))
        mapped = [key for key in (self._key(word) for word in cut) if key in self.lexicon.synonyms]
        words = [w for w in words if not any(w != m and w in m for m in mapped)]
        extra = [w for term in self.query_terms(text) for w in term if w not in words]
        return words + extra

    def query_terms(self, text: str) -> list[Term]:
        """The question's terms in order; a word the lexicon maps becomes the documents' words for it
        (药店 → 药店 | 药品经营). A term that repeats words of an earlier one is dropped (几天能办完)."""
        out: list[Term] = []
        seen: set[str] = set()
        for raw in self._jieba.cut(self._clock(_squeeze(text)), HMM=False):
            word = self._key(raw.strip().lower())
            if word in self.lexicon.synonyms:
                term = self._mapped(self.lexicon.synonyms[word])
            else:
                normalised = self._normalise(word)
                term = (normalised,) if normalised else ()
            if term and seen.isdisjoint(term):
                out.append(term)
                seen.update(term)
        return out

    def _clock(self, text: str) -> str:
        return _DIGIT_CLOCK.sub(_CLOCK_AS, text) if self._reads_clock else text

    def _key(self, word: str) -> str:
        """The lexicon key a cut word is looked up by: itself, or 几点 for a time of day."""
        return _CLOCK_AS if self._reads_clock and _CLOCK.fullmatch(word) else word

    def _typo_patterns(self) -> dict[str, tuple[str, ...]]:
        """Each domain word with one character masked → the words of that pattern (?个一: 五个一, 六个一).
        Only words of 3 to 6 characters: in a two-character word one wrong character leaves too little
        to go on (联半 could be 联办, 联合 …)."""
        masked: dict[str, set[str]] = {}
        for word in self._domain:
            if _TYPO_MIN <= len(word) <= _TYPO_MAX and _HAN_ONLY.fullmatch(word):
                for i in range(len(word)):
                    masked.setdefault(word[:i] + "?" + word[i + 1 :], set()).add(word)
        return {key: tuple(sorted(words)) for key, words in masked.items()}

    def _spellings(self) -> dict[str, str]:
        """Each domain word of two or more characters by its pinyin, tones and spaces left out (sanlianban:
        三联办); a spelling two words share is left out, as it cannot tell them apart."""
        spelled: dict[str, set[str]] = {}
        for word in self._domain:
            if len(word) > 1 and _HAN_ONLY.fullmatch(word):
                spelled.setdefault("".join(lazy_pinyin(word)), set()).add(word)
        return {key: next(iter(words)) for key, words in spelled.items() if len(words) == 1}

    def _from_pinyin(self, text: str) -> str:
        """Domain words spelled in pinyin (san lian ban, zhengzhao lianban) written in characters; the
        longest run of syllables that spells one wins, other Latin words are left as typed."""

        def read(match: re.Match[str]) -> str:
            typed = match.group().split()
            syllables = [t.lower() for t in typed]
            out: list[str] = []
            i = 0
            while i < len(syllables):
                for j in range(len(syllables), i, -1):
                    word = self._spelled.get("".join(syllables[i:j]))
                    if word:
                        out.append(word)
                        i = j
                        break
                else:
                    out.append(typed[i])
                    i += 1
            return match.group() if out == typed else " ".join(out)

        return _LATIN_RUN.sub(read, text)

    def correct(self, text: str) -> str:
        """The question with domain words spelled in pinyin written in characters (`_from_pinyin`) and
        mistyped domain words put right. A pinyin keyboard puts a wrong character of
        the same sound into a word, and the cut then leaves a character standing alone: where one
        character of a run around it (not a stop word, not a lexicon word), swapped for one that sounds
        the same, completes a domain word of 3 to 6 characters, and that word is the only one of that
        sound the pattern fits, it is swapped (证照联半 → 证照联办, 容却受理 → 容缺受理, 许可症 → 许可证,
        二微码 → 二维码); the longest word wins. The sound is what tells a slip from a different word:
        申请卡在 is not 申请表, 电脑 not 电掌."""
        text = self._from_pinyin(text)
        fixes: list[tuple[int, int, str]] = []
        offset = 0
        for raw in self._jieba.cut(text, HMM=False):
            if self._loose(raw) and not any(start <= offset < end for start, end, _ in fixes):
                fix = self._fix_at(text, offset)
                if fix:
                    fixes.append(fix)
            offset += len(raw)
        for start, end, word in sorted(fixes, reverse=True):
            text = text[:start] + word + text[end:]
        return text

    def _fix_at(self, text: str, i: int) -> tuple[int, int, str] | None:
        """(start, end, word) of the longest domain word that the character at `i`, swapped, completes."""
        for length in range(_TYPO_MAX, _TYPO_MIN - 1, -1):
            for start in range(max(0, i - length + 1), i + 1):
                window = text[start : start + length]
                if len(window) < length or not _HAN_ONLY.fullmatch(window) or self._jieba.FREQ.get(window):
                    continue  # not a whole run of Chinese, or a word already
                # The wrong character is the loose one, or one the cut glued to its other neighbour
                # (二微码 → 二/微码: 微 is wrong, 二 is left alone).
                for j in (i - start, *(k for k in range(length) if k != i - start)):
                    before, after = window[:j], window[j + 1 :]
                    if not (before and after) and before + after in self._domain:
                        continue  # a whole word and the next one's first character (三联办跟 …)
                    # Of the words the pattern fits, the one the typed character sounds like: 留个一 is
                    # 六个一, not 五个一. Two that sound alike leave it as typed.
                    pattern = f"{before}?{after}"
                    fits = [w for w in self._typos.get(pattern, ()) if sound_alike(window[j], w[j])]
                    if len(fits) == 1:
                        return start, start + length, fits[0]
        return None

    def parts(self, word: str) -> list[tuple[str, Term]]:
        """The dictionary sub-words of a word the documents do not know, as (sub-word, its term mapped
        like a question word): 修理厂 → (修理, 维修). The search falls back on them for partial credit."""
        out: list[tuple[str, Term]] = []
        for raw in self._jieba.cut_for_search(word, HMM=False):
            part = raw.strip().lower()
            if part == word or len(part) < 2:
                continue
            if part in self.lexicon.synonyms:
                out.append((part, self._mapped(self.lexicon.synonyms[part])))
            elif normalised := self._normalise(part):
                out.append((part, (normalised,)))
        return out

    def question_words(self, text: str) -> list[str]:
        """The lexicon's question words in the text, in order (the cut's whole words only)."""
        cut = (raw.strip() for raw in self._jieba.cut(_squeeze(text), HMM=False))
        return [word for word in cut if word in self.lexicon.question_words]

    def has_loose_characters(self, text: str) -> bool:
        """Whether the cut leaves a character standing alone that carries nothing for the word view."""
        return any(self._loose(raw) for raw in self._jieba.cut(text, HMM=False))

    def _loose(self, token: str) -> bool:
        """A Chinese character the cut left alone that is neither a stop word nor a lexicon word — what a
        mistyped word falls apart into (证照联半 → 证照/联/半)."""
        return (
            len(token) == 1
            and bool(_HAN.match(token))
            and token not in self.lexicon.stopwords
            and token not in self.lexicon.synonyms
        )

    def is_other_service(self, terms: Iterable[Term], text: str) -> bool:
        """The question names another service the documents only list (公积金, 社保 …) and not the reform."""
        words = {w for term in terms for w in term} | set(self._jieba.cut_for_search(text, HMM=False))
        return bool(words & self.lexicon.other_services) and not words & self.lexicon.reform

    def passage_bigrams(self, text: str) -> list[str]:
        """Every character bigram of every run of the text (a one-character run is kept as it is)."""
        return [g for run in _RUN.findall(text.lower()) for g in bigrams(run)]

    def query_bigrams(self, text: str) -> list[str]:
        """The bigrams of the question's content: its runs once stop words and punctuation are taken
        out, each bigram once. Single characters stay in a run (联半 is a mistyped 联办); a run that is
        one character alone is dropped, like single-character words."""
        runs: list[str] = []
        current = ""
        for raw in self._jieba.cut(text, HMM=False):
            word = raw.strip().lower()
            if not word or not _WORD.search(word) or word in self.lexicon.stopwords:
                runs.append(current)
                current = ""
            else:
                current += word
        runs.append(current)
        grams = [g for run in runs for part in _RUN.findall(run) if len(part) > 1 for g in bigrams(part)]
        return list(dict.fromkeys(grams))

    def _mapped(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w for target in targets for w in self._precise(target)))

    def _precise(self, phrase: str) -> list[str]:
        if len(phrase) == 1:
            return [phrase]
        return [w for w in (self._normalise(t) for t in self._jieba.cut(phrase, HMM=False)) if w]

    def _normalise(self, token: str) -> str:
        token = token.strip().lower()
        if not token or not _WORD.search(token) or token in self.lexicon.stopwords or _COUNT.fullmatch(token):
            return ""
        # Single characters (开, 证, 的 …) are too ambiguous to match on; the synonym table turns the
        # meaningful ones into words before this point.
        return token if len(token) > 1 else ""


def _squeeze(text: str) -> str:
    return _LOOSE_SPACE.sub("", text)


def bigrams(run: str) -> list[str]:
    """Character bigrams of a run of Chinese characters; a run of letters or digits is one token."""
    if not _HAN.match(run) or len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]
