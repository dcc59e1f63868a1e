"""Measuring the policy search against the labelled set tests/backend/policy_eval.yaml (used by
scripts/policy_eval.py and by the tests that guard against regressions)."""

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backend.policies.search import FIRST, PolicyIndex

# The file's sections, in the order they were written: the root was tuned on; each holdout block was
# written before a round of search changes and is reported on its own (see the file's header).
TUNED = "tuned"
SECTIONS = {
    "holdout": "holdout-1",
    "holdout_2": "holdout-2",
    "holdout_3": "holdout-3",
    "holdout_4": "holdout-4",
    "holdout_5": "holdout-5",
    "holdout_6": "holdout-6",
    "holdout_7": "holdout-7",
    "holdout_8": "holdout-8",
    "holdout_9": "holdout-9",
    "holdout_10": "holdout-10",
    "holdout_11": "holdout-11",
    "holdout_12": "holdout-12",
    "holdout_13": "holdout-13",
    "holdout_14": "holdout-14",
    "holdout_15": "holdout-15",
    "holdout_16": "holdout-16",
    "holdout_17": "holdout-17",
    "holdout_18": "holdout-18",
    "holdout_19": "holdout-19",
    "holdout_20": "holdout-20",
}


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    answers: frozenset[str]
    part: str = TUNED


@dataclass(frozen=True)
class EvalSet:
    questions: tuple[EvalQuestion, ...]
    # (question, part)
    out_of_scope: tuple[tuple[str, str], ...]

    @classmethod
    def load(cls, path: Path) -> "EvalSet":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        unknown = set(raw) - {"questions", "out_of_scope", *SECTIONS}
        if unknown:
            raise ValueError(f"{path}: unknown sections {sorted(unknown)}")
        sections: list[tuple[dict[str, Any], str]] = [(raw, TUNED)]
        sections += [(raw.get(key) or {}, part) for key, part in SECTIONS.items()]
        questions = [
            EvalQuestion(str(item["q"]), frozenset(item["answers"]), part)
            for section, part in sections
            for item in section.get("questions") or []
        ]
        out_of_scope = [
            (str(q), part) for section, part in sections for q in section.get("out_of_scope") or []
        ]
        return cls(tuple(questions), tuple(out_of_scope))

    @property
    def parts(self) -> list[str]:
        """The part names in file order (tuned first), only those with questions."""
        names = [TUNED, *SECTIONS.values()]
        present = {q.part for q in self.questions} | {part for _, part in self.out_of_scope}
        return [name for name in names if name in present]

    def part(self, name: str) -> "EvalSet":
        return EvalSet(
            tuple(q for q in self.questions if q.part == name),
            tuple(item for item in self.out_of_scope if item[1] == name),
        )

    def refs(self) -> set[str]:
        return {ref for q in self.questions for ref in q.answers}


@dataclass
class EvalReport:
    threshold: float
    questions: int
    out_of_scope: int
    top1: float
    top3: float
    rejected: float
    misses: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"top-1 {self.top1:.3f}  top-3 {self.top3:.3f}  out-of-scope rejected {self.rejected:.3f}  "
            f"({self.questions} questions, {self.out_of_scope} out of scope, threshold {self.threshold:.2f})"
        )


def evaluate(index: PolicyIndex, eval_set: EvalSet, threshold: float | None = None) -> EvalReport:
    """Top-1/top-3: the first (three) results the search gives (PolicyIndex.search: the first passes the
    threshold, the two after it a lower bar) include a labelled answer; an in-scope question that finds
    nothing counts as wrong. Rejected: an out-of-scope question finds nothing."""
    threshold = index.threshold if threshold is None else threshold
    top1 = top3 = rejected = 0
    misses: list[str] = []
    for question in eval_set.questions:
        ranked = _first_three(index, question.q, threshold)
        first = [ref for ref, _ in ranked]
        top1 += bool(first) and first[0] in question.answers
        top3 += bool(question.answers.intersection(first))
        if not first or first[0] not in question.answers:
            got = ", ".join(f"{ref} {score:.2f}" for ref, score in ranked) or "nothing"
            misses.append(f"miss      {question.q} → {got}  (want {', '.join(sorted(question.answers))})")
    for q, _ in eval_set.out_of_scope:
        answered = _answered(index, q, threshold)
        if answered is None:
            rejected += 1
        else:
            misses.append(f"answered  {q} → {answered[0]} {answered[1]:.2f}  (out of scope)")
    n, m = len(eval_set.questions), len(eval_set.out_of_scope)
    return EvalReport(threshold, n, m, top1 / max(n, 1), top3 / max(n, 1), rejected / max(m, 1), misses)


def _first_three(
    index: PolicyIndex, q: str, threshold: float, margin: float = 0.0
) -> list[tuple[str, float]]:
    """The first three results, as PolicyIndex.search gives them (held to `threshold`)."""
    return index.answer_refs(q, threshold, margin)[:FIRST]


def _answered(index: PolicyIndex, q: str, threshold: float, margin: float = 0.0) -> tuple[str, float] | None:
    """What the search answers with (the first of its first three results), None when it finds nothing."""
    first = _first_three(index, q, threshold, margin)
    return first[0] if first else None


# --- the product's figures: NLU and search together -------------------------------------------------------

# NLU's readings that turn a message away unless the product puts it to the search anyway (a question NLU
# was unsure of); a message neither searched nor turned away goes to another skill.
TURNED_AWAY = frozenset({"out_of_scope", "nlu_fallback"})


@dataclass(frozen=True)
class Route:
    intent: str
    # Whether the product puts the message to the search (actions/policy.py `search_margin`).
    searched: bool
    # Else the catalog package whose licences it lists (action_list_licences), if it lists any.
    package: str | None = None
    # How far the search's first answer must clear its threshold (NLU sure it is out of scope).
    margin: float = 0.0


@dataclass(frozen=True)
class Routes:
    """The trained model's reading of each eval question (scripts/policy_routes.py writes the file)."""

    routes: dict[str, Route]
    # Questions that are NLU training examples word for word: their reading says nothing about a new one.
    in_training_data: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path) -> "Routes":
        raw = json.loads(path.read_text(encoding="utf-8"))
        routes = {
            text: Route(
                str(route["intent"]),
                bool(route["searched"]),
                route.get("package"),
                float(route.get("margin", 0)),
            )
            for text, route in raw["routes"].items()
        }
        return cls(routes, frozenset(raw.get("in_training_data") or ()))

    def route(self, text: str) -> Route:
        try:
            return self.routes[text]
        except KeyError:
            raise KeyError(f"no NLU route for {text!r}: the routes file is older than the eval set") from None

    def without_trained(self, eval_set: EvalSet) -> EvalSet:
        return EvalSet(
            tuple(q for q in eval_set.questions if q.q not in self.in_training_data),
            tuple(item for item in eval_set.out_of_scope if item[0] not in self.in_training_data),
        )


@dataclass
class ProductReport:
    questions: int
    out_of_scope: int
    # In-scope: routed to the search and answered right at the first (first three) result.
    top1: float
    top3: float
    # In-scope questions by where NLU sent them: the search, turned away, another skill (by intent).
    to_search: int
    turned_away: int
    other_skills: Counter[str]
    # Out-of-scope questions not answered from the documents, and by whom they were stopped.
    rejected: float
    stopped_by: Counter[str]
    # In-scope questions answered with an industry's licences from the catalog, and how many of those cite
    # a labelled answer (its row of Annex 1); they are part of other_skills and count in top1/top3.
    from_catalog: int = 0
    catalog_right: int = 0

    def summary(self) -> str:
        others = ", ".join(f"{intent} {n}" for intent, n in self.other_skills.most_common()) or "none"
        stops = ", ".join(f"{who} {n}" for who, n in self.stopped_by.most_common()) or "none"
        return (
            f"top-1 {self.top1:.3f}  top-3 {self.top3:.3f}  out-of-scope rejected {self.rejected:.3f}  "
            f"({self.questions} / {self.out_of_scope}; in-scope to the search {self.to_search}, turned away "
            f"by NLU {self.turned_away}, other skills: {others}; catalog answers {self.from_catalog}, "
            f"{self.catalog_right} citing a labelled row; out-of-scope stopped by: {stops})"
        )


def evaluate_product(
    index: PolicyIndex,
    eval_set: EvalSet,
    routes: Routes,
    threshold: float | None = None,
    cited: Mapping[str, str | None] | None = None,
) -> ProductReport:
    """The figures an applicant meets: a question counts as answered right when the product puts it to the
    search and the search answers it right, or lists an industry's licences citing a labelled passage
    (`cited`: package id → the passage its list cites, its row of Annex 1). An out-of-scope question is
    rejected when NLU turns it away, sends it to a skill that does not answer from the documents, or the
    search finds nothing."""
    threshold = index.threshold if threshold is None else threshold
    cited = cited or {}
    top1 = top3 = to_search = turned_away = rejected = from_catalog = catalog_right = 0
    other_skills: Counter[str] = Counter()
    stopped_by: Counter[str] = Counter()
    for question in eval_set.questions:
        route = routes.route(question.q)
        if not route.searched:
            if route.intent in TURNED_AWAY:
                turned_away += 1
            else:
                other_skills[route.intent] += 1
            if route.package is not None:
                from_catalog += 1
                right = cited.get(route.package) in question.answers
                catalog_right += right
                top1 += right
                top3 += right
            continue
        to_search += 1
        first = [ref for ref, _ in _first_three(index, question.q, threshold, route.margin)]
        top1 += bool(first) and first[0] in question.answers
        top3 += bool(question.answers.intersection(first))
    for q, _ in eval_set.out_of_scope:
        route = routes.route(q)
        if route.package is not None:
            continue  # answered with an industry's list of licences
        if not route.searched:
            stopped_by["NLU" if route.intent in TURNED_AWAY else f"other skill ({route.intent})"] += 1
            rejected += 1
            continue
        if _answered(index, q, threshold, route.margin) is None:
            stopped_by["search"] += 1
            rejected += 1
    n, m = len(eval_set.questions), len(eval_set.out_of_scope)
    return ProductReport(
        n, m, top1 / max(n, 1), top3 / max(n, 1), to_search, turned_away, other_skills,
        rejected / max(m, 1), stopped_by, from_catalog, catalog_right,
    )  # fmt: skip
