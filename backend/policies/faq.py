"""The curated FAQ layer (config/policy_faq.yaml): short answers to what applicants really ask, each citing
the passages it rests on. Loading checks every citation against the documents — the passage must exist and
the quote must appear in it word for word — so an answer cannot drift from the text it cites.

An answer may hold a value of the deployment's own, filled in at loading: `{office_hours}`, so the hours an
applicant reads in an answer are the hours the handoff keeps (OFFICE_HOURS)."""

import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.office_hours import OfficeHours
from backend.policies.passages import Document, unfold
from backend.settings import Settings

DEFAULT_OFFICE_HOURS: str = Settings.model_fields["office_hours"].default


class FaqCitation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    doc: str
    passage: str
    quote: str = Field(min_length=4)


class FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    question: str
    phrasings: tuple[str, ...] = Field(min_length=1)
    answer: str
    citations: tuple[FaqCitation, ...] = Field(min_length=1)
    sample: bool = False
    # False keeps the question and phrasings out of NLU's training data (scripts/faq_nlu.py).
    nlu_examples: bool = True

    @field_validator("answer")
    @classmethod
    def _unfold(cls, value: str) -> str:
        return unfold(value)

    @property
    def ref(self) -> str:
        return f"faq:{self.id}"


def deployment_values(office_hours: str = DEFAULT_OFFICE_HOURS) -> dict[str, str]:
    """The deployment's values an FAQ answer may name."""
    return {"office_hours": OfficeHours.parse(office_hours).describe()}


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def load_faq(
    path: Path, documents: dict[str, Document], values: Mapping[str, str] | None = None
) -> list[FaqEntry]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = deployment_values() if values is None else values
    for item in raw["faq"]:
        item["answer"] = _fill(str(item.get("id")), str(item.get("answer", "")), values)
    entries = [FaqEntry.model_validate(item) for item in raw["faq"]]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ValueError(f"{path}: duplicate FAQ id {entry.id}")
        seen.add(entry.id)
        for citation in entry.citations:
            _check(entry, citation, documents)
    return entries


def _check(entry: FaqEntry, citation: FaqCitation, documents: dict[str, Document]) -> None:
    document = documents.get(citation.doc)
    if document is None:
        raise ValueError(f"FAQ {entry.id}: unknown document {citation.doc}")
    passage = document.passage(citation.passage)
    if passage is None:
        raise ValueError(f"FAQ {entry.id}: {citation.doc} has no passage {citation.passage}")
    if citation.quote not in passage.text:
        raise ValueError(f"FAQ {entry.id}: quote not found in {passage.ref}: {citation.quote}")


def _fill(entry_id: str, answer: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise ValueError(f"FAQ {entry_id}: no value for {{{match[1]}}}")
        return values[match[1]]

    return _PLACEHOLDER.sub(value, answer)
