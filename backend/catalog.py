"""The catalog: departments, matters (事项), materials, progressive questions and industry packages (套餐).

The catalog is data a service centre edits (config/catalog/*.yaml). Everything is checked when it is
loaded, cross-references included, so that a typo stops start-up with a message naming the file, the
entry and the problem instead of surfacing later in front of an applicant.

Rules (on a package, or shared in questions.yaml) switch matters and materials on and off:

    when: {question: area, gte: 300}          # or equals / one_of / gt / lt / lte; all: [...] / any: [...]
    add_matters: [...]        remove_matters: [...]
    add_materials: [...]      remove_materials: [...]     for_matters: [...]   # default: every matter
    replace_materials: {premises_proof: [lease_contract, property_certificate]}
    reason: 中文说明，可引用答案，如“{food_handlers}人”

A rule whose question is unanswered (or not applicable because of ask_if) does not fire. Removal wins over
addition whatever the order, so the outcome never depends on the order rules are written in.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeAlias, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
AnswerValue: TypeAlias = bool | int | float | str

DEPARTMENTS_FILE = "departments.yaml"
MATERIALS_FILE = "materials.yaml"
MATTERS_FILE = "matters.yaml"
QUESTIONS_FILE = "questions.yaml"
PACKAGES_FILE = "packages.yaml"


# --- errors -----------------------------------------------------------------------------------------------


class CatalogError(Exception):
    """A catalog or holiday file is invalid; the message names the file, the entry and the problem."""


class CatalogLookupError(LookupError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownPackage(CatalogLookupError):
    def __init__(self, package_id: str) -> None:
        super().__init__(f"没有找到办事套餐“{package_id}”")
        self.package_id = package_id


class InvalidAnswer(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- models -----------------------------------------------------------------------------------------------


class _Model(BaseModel):
    # extra="forbid" turns a misspelt key in a YAML file into a load error instead of a silently ignored one.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Model):
    id: Identifier
    name: Text
    annex_name: str | None = None  # the name in linyi-2018-188 Annex 1, before the 2018 institutional reform
    note: str = ""


class Material(_Model):
    id: Identifier
    name: Text
    description: Text
    key: bool  # non-key materials may be supplied later (容缺受理)
    commitment_covers: bool  # 告知承诺 can stand in for it


# The document whose Annex 1 lists the matters (Matter.annex_row), and that annex's passage ids
# (backend/policies/passages.py: row 13 of 附件1 is "a1-13").
ANNEX_DOC = "linyi-2018-188"


def annex_passage(row: int) -> str:
    return f"a1-{row}"


class Matter(_Model):
    id: Identifier
    name: Text
    licence_name: Text
    department_id: Identifier
    annex_row: int | None = Field(default=None, ge=1, le=18)  # linyi-2018-188 Annex 1 row, for traceability
    legal_days: int = Field(ge=0)  # working days; 0 = on the spot (当场办结)
    promised_days: int = Field(ge=0)
    fee: str = "不收费"
    registration_first: bool = False
    commitment_allowed: bool = False
    validity_years: int | None = Field(default=None, ge=1)  # None: no expiry (长期有效)
    materials: list[Identifier] = Field(min_length=1)
    note: str = ""

    @field_validator("fee", mode="before")
    @classmethod
    def _fee_text(cls, value: object) -> object:
        # Editors naturally write `fee: 0`; applicants read text.
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return "不收费" if value == 0 else f"{_format_number(value)}元"
        return value

    @model_validator(mode="after")
    def _promise_within_law(self) -> Matter:
        if self.promised_days > self.legal_days:
            raise ValueError(
                f"promised_days ({self.promised_days}) is longer than legal_days ({self.legal_days})"
            )
        if len(set(self.materials)) != len(self.materials):
            raise ValueError("materials lists the same material twice")
        return self


_OPERATORS = ("equals", "one_of", "gt", "gte", "lt", "lte")


class Condition(_Model):
    question: Identifier | None = None
    equals: bool | int | float | str | None = None
    one_of: list[Identifier] | None = None
    gt: int | float | None = None
    gte: int | float | None = None
    lt: int | float | None = None
    lte: int | float | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        operators = [name for name in _OPERATORS if getattr(self, name) is not None]
        groups = [name for name in ("all", "any") if getattr(self, name) is not None]
        if groups:
            if len(groups) > 1 or self.question is not None or operators:
                raise ValueError(
                    "a condition is either {all: [...]}, {any: [...]} or {question: ..., <operator>: ...}"
                )
            if not (self.all or self.any):
                raise ValueError(f"'{groups[0]}' needs at least one condition")
        elif self.question is None or len(operators) != 1:
            raise ValueError(f"a condition needs 'question' and exactly one of {', '.join(_OPERATORS)}")
        return self

    def question_ids(self) -> Iterator[str]:
        if self.question is not None:
            yield self.question
        for part in (self.all or []) + (self.any or []):
            yield from part.question_ids()

    def holds(self, answers: Mapping[str, AnswerValue]) -> bool:
        if self.all is not None:
            return all(part.holds(answers) for part in self.all)
        if self.any is not None:
            return any(part.holds(answers) for part in self.any)
        value = answers.get(self.question or "")
        if value is None:
            return False
        if self.equals is not None:
            return _same_answer(value, self.equals)
        if self.one_of is not None:
            return value in self.one_of
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.gt is not None:
            return value > self.gt
        if self.gte is not None:
            return value >= self.gte
        if self.lt is not None:
            return value < self.lt
        return self.lte is not None and value <= self.lte


class Option(_Model):
    id: Identifier
    label: Text


class Question(_Model):
    id: Identifier
    text: Text
    type: Literal["bool", "choice", "number"]
    help: str = ""
    options: list[Option] = Field(default_factory=list)
    unit: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    ask_if: Condition | None = None  # asked only once an earlier answer makes it relevant

    @model_validator(mode="after")
    def _fits_type(self) -> Question:
        if self.type == "choice":
            if len(self.options) < 2:
                raise ValueError("a choice question needs at least two options")
            if len({o.id for o in self.options}) != len(self.options):
                raise ValueError("two options share an id")
            if len({o.label for o in self.options}) != len(self.options):
                raise ValueError("two options share a label")
        elif self.options:
            raise ValueError(f"only choice questions have options, this one is '{self.type}'")
        if self.type != "number" and (self.unit is not None or self.min is not None or self.max is not None):
            raise ValueError("unit, min and max belong to number questions")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Rule(_Model):
    when: Condition
    reason: Text  # shown to the applicant next to what the rule added, or as a notice
    add_matters: list[Identifier] = Field(default_factory=list)
    remove_matters: list[Identifier] = Field(default_factory=list)
    add_materials: list[Identifier] = Field(default_factory=list)
    remove_materials: list[Identifier] = Field(default_factory=list)
    replace_materials: dict[Identifier, list[Identifier]] = Field(default_factory=dict)
    for_matters: list[Identifier] | None = None  # which matters add/remove_materials apply to; None = all

    @property
    def has_effects(self) -> bool:
        return bool(
            self.add_matters
            or self.remove_matters
            or self.add_materials
            or self.remove_materials
            or self.replace_materials
        )


class Package(_Model):
    id: Identifier
    name: Text
    industry: Text
    aliases: list[Text] = Field(default_factory=list)
    summary: Text
    source: str = ""  # the policy document and row it comes from
    matters: list[Identifier]
    questions: list[Question]  # in the order they are asked
    preset_answers: dict[Identifier, AnswerValue] = Field(default_factory=dict)  # facts the package fixes
    rules: list[Rule]  # shared rules that apply to this package, then its own


class ChecklistLicence(_Model):
    matter_id: str
    matter_name: str
    licence_name: str
    department_id: str
    department_name: str
    legal_days: int
    promised_days: int
    fee: str
    registration_first: bool
    commitment_allowed: bool
    reason: str


class ChecklistMaterial(_Model):
    material_id: str
    name: str
    description: str
    key: bool
    commitment_covers: bool  # true only when every matter needing it accepts 告知承诺
    needed_by: list[str]  # matter ids
    reasons: list[str]  # why rules added it; empty for a matter's standing materials


class Checklist(_Model):
    package_id: str
    package_name: str
    licences: list[ChecklistLicence]
    materials: list[ChecklistMaterial]
    unanswered: list[Question]
    notices: list[str]  # reasons of rules that removed something or only inform
    promised_days: int  # registration's promise, then the longest of the others (see `overall_days`)
    legal_days: int
    answers: dict[str, AnswerValue]  # normalised, applicable answers (package presets included)


def overall_days(steps: Iterable[tuple[bool, int]]) -> int:
    """Working days for a set of matters given as (registration_first, days). The other departments start
    once registration's result is shared with them (linyi-2018-188 §三(二)), then work in parallel: the whole
    takes registration's days plus the longest of the rest, not the longest of all."""
    steps = list(steps)
    first = max((days for is_first, days in steps if is_first), default=0)
    rest = max((days for is_first, days in steps if not is_first), default=0)
    return first + rest


# --- the catalog ------------------------------------------------------------------------------------------


class Catalog(_Model):
    departments: dict[str, Department]
    matters: dict[str, Matter]
    materials: dict[str, Material]
    questions: dict[str, Question]
    packages: dict[str, Package]

    def package(self, package_id: str) -> Package:
        try:
            return self.packages[package_id]
        except KeyError:
            raise UnknownPackage(package_id) from None

    def find_package(self, text: str) -> Package | None:
        """By id, name or alias; inside a sentence the longest name found wins ("我想开个火锅店")."""
        wanted = _search_key(text)
        if not wanted:
            return None
        names = self._names()
        if wanted in names:
            return self.packages[names[wanted]]
        for name in sorted(names, key=len, reverse=True):
            if len(name) >= 2 and name in wanted:
                return self.packages[names[name]]
        return None

    def annex_ref(self, package_id: str) -> str | None:
        """The package's own row of Annex 1 as a passage ref ("linyi-2018-188#a1-13"), where its list of
        licences comes from; not 营业执照's (every package has that one, and it has no row)."""
        rows = [
            row
            for matter_id in self.package(package_id).matters
            if (row := self.matters[matter_id].annex_row) is not None
        ]
        return f"{ANNEX_DOC}#{annex_passage(min(rows))}" if rows else None

    def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for package in self.packages.values():
            for name in (package.id, package.name, *package.aliases):
                names.setdefault(_search_key(name), package.id)
        return names

    def checklist(self, package_id: str, answers: Mapping[str, object]) -> Checklist:
        package = self.package(package_id)
        given = _normalise_answers(package, answers, self.questions)
        active: dict[str, AnswerValue] = dict(package.preset_answers)
        unanswered: list[Question] = []
        # ask_if only looks at earlier questions (checked at load), so one pass in order settles relevance.
        for question in package.questions:
            if question.ask_if is not None and not question.ask_if.holds(active):
                continue
            if question.id in given:
                active[question.id] = given[question.id]
            else:
                unanswered.append(question)
        fired = [
            (rule, _render(rule.reason, active, self.questions))
            for rule in package.rules
            if rule.when.holds(active)
        ]

        licences = self._licences(package, fired)
        selected = [licence.matter_id for licence in licences]
        materials = self._materials(selected, fired)
        return Checklist(
            package_id=package.id,
            package_name=package.name,
            licences=licences,
            materials=materials,
            unanswered=unanswered,
            notices=self._notices(package, fired, licences, materials),
            promised_days=overall_days((lic.registration_first, lic.promised_days) for lic in licences),
            legal_days=overall_days((lic.registration_first, lic.legal_days) for lic in licences),
            answers=active,
        )

    @staticmethod
    def _notices(
        package: Package,
        fired: Sequence[tuple[Rule, str]],
        licences: Sequence[ChecklistLicence],
        materials: Sequence[ChecklistMaterial],
    ) -> list[str]:
        """Reasons the applicant would otherwise never see: pure notices, and rules that only took a licence
        away (a rule that also adds shows its reason there, or was overridden and says nothing true)."""
        shown = {licence.reason for licence in licences} | {r for m in materials for r in m.reasons}
        candidates = set(package.matters).union(*(rule.add_matters for rule, _ in fired))
        adds = ("add_matters", "add_materials", "replace_materials")
        return list(
            dict.fromkeys(
                reason
                for rule, reason in fired
                if reason not in shown
                and (
                    not rule.has_effects
                    or (set(rule.remove_matters) & candidates and not any(getattr(rule, a) for a in adds))
                )
            )
        )

    def _licences(self, package: Package, fired: Sequence[tuple[Rule, str]]) -> list[ChecklistLicence]:
        reasons: dict[str, str] = {}
        for matter_id in package.matters:
            matter = self.matters[matter_id]
            reasons[matter_id] = (
                "先办营业执照：登记信息共享给各审批部门，其他许可随后并行审批"
                if matter.registration_first
                else f"从事{package.industry}须取得{matter.licence_name}"
            )
        removed: set[str] = set()
        for rule, reason in fired:
            for matter_id in rule.add_matters:
                reasons.setdefault(matter_id, reason)
            removed.update(rule.remove_matters)
        chosen = [self.matters[m] for m in reasons if m not in removed]
        # Registration comes first in the list as in the procedure (linyi-2018-188 §三(二)).
        chosen.sort(key=lambda matter: not matter.registration_first)
        return [
            ChecklistLicence(
                matter_id=m.id,
                matter_name=m.name,
                licence_name=m.licence_name,
                department_id=m.department_id,
                department_name=self.departments[m.department_id].name,
                legal_days=m.legal_days,
                promised_days=m.promised_days,
                fee=m.fee,
                registration_first=m.registration_first,
                commitment_allowed=m.commitment_allowed,
                reason=reasons[m.id],
            )
            for m in chosen
        ]

    def _materials(
        self, selected: Sequence[str], fired: Sequence[tuple[Rule, str]]
    ) -> list[ChecklistMaterial]:
        holders: dict[str, dict[str, None]] = {}  # material -> matters needing it, in first-seen order
        position: dict[str, float] = {}  # where the material is listed
        why: list[tuple[str, str, str]] = []  # (material, matter, reason) added by rules
        dropped: set[tuple[str, str]] = set()

        def attach(
            material_id: str, matter_id: str, reason: str | None = None, *, at: float | None = None
        ) -> None:
            position.setdefault(material_id, len(position) if at is None else at)
            holders.setdefault(material_id, {})[matter_id] = None
            if reason is not None:
                why.append((material_id, matter_id, reason))

        def targets(rule: Rule) -> list[str]:
            return [m for m in selected if rule.for_matters is None or m in rule.for_matters]

        for matter_id in selected:
            for material_id in self.matters[matter_id].materials:
                attach(material_id, matter_id)
        for rule, reason in fired:
            for material_id in rule.add_materials:
                for matter_id in targets(rule):
                    attach(material_id, matter_id, reason)
        for rule, reason in fired:
            for old, new in rule.replace_materials.items():
                for matter_id in list(holders.get(old, {})):
                    dropped.add((old, matter_id))
                    # The replacement takes the replaced material's place in the list.
                    for offset, material_id in enumerate(new, start=1):
                        attach(material_id, matter_id, reason, at=position[old] + offset / (len(new) + 1))
        for rule, _ in fired:
            for material_id in rule.remove_materials:
                dropped.update((material_id, matter_id) for matter_id in targets(rule))

        items = []
        for material_id, matters in sorted(holders.items(), key=lambda item: position[item[0]]):
            needed_by = [m for m in selected if m in matters and (material_id, m) not in dropped]
            if not needed_by:
                continue
            material = self.materials[material_id]
            reasons = dict.fromkeys(r for mat, m, r in why if mat == material_id and (mat, m) not in dropped)
            items.append(
                ChecklistMaterial(
                    material_id=material_id,
                    name=material.name,
                    description=material.description,
                    key=material.key,
                    commitment_covers=material.commitment_covers
                    and all(self.matters[m].commitment_allowed for m in needed_by),
                    needed_by=needed_by,
                    reasons=list(reasons),
                )
            )
        return items


# --- answers ----------------------------------------------------------------------------------------------

_YES = {"true", "yes", "y", "1", "是", "是的", "有", "有的", "对", "要", "需要", "会"}
_NO = {"false", "no", "n", "0", "否", "不是", "没有", "没", "无", "不", "不要", "不需要", "不会"}
_UNIT_WORDS = ("平方米", "平米", "m2", "人", "名", "个", "辆", "台")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _normalise_answers(
    package: Package, answers: Mapping[str, object], questions: Mapping[str, Question]
) -> dict[str, AnswerValue]:
    asked = {q.id: q for q in package.questions}
    result: dict[str, AnswerValue] = {}
    for field, value in answers.items():
        if value is None:  # an explicit null clears an answer
            continue
        if field in package.preset_answers:
            # Clients may echo back the checklist's answers, presets included: the same value is fine.
            question = questions[field]
            if normalise_answer(question, value) != package.preset_answers[field]:
                fixed = _display(package.preset_answers[field], question)
                raise InvalidAnswer(field, f"“{package.name}”只能选择“{fixed}”")
            continue
        if field not in asked:
            raise InvalidAnswer(field, f"“{package.name}”没有这个问题：{field}")
        result[field] = normalise_answer(asked[field], value)
    return result


def normalise_answer(question: Question, value: object) -> AnswerValue:
    """The answer as the catalog stores it, or InvalidAnswer with a message for the applicant."""
    if question.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = unicodedata.normalize("NFKC", value).strip().lower()
            if text in _YES:
                return True
            if text in _NO:
                return False
        raise InvalidAnswer(question.id, "请回答“是”或“否”")
    if question.type == "number":
        number = _parse_number(value, question.unit)
        unit = question.unit or ""
        if number is None:
            raise InvalidAnswer(question.id, f"请填写一个数字{f'（单位：{unit}）' if unit else ''}")
        low, high = question.min, question.max
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                bounds = f"{_format_number(low)}到{_format_number(high)}{unit}之间"
            elif low is not None:
                bounds = f"不小于{_format_number(low)}{unit}"
            else:
                bounds = f"不大于{_format_number(high or 0)}{unit}"
            raise InvalidAnswer(question.id, f"请填写{bounds}的数字")
        return int(number) if number.is_integer() else number
    if isinstance(value, str):
        text = value.strip()
        for option in question.options:
            if text in (option.id, option.label):
                return option.id
    labels = "、".join(option.label for option in question.options)
    raise InvalidAnswer(question.id, f"请从以下选项中选择：{labels}")


def _parse_number(value: object, unit: str | None) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = re.sub(r"[\s,]", "", unicodedata.normalize("NFKC", value))
    text = text.removeprefix("大约").removeprefix("大概").removeprefix("约")
    suffixes = sorted({unicodedata.normalize("NFKC", unit or ""), *_UNIT_WORDS} - {""}, key=len, reverse=True)
    for suffix in suffixes:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    return float(text) if _NUMBER.fullmatch(text) else None


def _same_answer(value: AnswerValue, expected: AnswerValue) -> bool:
    # In Python True == 1; a yes/no answer must never match a number (or the reverse).
    return isinstance(value, bool) == isinstance(expected, bool) and value == expected


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _display(value: AnswerValue, question: Question | None) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return _format_number(value)
    if question is not None:
        for option in question.options:
            if option.id == value:
                return option.label
    return value


def _render(reason: str, answers: Mapping[str, AnswerValue], questions: Mapping[str, Question]) -> str:
    def value(match: re.Match[str]) -> str:
        answer = answers.get(match.group(1))
        return "—" if answer is None else _display(answer, questions.get(match.group(1)))

    return _PLACEHOLDER.sub(value, reason)


def _search_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


# --- loading ----------------------------------------------------------------------------------------------


class _DepartmentsFile(_Model):
    departments: list[Department]


class _MaterialsFile(_Model):
    materials: list[Material]


class _MattersFile(_Model):
    matters: list[Matter]


class _QuestionsFile(_Model):
    questions: list[Question]
    # Shared rules apply to every package that asks (or presets) all of their questions.
    rules: list[Rule] = Field(default_factory=list)


class _PackageSpec(_Model):
    id: Identifier
    name: Text
    industry: Text
    aliases: list[Text] = Field(default_factory=list)
    summary: Text
    source: str = ""
    matters: list[Identifier] = Field(min_length=1)
    questions: list[Identifier] = Field(default_factory=list)
    preset_answers: dict[Identifier, AnswerValue] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)


class _PackagesFile(_Model):
    packages: list[_PackageSpec]


# How a list in a file names its entries in error messages: list key -> (entry kind, identifying field).
_ENTRIES = {
    "departments": ("department", "id"),
    "materials": ("material", "id"),
    "matters": ("matter", "id"),
    "questions": ("question", "id"),
    "rules": ("rule", None),
    "packages": ("package", "id"),
    "years": ("year", "year"),
}
_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class _Site:
    """Where a problem is, for the message: a file and, inside it, an entry."""

    path: Path
    entry: str | None = None

    def at(self, entry: str) -> _Site:
        return _Site(self.path, f"{self.entry}: {entry}" if self.entry else entry)

    def fail(self, problem: str) -> NoReturn:
        where = f"{self.path}: {self.entry}" if self.entry else str(self.path)
        raise CatalogError(f"{where}: {problem}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; in an edited catalog that hides a mistake."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' appears twice in the same mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
# Dates stay text for pydantic to parse: PyYAML raises a bare ValueError, without a location, on 2025-13-01.
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot be read: {exc}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, ValueError) as exc:
        raise CatalogError(f"{path}: invalid YAML: {exc}") from None


def _parse(path: Path, model: type[_M]) -> _M:
    raw = _read(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError("\n".join(_describe(path, raw, error) for error in exc.errors())) from None


def _describe(path: Path, raw: object, error: Mapping[str, Any]) -> str:
    loc = list(error["loc"])
    site = _Site(path)
    node = raw
    while len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int) and loc[0] in _ENTRIES:
        kind, id_field = _ENTRIES[loc[0]]
        items = node.get(loc[0]) if isinstance(node, dict) else None
        node = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        ident = node.get(id_field) if id_field and isinstance(node, dict) else None
        name = f"'{ident}'" if isinstance(ident, str) else ident if isinstance(ident, int) else loc[1] + 1
        site = site.at(f"{kind} {name}")
        loc = loc[2:]
    message = str(error["msg"]).removeprefix("Value error, ")
    field = ".".join(str(part) for part in loc)
    problem = f"{field}: {message}" if field else message
    return f"{site.path}: {site.entry}: {problem}" if site.entry else f"{site.path}: {problem}"


def _unique(site: _Site, kind: str, items: Sequence[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in items:
        if item.id in result:
            site.at(f"{kind} '{item.id}'").fail("duplicate id")
        result[item.id] = item
    return result


def load_catalog(directory: Path) -> Catalog:
    """Read and check every catalog file under `directory`; raise CatalogError on the first problem."""
    paths = {
        name: directory / name
        for name in (DEPARTMENTS_FILE, MATERIALS_FILE, MATTERS_FILE, QUESTIONS_FILE, PACKAGES_FILE)
    }
    departments = _unique(
        _Site(paths[DEPARTMENTS_FILE]),
        "department",
        _parse(paths[DEPARTMENTS_FILE], _DepartmentsFile).departments,
    )
    materials = _unique(
        _Site(paths[MATERIALS_FILE]), "material", _parse(paths[MATERIALS_FILE], _MaterialsFile).materials
    )
    matters = _unique(_Site(paths[MATTERS_FILE]), "matter", _parse(paths[MATTERS_FILE], _MattersFile).matters)
    question_file = _parse(paths[QUESTIONS_FILE], _QuestionsFile)
    questions = _unique(_Site(paths[QUESTIONS_FILE]), "question", question_file.questions)
    specs = _parse(paths[PACKAGES_FILE], _PackagesFile).packages
    _unique(_Site(paths[PACKAGES_FILE]), "package", specs)

    linker = _Linker(departments, materials, matters, questions)
    linker.check_materials(_Site(paths[MATERIALS_FILE]))
    linker.check_matters(_Site(paths[MATTERS_FILE]))
    linker.check_questions(_Site(paths[QUESTIONS_FILE]))
    for number, rule in enumerate(question_file.rules, start=1):
        linker.check_rule(_Site(paths[QUESTIONS_FILE], f"rule {number}"), rule, questions)
    packages = {
        spec.id: linker.package(
            _Site(paths[PACKAGES_FILE], f"package '{spec.id}'"), spec, question_file.rules
        )
        for spec in specs
    }
    linker.check_names(_Site(paths[PACKAGES_FILE]), packages)
    return Catalog(
        departments=departments, matters=matters, materials=materials, questions=questions, packages=packages
    )


@dataclass(frozen=True)
class _Linker:
    """Cross-reference checks, once every file has parsed on its own."""

    departments: Mapping[str, Department]
    materials: Mapping[str, Material]
    matters: Mapping[str, Matter]
    questions: Mapping[str, Question]

    def check_materials(self, site: _Site) -> None:
        names: dict[str, str] = {}
        for material in self.materials.values():
            if material.name in names:
                # One document, one id: otherwise the checklist asks for it twice.
                site.at(f"material '{material.id}'").fail(
                    f"name '{material.name}' is already used by material '{names[material.name]}'; "
                    "a material shared by several matters must have one id"
                )
            names[material.name] = material.id

    def check_matters(self, site: _Site) -> None:
        for matter in self.matters.values():
            here = site.at(f"matter '{matter.id}'")
            if matter.department_id not in self.departments:
                here.fail(f"department '{matter.department_id}' is not defined in {DEPARTMENTS_FILE}")
            for material_id in matter.materials:
                self._material(here, material_id)

    def check_questions(self, site: _Site) -> None:
        for question in self.questions.values():
            if question.ask_if is not None:
                here = site.at(f"question '{question.id}'")
                if question.id in question.ask_if.question_ids():
                    here.fail("ask_if refers to the question itself")
                self._condition(here.at("ask_if"), question.ask_if, self.questions)
        self._check_ask_if_loops(site)

    def _check_ask_if_loops(self, site: _Site) -> None:
        done: set[str] = set()

        def visit(question_id: str, path: list[str]) -> None:
            if question_id in path:
                loop = " → ".join(f"'{q}'" for q in [*path[path.index(question_id) :], question_id])
                site.at(f"question '{question_id}'").fail(f"ask_if loop: {loop}")
            if question_id in done:
                return
            condition = self.questions[question_id].ask_if
            for parent in condition.question_ids() if condition else ():
                visit(parent, [*path, question_id])
            done.add(question_id)

        for question_id in self.questions:
            visit(question_id, [])

    def check_rule(self, site: _Site, rule: Rule, available: Mapping[str, Question]) -> None:
        self._condition(site.at("when"), rule.when, available)
        for matter_id in (*rule.add_matters, *rule.remove_matters, *(rule.for_matters or ())):
            self._matter(site, matter_id)
        for material_id in (*rule.add_materials, *rule.remove_materials):
            self._material(site, material_id)
        for old, new in rule.replace_materials.items():
            for material_id in (old, *new):
                self._material(site, material_id)
            if not new:
                site.fail(f"replace_materials: '{old}' is replaced by nothing; use remove_materials")
        if rule.for_matters is not None and not (rule.add_materials or rule.remove_materials):
            site.fail("for_matters only applies to add_materials and remove_materials")
        used = set(rule.when.question_ids())
        for name in _PLACEHOLDER.findall(rule.reason):
            if name not in used:
                site.fail(f"reason refers to '{{{name}}}', which the rule's condition does not ask about")

    def package(self, site: _Site, spec: _PackageSpec, shared_rules: Sequence[Rule]) -> Package:
        for matter_id in spec.matters:
            self._matter(site, matter_id)
        if len(set(spec.matters)) != len(spec.matters):
            site.fail("matters lists the same matter twice")
        if not any(self.matters[m].registration_first for m in spec.matters):
            site.fail(
                "every package must include business registration (a matter with registration_first: true)"
            )
        if len(set(spec.questions)) != len(spec.questions):
            site.fail("questions lists the same question twice")
        presets: dict[str, AnswerValue] = {}
        for question_id, value in spec.preset_answers.items():
            question = self._question(site.at("preset_answers"), question_id)
            if question_id in spec.questions:
                site.fail(f"question '{question_id}' is both asked and preset")
            try:
                presets[question_id] = normalise_answer(question, value)
            except InvalidAnswer as exc:
                site.at("preset_answers").fail(f"'{question_id}': {exc.message}")
        asked: dict[str, Question] = {q: self.questions[q] for q in presets}
        ordered: list[Question] = []
        for question_id in spec.questions:
            question = self._question(site.at("questions"), question_id)
            for parent in question.ask_if.question_ids() if question.ask_if else ():
                if parent not in asked:
                    site.fail(
                        f"question '{question_id}' is asked only depending on '{parent}', "
                        "which the package does not ask before it"
                    )
            asked[question_id] = question
            ordered.append(question)
        for number, rule in enumerate(spec.rules, start=1):
            self.check_rule(site.at(f"rule {number}"), rule, asked)
        registration = {m for m in self.matters if self.matters[m].registration_first}
        rules = [rule for rule in shared_rules if set(rule.when.question_ids()) <= asked.keys()] + spec.rules
        for rule in rules:
            if set(rule.remove_matters) & registration:
                site.fail("a rule may not remove business registration: every package includes it")
        return Package(
            id=spec.id,
            name=spec.name,
            industry=spec.industry,
            aliases=spec.aliases,
            summary=spec.summary,
            source=spec.source,
            matters=spec.matters,
            questions=ordered,
            preset_answers=presets,
            rules=rules,
        )

    def check_names(self, site: _Site, packages: Mapping[str, Package]) -> None:
        owners: dict[str, str] = {}
        for package in packages.values():
            for name in dict.fromkeys((package.id, package.name, *package.aliases)):
                key = _search_key(name)
                if owners.get(key, package.id) != package.id:
                    site.at(f"package '{package.id}'").fail(
                        f"name or alias '{name}' is already used by package '{owners[key]}'"
                    )
                owners[key] = package.id

    def _condition(self, site: _Site, condition: Condition, available: Mapping[str, Question]) -> None:
        for part in (condition.all or []) + (condition.any or []):
            self._condition(site, part, available)
        if condition.question is None:
            return
        question = available.get(condition.question)
        if question is None:
            where = (
                "the package does not ask it"
                if condition.question in self.questions
                else f"it is not defined in {QUESTIONS_FILE}"
            )
            site.fail(f"refers to question '{condition.question}', but {where}")
        if question.type == "bool":
            if not isinstance(condition.equals, bool):
                site.fail(
                    f"question '{question.id}' is answered yes or no: use 'equals: true' or 'equals: false'"
                )
        elif question.type == "choice":
            values = [condition.equals] if condition.equals is not None else condition.one_of
            if values is None:
                site.fail(f"question '{question.id}' is a choice: use 'equals' or 'one_of'")
            options = [o.id for o in question.options]
            for value in values:
                if value not in options:
                    site.fail(
                        f"'{value}' is not an option of question '{question.id}' "
                        f"(options: {', '.join(options)})"
                    )
        elif condition.one_of is not None or isinstance(condition.equals, bool | str):
            site.fail(f"question '{question.id}' is a number: use equals, gt, gte, lt or lte with a number")

    def _matter(self, site: _Site, matter_id: str) -> Matter:
        if matter_id not in self.matters:
            site.fail(f"matter '{matter_id}' is not defined in {MATTERS_FILE}")
        return self.matters[matter_id]

    def _material(self, site: _Site, material_id: str) -> Material:
        if material_id not in self.materials:
            site.fail(f"material '{material_id}' is not defined in {MATERIALS_FILE}")
        return self.materials[material_id]

    def _question(self, site: _Site, question_id: str) -> Question:
        if question_id not in self.questions:
            site.fail(f"question '{question_id}' is not defined in {QUESTIONS_FILE}")
        return self.questions[question_id]


# --- working days -----------------------------------------------------------------------------------------


class HolidayCalendar(_Model):
    """Public holidays and adjusted working days (调休上班) published by the State Council each year."""

    holidays: dict[date, str]
    working_days: dict[date, str]  # weekend days that are working days, with the holiday they make up for
    years: list[int]
    provisional_years: list[int]  # estimated before the State Council's notice; replace when it is out

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (counting starts the next day; 0 = `start` itself).

        Years the file does not cover fall back to plain weekends, so a due date is always produced."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def holiday_name(self, day: date) -> str | None:
        return self.holidays.get(day)


class _HolidaySpec(_Model):
    name: Text
    start: date
    end: date | None = None
    working_days: list[date] = Field(default_factory=list)


class _YearSpec(_Model):
    year: int = Field(ge=2000, le=2100)
    source: str = ""
    provisional: bool = False  # not yet published: an estimate to replace when the notice comes out
    holidays: list[_HolidaySpec]


class _HolidaysFile(_Model):
    years: list[_YearSpec]


def load_holidays(path: Path) -> HolidayCalendar:
    spec = _parse(path, _HolidaysFile)
    holidays: dict[date, str] = {}
    working: dict[date, str] = {}
    years: list[int] = []
    provisional = [year.year for year in spec.years if year.provisional]
    for year in spec.years:
        site = _Site(path, f"year {year.year}")
        if year.year in years:
            site.fail("the year is listed twice")
        years.append(year.year)
        for holiday in year.holidays:
            here = site.at(f"holiday '{holiday.name}'")
            end = holiday.end or holiday.start
            if end < holiday.start:
                here.fail(f"end {end} is before start {holiday.start}")
            if (end - holiday.start).days > 14:
                here.fail(f"{holiday.start} to {end} is longer than any public holiday")
            day = holiday.start
            while day <= end:
                if day in holidays:
                    here.fail(f"{day} is already a holiday ({holidays[day]})")
                holidays[day] = holiday.name
                day += timedelta(days=1)
            for day in holiday.working_days:
                if day.weekday() < 5:
                    here.fail(f"working day {day} is not a Saturday or Sunday, so it adjusts nothing")
                working[day] = holiday.name
    clash = sorted(set(holidays) & set(working))
    if clash:
        _Site(path).fail(f"{clash[0]} is both a holiday and an adjusted working day")
    return HolidayCalendar(
        holidays=holidays,
        working_days=working,
        years=sorted(years),
        provisional_years=sorted(set(provisional)),
    )
