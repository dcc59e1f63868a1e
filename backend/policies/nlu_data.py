"""Rasa's NLU training files read without Rasa: the intent examples as plain text.

Two readers need them: the policy search's classifier learns NLU's `out_of_scope` examples
(classifier.py), and scripts/faq_nlu.py must not write an FAQ phrasing that already is an example.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

# An entity annotation in an example: [营业执照](licence) → 营业执照.
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def plain(text: str) -> str:
    return ANNOTATION.sub(r"\1", text).strip()


def intent_examples(path: Path) -> Iterator[tuple[str, str]]:
    """(intent, plain text) of every intent example in one NLU file, in file order. Only "- " lines are
    examples, as Rasa reads the block (a comment line inside it is not one)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in raw.get("nlu") or []:
        if "intent" not in item or "examples" not in item:
            continue
        for line in str(item["examples"] or "").splitlines():
            if line.strip().startswith("- "):
                yield str(item["intent"]), plain(line.strip()[2:])
