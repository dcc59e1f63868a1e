"""Measuring the policy search against the labelled set tests/backend/policy_eval.yaml (used by
scripts/policy_eval.py and by the tests that guard against regressions)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backend.policies.search import PolicyIndex

# The file's sections, in the order they were written: the root was tuned on; each holdout block was
# written before a round of search changes and is reported on its own (see the file's header).
TUNED = "tuned"
SECTIONS = {
    "holdout": "holdout-1",
    "holdout_2": "holdout-2",
    "holdout_3": "holdout-3",
    "holdout_4": "holdout-4",
    "holdout_5": "holdout-5",
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
    """Top-1/top-3: the first (three) results above the threshold include a labelled answer; an in-scope
    question that finds nothing counts as wrong. Rejected: an out-of-scope question finds nothing."""
    threshold = index.threshold if threshold is None else threshold
    top1 = top3 = rejected = 0
    misses: list[str] = []
    for question in eval_set.questions:
        candidates, held_to = index.ranked_refs(question.q, threshold)
        ranked = [(ref, score) for ref, score in candidates[:3] if score >= held_to]
        first = [ref for ref, _ in ranked]
        top1 += bool(first) and first[0] in question.answers
        top3 += bool(question.answers.intersection(first))
        if not first or first[0] not in question.answers:
            got = ", ".join(f"{ref} {score:.2f}" for ref, score in ranked) or "nothing"
            misses.append(f"miss      {question.q} → {got}  (want {', '.join(sorted(question.answers))})")
    for q, _ in eval_set.out_of_scope:
        candidates, held_to = index.ranked_refs(q, threshold)
        if not candidates or candidates[0][1] < held_to:
            rejected += 1
        else:
            misses.append(f"answered  {q} → {candidates[0][0]} {candidates[0][1]:.2f}  (out of scope)")
    n, m = len(eval_set.questions), len(eval_set.out_of_scope)
    return EvalReport(threshold, n, m, top1 / max(n, 1), top3 / max(n, 1), rejected / max(m, 1), misses)
