"""The curated FAQ: every answer cites passages that exist and say what it quotes."""

from pathlib import Path

import pytest
import yaml

from backend.policies.faq import FaqEntry, load_faq
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
