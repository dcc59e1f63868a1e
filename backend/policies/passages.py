"""The policy documents and their citable passages.

A document is kept as published (config/policies/*.txt); this module reads its structure so that an
answer can cite "document → 一、 → （一） → 1." exactly as a reader finds it in the text:

- everything before the plan's own title line (`body_title` in documents.yaml) is the issuing notice
  (passage "notice": issuer, number, date); paragraphs between that title and the first 一、 are the
  前言 ("intro");
- 一、 / （一） or (一) / 1. open sections. A numbered item with a sentence after its title is one passage,
  together with any unnumbered paragraphs that follow it; a bare heading such as "（二）推进措施" is not a
  passage, and each paragraph under it is one (titled when it starts with a short title such as
  "自愿选择。" or "——**便捷高效**。");
- the published layout breaks paragraphs at page ends (a blank line in mid-sentence): a paragraph that does
  not end a sentence is joined to the next one;
- 附件 N starts an annex; its tab-separated table becomes one passage per row, numbered by 序号, so
  "开办旅行社需要什么证" can cite 附件1 第13项.

Passage ids come from the section numbers — "3-1" is 三、（一）, "2-1-3" is 二、（一）3., "2-p4" the 4th
paragraph under 二、, "a1-13" row 13 of 附件1 — so they stay put while the text does, and read well in URLs
and in the evaluation set.
"""

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_NUMBER = "[一二三四五六七八九十]+"
_LEVEL1 = re.compile(rf"^({_CN_NUMBER})、\s*(.*)$")
_LEVEL2 = re.compile(rf"^[（(]\s*({_CN_NUMBER})\s*[）)]\s*(.*)$")
_LEVEL3 = re.compile(r"^(\d{1,2})[.．]\s*(.*)$")
_ANNEX = re.compile(r"^附件\s*(\d+)$")
_ANNEX_LIST = re.compile(r"^附件[：:]")
_PRINTED = re.compile(r"^[（(]\d{4}年\d{1,2}月\d{1,2}日印发[）)]$")
# A paragraph ending in one of these ends a sentence; anything else was cut by a page break.
_SENTENCE_END = tuple("。！？：）)")
_WHITESPACE = re.compile(r"\s+")
_MAX_ITEM_TITLE = 40
_MAX_PARAGRAPH_TITLE = 10
_FOLDED_SPACE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
# The id of each document's issuing notice (everything before the plan's own title).
NOTICE = "notice"


def unfold(text: str) -> str:
    """Undo YAML line folding inside Chinese text: a folded line break becomes a space, and Chinese puts
    no space between characters."""
    return _FOLDED_SPACE.sub("", text)


class DocumentMeta(BaseModel):
    """One entry of config/policies/documents.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    file: str
    title: str
    body_title: str
    issuer: str
    number: str | None = None
    date: dt.date | None = None
    year: int
    summary: str
    # Where the plan applies (睢县, 临沂市 …): its passages seldom repeat it, yet a passage of it is about
    # that place; the search gives them part of a question's place word (backend/policies/search.py).
    place: str | None = None

    @field_validator("summary")
    @classmethod
    def _unfold(cls, value: str) -> str:
        return unfold(value)

    def issued(self) -> str:
        """Who issued the plan, when and under which number, then what it is about: the answer to
        188号文讲的啥 or 睢县的文件是哪年发的, which the notice itself states only among its addressees."""
        when = f"{self.date.year}年{self.date.month}月{self.date.day}日" if self.date else f"{self.year}年"
        number = f"（{self.number}）" if self.number else ""
        return f"《{self.title}》由{self.issuer}于{when}印发{number}。主要内容：{self.summary}"


@dataclass(frozen=True, slots=True)
class Passage:
    doc_id: str
    id: str
    # Heading labels from the outermost section inwards, e.g. ("三、基本流程", "（一）一窗综合受理").
    section_path: tuple[str, ...]
    text: str
    kind: Literal["paragraph", "table_row"] = "paragraph"

    @property
    def ref(self) -> str:
        return f"{self.doc_id}#{self.id}"

    @property
    def section(self) -> str:
        return join_section_path(self.section_path)


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    label: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Text shown on the document page but not searched (the annex list, the printing date)."""

    text: str


@dataclass(frozen=True, slots=True)
class PassageBlock:
    passage: Passage
    display: str  # as printed: inline title included, ** marks kept


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Passage, tuple[str, ...]], ...]


Block = Heading | Paragraph | PassageBlock | Table


@dataclass(frozen=True)
class Document:
    meta: DocumentMeta
    heading: str  # the plan's title line as printed
    blocks: tuple[Block, ...]
    passages: tuple[Passage, ...]
    _by_id: dict[str, Passage] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.passages})

    @property
    def id(self) -> str:
        return self.meta.id

    def passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    def citation(self, passage: Passage) -> str:
        return f"《{self.meta.title}》{passage.section}"


def join_section_path(path: tuple[str, ...]) -> str:
    """Labels read as one phrase (三、基本流程（一）一窗综合受理); deeper ones are set off by a space."""
    out = ""
    for label in path:
        if out and not (label.startswith("（") or out.endswith("、")):
            out += " "
        out += label
    return out


def load_documents(directory: Path) -> list[Document]:
    raw = yaml.safe_load((directory / "documents.yaml").read_text(encoding="utf-8"))
    documents = []
    for entry in raw["documents"]:
        meta = DocumentMeta.model_validate(entry)
        documents.append(split_document(meta, (directory / meta.file).read_text(encoding="utf-8")))
    return documents


def split_document(meta: DocumentMeta, text: str) -> Document:
    paragraphs = [p for p in (_clean(block) for block in re.split(r"\n\s*\n", text)) if p]
    title = _title_index(meta, paragraphs)
    builder = _Builder(meta.id)
    notice = "\n".join(paragraphs[:title])
    builder.add(Passage(meta.id, NOTICE, ("印发通知",), notice), notice)
    for paragraph in _join_page_breaks(paragraphs[title + 1 :]):
        builder.feed(paragraph)
    return Document(meta, paragraphs[title], tuple(builder.finish()), tuple(builder.passages))


def _clean(block: str) -> str:
    lines = (line.replace("\xa0", " ").strip() for line in block.split("\n"))
    return "\n".join(line for line in lines if line)


def _compact(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _title_index(meta: DocumentMeta, paragraphs: list[str]) -> int:
    """The plan's title line: the last paragraph before the first 一、 that reads `body_title`."""
    wanted = _compact(meta.body_title)
    first_section = next((i for i, p in enumerate(paragraphs) if _LEVEL1.match(p)), len(paragraphs))
    for i in range(first_section - 1, -1, -1):
        if _compact(paragraphs[i]) == wanted:
            return i
    raise ValueError(f"{meta.id}: body title {meta.body_title!r} not found before the first section")


def _is_structural(paragraph: str) -> bool:
    patterns = (_LEVEL1, _LEVEL2, _LEVEL3, _ANNEX, _ANNEX_LIST, _PRINTED)
    return "\t" in paragraph or any(p.match(paragraph) for p in patterns)


def _join_page_breaks(paragraphs: list[str]) -> Iterator[str]:
    pending = ""
    for paragraph in paragraphs:
        cut_mid_sentence = pending and not pending.endswith(_SENTENCE_END) and "\t" not in pending
        if cut_mid_sentence and not _is_structural(paragraph) and not _is_bare_heading(pending):
            pending += paragraph
            continue
        if pending:
            yield pending
        pending = paragraph
    if pending:
        yield pending


def _is_bare_heading(paragraph: str) -> bool:
    """ "一、总体要求", "（二）推进措施", "附件 1": a heading line with no sentence after it."""
    if _LEVEL1.match(paragraph) or _ANNEX.match(paragraph):
        return True
    match = _LEVEL2.match(paragraph) or _LEVEL3.match(paragraph)
    return match is not None and not _split_title(match.group(2), _MAX_ITEM_TITLE)[1]


def _split_title(text: str, max_title: int) -> tuple[str, str]:
    """ "工作目标。以更快……" → ("工作目标", "以更快……"); ("", text) when it does not start with a title."""
    plain = text.replace("**", "")
    head, stop, rest = plain.partition("。")
    if not stop:
        # A heading line without a full stop, e.g. "压缩准营时限，推进准入准营一体化".
        return (plain, "") if len(plain) <= max_title else ("", plain)
    if len(head) <= max_title and "，" not in head:
        return head, rest
    return "", plain


def _numeral_value(numeral: str) -> int:
    """一 → 1 … 十 → 10, 十一 → 11, 二十 → 20 (enough for section numbers)."""
    if numeral.startswith("十"):
        return 10 + (_CN_DIGITS[numeral[1]] if len(numeral) > 1 else 0)
    if len(numeral) > 1 and numeral[1] == "十":
        return _CN_DIGITS[numeral[0]] * 10 + (_CN_DIGITS[numeral[2]] if len(numeral) > 2 else 0)
    return _CN_DIGITS[numeral]


def _clean_cell(cell: str) -> str:
    """Table cells were wrapped in the published layout ("第三类医疗器械 经营许可证"): undo that."""
    return re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f(])|\s+(?=\()", "", cell.strip())


@dataclass
class _Section:
    level: int
    key: str
    label: str


@dataclass
class _OpenItem:
    """A numbered item still collecting the unnumbered paragraphs that follow it."""

    passage_id: str
    path: tuple[str, ...]
    parts: list[str]


@dataclass
class _Annex:
    key: str  # "a1"
    label: str  # "附件1 临沂市企业“证照联办”行政审批事项目录（第一批）" once the title is read
    titled: bool = False
    header: tuple[str, ...] | None = None
    rows: list[tuple[Passage, tuple[str, ...]]] = field(default_factory=list)


@dataclass
class _Builder:
    doc_id: str
    passages: list[Passage] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    sections: list[_Section] = field(default_factory=list)
    item: _OpenItem | None = None
    annex: _Annex | None = None
    paragraph_counts: dict[str, int] = field(default_factory=dict)

    def feed(self, paragraph: str) -> None:
        if _PRINTED.match(paragraph) or _ANNEX_LIST.match(paragraph):
            self._close_item()
            self.blocks.append(Paragraph(paragraph))
        elif match := _ANNEX.match(paragraph):
            self._close_item()
            self._close_table()
            self.annex = _Annex(f"a{match.group(1)}", f"附件{match.group(1)}")
            self.sections = []
        elif self.annex is not None and "\t" in paragraph:
            for line in paragraph.split("\n"):
                self._table_row(self.annex, tuple(_clean_cell(cell) for cell in line.split("\t")))
        elif self.annex is not None and not self.annex.titled:
            self._annex_title(self.annex, paragraph)
        elif match := _LEVEL1.match(paragraph):
            self._heading(1, str(_numeral_value(match.group(1))), f"{match.group(1)}、{match.group(2)}")
        elif match := _LEVEL2.match(paragraph):
            self._numbered(2, str(_numeral_value(match.group(1))), f"（{match.group(1)}）", match)
        elif match := _LEVEL3.match(paragraph):
            self._numbered(3, match.group(1), f"{match.group(1)}.", match)
        elif self.item is not None:
            self.item.parts.append(paragraph)
        else:
            self._loose_paragraph(paragraph)

    def finish(self) -> list[Block]:
        self._close_item()
        self._close_table()
        return self.blocks

    def add(self, passage: Passage, display: str | None = None) -> None:
        if any(p.id == passage.id for p in self.passages):
            raise ValueError(f"{self.doc_id}: duplicate passage id {passage.id}")
        self.passages.append(passage)
        if display is not None:
            self.blocks.append(PassageBlock(passage, display))

    def _section_key(self) -> str:
        return "-".join(s.key for s in self.sections)

    def _heading(self, level: int, key: str, label: str, *, shown: bool = True) -> None:
        self._close_item()
        self.sections = [s for s in self.sections if s.level < level]
        self.sections.append(_Section(level, key, label))
        if shown:
            self.blocks.append(Heading(level, label, f"s-{self._section_key()}"))

    def _numbered(self, level: int, key: str, number: str, match: re.Match[str]) -> None:
        title, body = _split_title(match.group(2), _MAX_ITEM_TITLE)
        # An item with a sentence is a passage that shows its own title; a bare one is a heading.
        self._heading(level, key, number + title if title else number, shown=not body)
        if body:
            path = tuple(s.label for s in self.sections)
            self.item = _OpenItem(self._section_key(), path, [match.string])

    def _loose_paragraph(self, paragraph: str) -> None:
        key = self._section_key() or "intro"
        count = self.paragraph_counts[key] = self.paragraph_counts.get(key, 0) + 1
        text = paragraph.lstrip("—-").strip()
        title, body = _split_title(text, _MAX_PARAGRAPH_TITLE)
        path = tuple(s.label for s in self.sections) or ("前言",)
        if title and body:
            path += (title,)
        passage_id = f"{key}-p{count}" if key != "intro" else "intro" if count == 1 else f"intro-{count}"
        self.add(Passage(self.doc_id, passage_id, path, text.replace("**", "")), paragraph)

    def _close_item(self) -> None:
        if self.item is not None:
            display = "\n".join(self.item.parts)
            self.add(
                Passage(self.doc_id, self.item.passage_id, self.item.path, display.replace("**", "")), display
            )
            self.item = None

    def _annex_title(self, annex: _Annex, paragraph: str) -> None:
        annex.label = f"{annex.label} {_compact(paragraph)}"
        annex.titled = True
        self.sections = [_Section(1, annex.key, annex.label)]
        self.blocks.append(Heading(1, annex.label, f"s-{annex.key}"))

    def _table_row(self, annex: _Annex, cells: tuple[str, ...]) -> None:
        if annex.header is None:
            annex.header = cells
            return
        number, name = cells[0], cells[1] if len(cells) > 1 else ""
        text = "；".join(
            f"{column}：{value}" for column, value in zip(annex.header[1:], cells[1:], strict=False)
        )
        passage = Passage(
            self.doc_id,
            f"{annex.key}-{number}",
            (annex.label, f"第{number}项 {name}".strip()),
            text,
            "table_row",
        )
        self.add(passage)
        annex.rows.append((passage, cells))

    def _close_table(self) -> None:
        if self.annex is not None and self.annex.header is not None:
            self.blocks.append(Table(self.annex.header, tuple(self.annex.rows)))
            self.annex.header = None
            self.annex.rows = []


def load_passage_questions(path: Path, documents: list[Document]) -> dict[str, tuple[str, ...]]:
    """The questions each passage answers, in applicants' words (config/policy_passage_questions.yaml),
    by passage ref. A ref that names no passage is an error: a renamed passage must not silently lose
    them."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    questions = raw.get("questions") or {}
    refs = {p.ref for d in documents for p in d.passages}
    unknown = sorted(set(questions) - refs)
    if unknown:
        raise ValueError(f"{path}: questions for passages that do not exist: {unknown}")
    bad = sorted(
        ref for ref, texts in questions.items() if not texts or not all(isinstance(t, str) for t in texts)
    )
    if bad:
        raise ValueError(f"{path}: each passage needs a list of questions (text): {bad}")
    return {ref: tuple(t.strip() for t in texts) for ref, texts in questions.items()}
