"""Where the trained Rasa model sends each question of the policy evaluation set.

In the product a question reaches the policy search when NLU reads it as ``ask_policy``, or reads a question
as ``out_of_scope`` or ``nlu_fallback`` (actions/policy.py ``search_margin``: when NLU is sure it is out of
scope, the search's answer must clear its threshold by a margin);
other readings are turned away before the search sees them, or go to other skills (time limits, the
industry's licences …). Of those, the list of an industry's licences answers from the catalog and cites the
industry's row of Annex 1; the package it would list is recorded too. This script records the model's
reading of every question of tests/backend/policy_eval.yaml, so that ``scripts/policy_eval.py --routes FILE``
can report the product's figures (NLU, search and catalog together) beside the search's own.

The asker is taken to be someone who has not applied yet (no application, no licence): the skills for
progress, changes and cancellation then answer a question put to them from the documents first.

Runs in the Rasa environment (it imports rasa); `make eval` calls it:

    scripts/rasa_env.sh shell python scripts/policy_routes.py --out var/eval/policy_routes.json

It also reports eval questions that appear word for word in the NLU training data: their reading says
nothing about a new question (the product figure is printed with and without them by policy_eval.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from nlu_eval import load_examples, parse_all  # noqa: E402

sys.path.insert(0, str(ROOT))
from actions.catalog import package_asked_about, time_limit_package  # noqa: E402
from actions.dialogue import is_command  # noqa: E402
from actions.handoff import asks_about_complaining  # noqa: E402
from actions.policy import NEWCOMER_SEARCHES, is_question, search_margin  # noqa: E402

# Readings that make the product answer with an industry's licences from the catalog (action_list_licences,
# nlu_data/rules/policy.yml): a question about them, or an industry named outside a form.
LICENCES_INTENT = "ask_licences_for_industry"
# A time-limit question names an industry (the catalog's days answer it) or not: then action_time_limit
# answers from the policy search first.
TIME_LIMIT_INTENT = "ask_time_limit"


class CatalogFile:
    """The packages the action resolves an industry against, read from the catalog's file (what the
    backend serves at /catalog/packages), so no backend needs to run."""

    def __init__(self, path: Path) -> None:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        self._packages = [
            {"id": p["id"], "name": p["name"], "industry": p["industry"], "aliases": p.get("aliases") or []}
            for p in raw["packages"]
        ]

    async def packages(self) -> list[dict[str, object]]:
        return list(self._packages)


def _industry(result: dict[str, Any]) -> str | None:
    industries = [e for e in result.get("entities") or [] if e.get("entity") == "industry"]
    return str(industries[-1]["value"]) if industries else None


async def catalog_package(catalog: Any, text: str, result: dict[str, Any]) -> str | None:
    """The package whose licences the product lists for this reading, if it lists any."""
    intent, said = result["intent"]["name"], _industry(result)
    if intent != LICENCES_INTENT and not (intent == "inform" and said):
        return None
    package = await package_asked_about(catalog, said, text)
    return str(package["id"]) if package else None


async def searched_for_time_limit(catalog: Any, text: str, result: dict[str, Any]) -> bool:
    """Whether a time-limit question without an industry goes to the search (action_time_limit)."""
    if result["intent"]["name"] != TIME_LIMIT_INTENT:
        return False
    return not is_command(text) and await time_limit_package(catalog, _industry(result)) is None


async def route(catalog: Any, text: str, result: dict[str, Any]) -> dict[str, Any]:
    """What the product does with one reading. `searched`: whether its actions put the message to the
    search (ask_policy, an unsure reading of a question, a time-limit question naming no industry, a
    greeting or a complaint that asks something, a question about progress, changing or cancelling from
    someone who has not applied yet): policy_eval.py counts the search's answer only then. `package`:
    else the package whose licences it lists, if it does; that answer cites the package's row of
    Annex 1."""
    intent, confidence = str(result["intent"]["name"]), float(result["intent"]["confidence"])
    margin = search_margin(text, intent, confidence)
    searched = (
        margin is not None
        or await searched_for_time_limit(catalog, text, result)
        or ((intent in NEWCOMER_SEARCHES or intent == "greet") and is_question(text))
        or (intent == "complain" and asks_about_complaining(text))
    )
    return {
        "intent": intent,
        "confidence": round(confidence, 4),
        "searched": searched,
        "package": await catalog_package(catalog, text, result),
        # How far the search's first answer must clear its threshold (NLU sure it is out of scope).
        "margin": margin or 0.0,
    }


async def route_all(catalog: Any, texts: list[str], parsed: list[dict[str, Any]]) -> dict[str, Any]:
    return {text: await route(catalog, text, result) for text, result in zip(texts, parsed, strict=True)}


def eval_questions(path: Path) -> list[str]:
    """Every question text of the set, in-scope and out-of-scope, from the root and each holdout block."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    sections = [raw, *(value for key, value in raw.items() if key.startswith("holdout") and value)]
    texts: list[str] = []
    for section in sections:
        texts += [str(item["q"]) for item in section.get("questions") or []]
        texts += [str(q) for q in section.get("out_of_scope") or []]
    return list(dict.fromkeys(texts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/current.tar.gz")
    parser.add_argument("--eval-set", type=Path, default=ROOT / "tests/backend/policy_eval.yaml")
    parser.add_argument("--train", type=Path, default=ROOT / "nlu_data")
    parser.add_argument("--catalog", type=Path, default=ROOT / "config/catalog/packages.yaml")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    logging.disable(logging.WARNING)
    texts = eval_questions(args.eval_set)
    train, _ = load_examples(args.train)
    trained_on = sorted({example.text for example in train} & set(texts))
    parsed = asyncio.run(parse_all(args.model, texts))
    routes = asyncio.run(route_all(CatalogFile(args.catalog), texts, parsed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"model": str(args.model), "routes": routes, "in_training_data": trained_on},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"{len(routes)} questions routed → {args.out}")
    if trained_on:
        print(f"{len(trained_on)} of them are NLU training examples word for word (reported apart)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
