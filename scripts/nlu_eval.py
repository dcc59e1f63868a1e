"""Score the trained Rasa model on the held-out NLU split.

Runs in the Rasa environment (it imports rasa): ``scripts/rasa_env.sh eval`` trains if needed and then runs
``.venv-rasa/bin/python scripts/nlu_eval.py``. Prints per-intent precision/recall/F1, intent macro-F1,
entity F1 (per type, micro), the misclassified examples, and training/test examples whose entity spans do
not fall on jieba token boundaries (such spans can never be extracted, whatever the model learns).

Intent figures count an ``nlu_fallback`` prediction as wrong: in the product it means "please rephrase",
which does not answer the applicant. The figures without the fallback are printed too, for tuning.

Entity F1 compares (type, value) pairs per message after synonym mapping, because that is what actions
receive; a strict variant also requires the exact character span. Where DIET and the regex extractor
report the same span, the regex's entity counts (see resolve_overlaps).

With ``--nonsense`` it also scores a held-out list of garbage (tests/rasa/nonsense.yml: keyboard mashing,
emoji, word salad …): the share that ends in ``nlu_fallback``, which the dialogue turns into "please
rephrase", then a person. A confident guess on such a message answers a question nobody asked.

Exit status 1 when --min-intent-f1, --min-entity-f1 or --min-nonsense-rate is given and not met, so CI can
gate on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_INTENT = "nlu_fallback"

# Rasa and TensorFlow are chatty at import time; only our report should reach the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Example:
    text: str
    intent: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def load_examples(path: Path) -> tuple[list[Example], dict[str, str]]:
    """Examples with gold intent/entities, and the entity synonyms declared in those files."""
    from rasa.shared.data import get_data_files, is_nlu_file
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    # A data directory also holds stories and rules; only the NLU files matter here.
    files = sorted(get_data_files([str(path)], is_nlu_file))
    data = TrainingData().merge(*(load_data(f) for f in files))
    examples = [
        Example(text=m.get("text"), intent=m.get("intent"), entities=list(m.get("entities") or []))
        for m in data.intent_examples
    ]
    return examples, dict(data.entity_synonyms)


def misaligned_spans(examples: Iterable[Example], dictionary_dir: Path) -> list[tuple[str, str]]:
    """Entity spans that cut through a jieba token, tokenised exactly as JiebaTokenizer does."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for userdict in sorted(dictionary_dir.glob("*")):
        jieba.load_userdict(str(userdict))
    problems = []
    for example in examples:
        if not example.entities:
            continue
        starts, ends = set(), set()
        for _word, start, end in jieba.tokenize(example.text):
            starts.add(start)
            ends.add(end)
        for entity in example.entities:
            if entity["start"] not in starts or entity["end"] not in ends:
                span = example.text[entity["start"] : entity["end"]]
                tokens = "/".join(w for w, _, _ in jieba.tokenize(example.text))
                problems.append((example.text, f"{entity['entity']}={span!r} vs tokens {tokens}"))
    return problems


def resolve_overlaps(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entity per overlapping span and type, as the slots see it.

    DIET and RegexEntityExtractor may both report an application code or phone number. Rasa fills a text
    slot with the last value of the type, which is the regex's (it runs after DIET), so the regex wins;
    otherwise the longer span does.
    """

    def rank(entity: dict[str, Any]) -> tuple[bool, int]:
        return (entity.get("extractor") == "RegexEntityExtractor", entity["end"] - entity["start"])

    kept: list[dict[str, Any]] = []
    for entity in sorted(entities, key=rank, reverse=True):
        if not any(
            k["entity"] == entity["entity"] and k["start"] < entity["end"] and entity["start"] < k["end"]
            for k in kept
        ):
            kept.append(entity)
    return sorted(kept, key=lambda e: e["start"])


def normalise(value: Any, synonyms: dict[str, str]) -> str:
    text = str(value)
    return synonyms.get(text.lower(), synonyms.get(text, text))


async def parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # The message processor logs every parse at debug level through structlog, not logging.
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def load_nonsense(path: Path) -> list[str]:
    import yaml

    return [str(text) for text in yaml.safe_load(path.read_text(encoding="utf-8"))["nonsense"]]


def top_intent_without_fallback(parsed: dict[str, Any]) -> str:
    for ranked in parsed.get("intent_ranking") or []:
        if ranked["name"] != FALLBACK_INTENT:
            return str(ranked["name"])
    return str(parsed["intent"]["name"])


def intent_report(gold: list[str], predicted: list[str]) -> tuple[dict[str, Scores], float, float]:
    per_intent: dict[str, Scores] = defaultdict(Scores)
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            per_intent[g].tp += 1
        else:
            per_intent[g].fn += 1
            per_intent[p].fp += 1
    labels = sorted(set(gold))  # macro over the intents the test split covers
    macro_f1 = sum(per_intent[label].f1 for label in labels) / len(labels)
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    return per_intent, macro_f1, accuracy


def entity_report(
    examples: list[Example], parsed: list[dict[str, Any]], synonyms: dict[str, str], *, strict: bool
) -> dict[str, Scores]:
    per_type: dict[str, Scores] = defaultdict(Scores)

    def key(entity: dict[str, Any]) -> tuple[Any, ...]:
        value = normalise(entity.get("value", ""), synonyms)
        return (
            (entity["entity"], value, entity["start"], entity["end"]) if strict else (entity["entity"], value)
        )

    for example, result in zip(examples, parsed, strict=True):
        gold = Counter(key(e) for e in example.entities)
        predicted = Counter(key(e) for e in result.get("entities") or [])
        for k in gold | predicted:
            matched = min(gold[k], predicted[k])
            per_type[k[0]].tp += matched
            per_type[k[0]].fn += gold[k] - matched
            per_type[k[0]].fp += predicted[k] - matched
    return per_type


def micro(scores: dict[str, Scores]) -> Scores:
    total = Scores()
    for s in scores.values():
        total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
    return total


def print_table(title: str, rows: dict[str, Scores], support: Counter[str]) -> None:
    print(f"\n{title}")
    print(f"  {'label':<28}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}")
    for label in sorted(rows):
        s = rows[label]
        print(f"  {label:<28}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{support[label]:>6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/current.tar.gz")
    parser.add_argument("--test", type=Path, default=ROOT / "tests/rasa/nlu_test.yml")
    parser.add_argument("--train", type=Path, default=ROOT / "nlu_data")
    parser.add_argument("--dictionary", type=Path, default=ROOT / "config/rasa/jieba")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--min-intent-f1", type=float)
    parser.add_argument("--min-entity-f1", type=float)
    parser.add_argument("--nonsense", type=Path, help="held-out garbage that should end in nlu_fallback")
    parser.add_argument("--min-nonsense-rate", type=float, help="minimum share of --nonsense that falls back")
    args = parser.parse_args(argv)

    logging.disable(logging.WARNING)
    test, test_synonyms = load_examples(args.test)
    train, synonyms = load_examples(args.train)
    synonyms = {**{k.lower(): v for k, v in synonyms.items()}, **test_synonyms}

    nonsense = load_nonsense(args.nonsense) if args.nonsense else []
    leaked = ({e.text for e in test} | set(nonsense)) & {e.text for e in train}
    if leaked:
        print("held-out examples also in the training data (remove them from nlu_data/):", file=sys.stderr)
        for text in sorted(leaked):
            print(f"  {text}", file=sys.stderr)
        return 2

    misaligned = misaligned_spans([*train, *test], args.dictionary)
    for text, problem in misaligned:
        print(f"misaligned entity: {text}  ({problem})")

    parsed_all = asyncio.run(parse_all(args.model, [e.text for e in test] + nonsense))
    parsed, parsed_nonsense = parsed_all[: len(test)], parsed_all[len(test) :]
    for result in parsed:
        result["entities"] = resolve_overlaps(result.get("entities") or [])
    gold = [e.intent for e in test]
    predicted = [str(p["intent"]["name"]) for p in parsed]
    support = Counter(gold)

    per_intent, macro_f1, accuracy = intent_report(gold, predicted)
    _, macro_f1_raw, accuracy_raw = intent_report(gold, [top_intent_without_fallback(p) for p in parsed])
    entities = entity_report(test, parsed, synonyms, strict=False)
    entities_strict = entity_report(test, parsed, synonyms, strict=True)
    entity_support: Counter[str] = Counter(ent["entity"] for e in test for ent in e.entities)
    entity_total, strict_total = micro(entities), micro(entities_strict)

    print_table("Intents (nlu_fallback counts as wrong)", per_intent, support)
    print_table("Entities (type + value after synonyms)", entities, entity_support)

    print("\nMisclassified:")
    for example, result in zip(test, parsed, strict=True):
        if result["intent"]["name"] != example.intent:
            print(
                f"  {example.text}  gold={example.intent}  got={result['intent']['name']}"
                f" ({result['intent']['confidence']:.2f})"
            )
    print("\nEntity errors:")
    for example, result in zip(test, parsed, strict=True):
        gold_set = {(e["entity"], normalise(e["value"], synonyms)) for e in example.entities}
        got_set = {(e["entity"], normalise(e["value"], synonyms)) for e in result.get("entities") or []}
        if gold_set != got_set:
            print(f"  {example.text}  gold={sorted(gold_set)}  got={sorted(got_set)}")

    fallbacks = predicted.count(FALLBACK_INTENT)
    nonsense_fallbacks = 0
    if nonsense:
        print("\nNonsense that did not fall back:")
        for text, result in zip(nonsense, parsed_nonsense, strict=True):
            if result["intent"]["name"] == FALLBACK_INTENT:
                nonsense_fallbacks += 1
            else:
                print(f"  {text}  got={result['intent']['name']} ({result['intent']['confidence']:.2f})")
    figures = {
        "test_examples": len(test),
        "intents": len(support),
        "intent_macro_f1": round(macro_f1, 4),
        "intent_accuracy": round(accuracy, 4),
        "fallbacks": fallbacks,
        "intent_macro_f1_without_fallback": round(macro_f1_raw, 4),
        "intent_accuracy_without_fallback": round(accuracy_raw, 4),
        "entity_f1": round(entity_total.f1, 4),
        "entity_precision": round(entity_total.precision, 4),
        "entity_recall": round(entity_total.recall, 4),
        "entity_f1_strict_span": round(strict_total.f1, 4),
        "entity_mentions": sum(entity_support.values()),
        "misaligned_spans": len(misaligned),
    }
    if nonsense:
        figures["nonsense_examples"] = len(nonsense)
        figures["nonsense_fallback_rate"] = round(nonsense_fallbacks / len(nonsense), 4)
    print("\nSummary")
    for name, value in figures.items():
        print(f"  {name:<36}{value}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    failed = (
        (args.min_intent_f1 is not None and macro_f1 < args.min_intent_f1)
        or (args.min_entity_f1 is not None and entity_total.f1 < args.min_entity_f1)
        or (
            args.min_nonsense_rate is not None
            and figures.get("nonsense_fallback_rate", 0.0) < args.min_nonsense_rate
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
