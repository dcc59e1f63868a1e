"""The curated FAQ: every answer cites passages that exist and say what it quotes."""

from pathlib import Path

import pytest
import yaml

from backend.policies.faq import FaqEntry, deployment_values, load_faq
from backend.policies.passages import Document, load_documents
from backend.settings import PROJECT_ROOT

FAQ_FILE = PROJECT_ROOT / "config" / "policy_faq.yaml"


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {d.id: d for d in load_documents(PROJECT_ROOT / "config" / "policies")}


@pytest.fixture(scope="module")
def faq(documents: dict[str, Document]) -> dict[str, FaqEntry]:
    return {entry.id: entry for entry in load_faq(FAQ_FILE, documents)}


def test_the_questions_applicants_ask_are_covered(faq: dict[str, FaqEntry]) -> None:
    expected = {
        "what-is-zhengzhao-lianban", "what-is-yiye-yizheng", "what-is-sanlianban", "covered-matters",
        "voluntary", "rongque-shouli", "gaozhi-chengnuo", "processing-time", "mail-delivery", "qr-code",
        "change-and-cancel", "window-and-hours",
    }  # fmt: skip
    assert expected <= set(faq)
    for entry in faq.values():
        assert len(entry.phrasings) >= 3, entry.id
        assert len(entry.answer) <= 260, f"{entry.id}: answers should stay short"


def test_voluntary_cites_linyi_and_shandong(faq: dict[str, FaqEntry]) -> None:
    cited = {(c.doc, c.passage) for c in faq["voluntary"].citations}
    assert cited == {("linyi-2018-188", "1-2-p4"), ("shandong-2021", "2-p4")}
    assert "自愿" in faq["voluntary"].answer


def test_sample_data_is_marked_as_such(faq: dict[str, FaqEntry]) -> None:
    samples = [entry for entry in faq.values() if entry.sample]
    assert [entry.id for entry in samples] == ["window-and-hours"]
    assert all("示例" in entry.answer for entry in samples)


def test_document_numbers_in_the_answer_match_the_metadata(
    faq: dict[str, FaqEntry], documents: dict[str, Document]
) -> None:
    answer = faq["policy-documents"].answer
    for document in documents.values():
        assert f"《{document.meta.title}》" in answer
        if document.meta.number:
            assert document.meta.number in answer


def write_faq(tmp_path: Path, citation: dict[str, str]) -> Path:
    path = tmp_path / "faq.yaml"
    entry = {"id": "demo", "question": "问？", "phrasings": ["问"], "answer": "答。", "citations": [citation]}
    path.write_text(yaml.safe_dump({"faq": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("citation", "error"),
    [
        ({"doc": "nowhere", "passage": "1-1", "quote": "一窗受理"}, "unknown document"),
        ({"doc": "linyi-2018-188", "passage": "9-9", "quote": "一窗受理"}, "no passage"),
        ({"doc": "linyi-2018-188", "passage": "3-1", "quote": "这句话不在原文里"}, "quote not found"),
    ],
)
def test_a_citation_that_does_not_check_out_stops_loading(
    tmp_path: Path, documents: dict[str, Document], citation: dict[str, str], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        load_faq(write_faq(tmp_path, citation), documents)


def test_the_window_hours_are_the_hours_the_handoff_keeps(documents: dict[str, Document]) -> None:
    entries = {e.id: e for e in load_faq(FAQ_FILE, documents, deployment_values("mon-sat 08:30-17:00"))}
    assert "办公时间周一至周六 08:30-17:00（法定节假日除外）" in entries["window-and-hours"].answer
    # The built-in OFFICE_HOURS by default: what `make run` tells an applicant out of hours too.
    default = {e.id: e for e in load_faq(FAQ_FILE, documents)}["window-and-hours"].answer
    assert "周一至周五 09:00-12:00、13:30-17:30（法定节假日除外）" in default and "{" not in default


def test_an_answer_naming_an_unknown_value_stops_loading(
    tmp_path: Path, documents: dict[str, Document]
) -> None:
    citation = {"doc": "linyi-2018-188", "passage": "3-1", "quote": "综合窗口"}
    path = write_faq(tmp_path, citation)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["faq"][0]["answer"] = "电话：{hotline}"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"FAQ demo: no value for \{hotline\}"):
        load_faq(path, documents)


def test_an_entry_kept_out_of_nlu_has_none_of_its_texts_among_nlu_examples(faq: dict[str, FaqEntry]) -> None:
    generated = (PROJECT_ROOT / "nlu_data" / "nlu" / "policy_faq.yml").read_text(encoding="utf-8")
    kept_out = [entry for entry in faq.values() if not entry.nlu_examples]
    assert {entry.id for entry in kept_out} == {"licence-renewal", "how-to-apply"}
    for entry in kept_out:
        for text in (entry.question, *entry.phrasings):
            assert f"- {text}\n" not in generated, text
    # The others are there (their texts as examples, unless another intent or a test already has them).
    assert "- 拿证后归哪个部门监管\n" in generated
