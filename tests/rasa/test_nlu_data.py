"""The Rasa training data against the domain, the catalog and the held-out splits.

These run in the app environment (PyYAML only), so a broken data file fails `make test-fast` long before a
3-minute training run would. Rasa's own checks (`scripts/rasa_env.sh validate`) cover stories and rules.
"""

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.rasa.conftest import rasa_env

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "nlu_data" / "nlu"
DOMAIN_DIR = ROOT / "config" / "rasa" / "domain"
TEST_SPLIT = ROOT / "tests" / "rasa" / "nlu_test.yml"
DEV_DIR = ROOT / "tests" / "rasa" / "dev"
NONSENSE = ROOT / "tests" / "rasa" / "nonsense.yml"
CATALOG_DIR = ROOT / "config" / "catalog"

ANNOTATION = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
MIN_EXAMPLES_PER_INTENT = 25
# Rasa's own intent for "not understood": trained with garbage examples, never listed in the domain.
FALLBACK_INTENT = "nlu_fallback"
# Held-out figures of the trained model (scripts/nlu_eval.py): the targets for intents and
# entities; for nonsense a little below what the model measured (0.81 of 110 messages; 0.30 before the
# nlu_fallback examples).
MIN_INTENT_F1 = 0.92
MIN_ENTITY_F1 = 0.90
MIN_NONSENSE_FALLBACK_RATE = 0.75


def read_nlu(paths):
    """{intent: [(plain text, [(entity text, entity type)])]}, synonyms {word: value}."""
    intents: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
    synonyms: dict[str, str] = {}
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            lines = [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
            if "intent" in item:
                for line in lines:
                    entities = [(m.group(1), m.group(2)) for m in ANNOTATION.finditer(line)]
                    intents.setdefault(item["intent"], []).append((ANNOTATION.sub(r"\1", line), entities))
            elif "synonym" in item:
                for line in lines:
                    synonyms[line.lower()] = str(item["synonym"])
    return intents, synonyms


@pytest.fixture(scope="module")
def training():
    return read_nlu(sorted(NLU_DIR.glob("*.yml")))


@pytest.fixture(scope="module")
def domain():
    merged: dict[str, list[str]] = {"intents": [], "entities": []}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in merged:
            merged[key] += data.get(key, [])
    return merged


@pytest.fixture(scope="module")
def catalog():
    packages = yaml.safe_load((CATALOG_DIR / "packages.yaml").read_text(encoding="utf-8"))["packages"]
    matters = yaml.safe_load((CATALOG_DIR / "matters.yaml").read_text(encoding="utf-8"))["matters"]
    return packages, matters


def test_every_intent_is_in_the_domain_and_has_enough_examples(training, domain):
    intents, _ = training
    assert set(intents) - {FALLBACK_INTENT} == set(domain["intents"])
    thin = {
        name: len(examples) for name, examples in intents.items() if len(examples) < MIN_EXAMPLES_PER_INTENT
    }
    assert not thin, f"intents with fewer than {MIN_EXAMPLES_PER_INTENT} examples: {thin}"


def test_no_duplicate_examples(training):
    intents, _ = training
    texts = Counter(text for examples in intents.values() for text, _ in examples)
    assert [text for text, n in texts.items() if n > 1] == []


def test_annotated_entities_are_declared(training, domain):
    intents, _ = training
    used = {entity for examples in intents.values() for _, entities in examples for _, entity in entities}
    assert used <= set(domain["entities"])


def test_held_out_splits_never_reach_training(training, domain):
    intents, _ = training
    trained = {text for examples in intents.values() for text, _ in examples}
    test, _ = read_nlu([TEST_SPLIT])
    dev, _ = read_nlu(sorted(DEV_DIR.glob("*.yml")))
    nonsense = {str(text) for text in yaml.safe_load(NONSENSE.read_text(encoding="utf-8"))["nonsense"]}
    assert len(nonsense) >= 40
    for split in (test, dev):
        held_out = {text for examples in split.values() for text, _ in examples}
        assert held_out & trained == set()
    assert nonsense & trained == set()
    assert set(test) == set(domain["intents"]), "the test split must cover every intent"


def test_every_catalog_alias_maps_to_its_package(training, catalog):
    _, synonyms = training
    packages, _ = catalog
    wrong = {
        alias: synonyms.get(alias.lower())
        for package in packages
        for alias in package["aliases"]
        if synonyms.get(alias.lower()) != package["id"]
    }
    assert wrong == {}, "update nlu_data/nlu/synonyms.yml from config/catalog/packages.yaml"


def test_entity_values_are_catalog_ids_and_licence_names(training, catalog):
    intents, synonyms = training
    packages, matters = catalog
    package_ids = {package["id"] for package in packages}
    licence_names = {matter["licence_name"] for matter in matters} | {"行业综合许可证"}
    values = {
        (entity, synonyms.get(text.lower(), text))
        for examples in intents.values()
        for _, entities in examples
        for text, entity in entities
    }
    assert {value for entity, value in values if entity == "industry"} <= package_ids
    assert {value for entity, value in values if entity == "licence"} <= licence_names


@pytest.fixture(scope="module")
def held_out_figures(tmp_path_factory):
    if not (ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        pytest.skip("needs .venv-rasa (make install)")
    figures = tmp_path_factory.mktemp("nlu") / "figures.json"
    # Trains first when the data changed (cached otherwise), then scores the held-out split and nonsense.
    result = rasa_env("eval", "--nonsense", str(NONSENSE), "--json", str(figures))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(figures.read_text(encoding="utf-8")), result.stdout


@pytest.mark.slow
def test_trained_model_meets_the_nlu_targets(held_out_figures):
    figures, report = held_out_figures
    assert figures["intent_macro_f1"] >= MIN_INTENT_F1, report[-3000:]
    assert figures["entity_f1"] >= MIN_ENTITY_F1, report[-3000:]


@pytest.mark.slow
def test_nonsense_ends_in_the_fallback(held_out_figures):
    # A confident guess at "哈哈哈哈" or "蓝色跑步桌子星期" answers a question nobody asked; the fallback asks
    # to rephrase and, the second time, brings a person.
    figures, report = held_out_figures
    assert figures["nonsense_examples"] >= 40
    assert figures["nonsense_fallback_rate"] >= MIN_NONSENSE_FALLBACK_RATE, report[-3000:]


def test_the_faq_examples_are_generated_from_the_current_faq():
    # nlu_data/nlu/policy_faq.yml is the FAQ's phrasings as ask_policy examples; an FAQ edit needs a rerun.
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "faq_nlu.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
