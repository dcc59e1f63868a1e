"""Splitting the policy documents into citable passages."""

import re
from pathlib import Path

import pytest
import yaml

from backend.policies.passages import (
    Document,
    DocumentMeta,
    Heading,
    PassageBlock,
    Table,
    load_documents,
    split_document,
)
from backend.settings import PROJECT_ROOT

POLICIES = PROJECT_ROOT / "config" / "policies"


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {d.id: d for d in load_documents(POLICIES)}


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_listed_document_is_shipped_with_its_metadata(documents: dict[str, Document]) -> None:
    listed = yaml.safe_load((POLICIES / "documents.yaml").read_text(encoding="utf-8"))["documents"]
    shipped = {p.name for p in POLICIES.glob("*.txt")} - {"jieba_userdict.txt"}
    assert {entry["file"] for entry in listed} == shipped
    assert set(documents) == {
        "linyi-2018-188",
        "zibo-2020-42",
        "shandong-2021",
        "suixian-2022-21",
        "linyi-2018-168",
    }
    linyi = documents["linyi-2018-188"].meta
    assert (linyi.issuer, linyi.number, str(linyi.date)) == (
        "临沂市人民政府办公室",
        "临政办字〔2018〕188号",
        "2018-10-26",
    )
    # The metadata agrees with the notice printed at the top of each document.
    for document in documents.values():
        notice = compact(document.passages[0].text)
        assert document.passages[0].id == "notice"
        if document.meta.number:
            assert compact(document.meta.number) in notice
        assert compact(document.meta.issuer) in notice or document.id == "suixian-2022-21"


def test_passages_keep_the_published_wording(documents: dict[str, Document]) -> None:
    for document in documents.values():
        original = compact((POLICIES / document.meta.file).read_text(encoding="utf-8").replace("**", ""))
        for passage in document.passages:
            if passage.kind == "paragraph":
                assert compact(passage.text) in original, passage.ref
            assert passage.text.strip(), passage.ref


def test_citation_names_the_document_and_its_heading_path(documents: dict[str, Document]) -> None:
    linyi = documents["linyi-2018-188"]
    passage = linyi.passage("3-1")
    assert passage is not None
    assert linyi.citation(passage) == "《临沂市推行“证照联办”工作实施方案》三、基本流程（一）一窗综合受理"
    suixian = documents["suixian-2022-21"]
    commitment = suixian.passage("2-2-7")
    assert commitment is not None
    assert commitment.section_path == (
        "二、主要措施",
        "（二）选取高频情形，打造“主题式”办事套餐",
        "7.推行告知承诺",
    )


def test_principles_under_a_bare_heading_are_passages_with_their_own_titles(
    documents: dict[str, Document],
) -> None:
    voluntary_linyi = documents["linyi-2018-188"].passage("1-2-p4")
    voluntary_shandong = documents["shandong-2021"].passage("2-p4")
    assert voluntary_linyi is not None and voluntary_shandong is not None
    assert voluntary_linyi.section == "一、总体要求（二）基本原则 分批实施"
    assert "自主选择证照事项办理模式" in voluntary_linyi.text
    assert voluntary_shandong.section == "二、工作原则 自愿选择"
    assert "未选择“三联办”的，可按原程序办理" in voluntary_shandong.text


def test_paragraphs_broken_by_the_page_layout_are_joined(documents: dict[str, Document]) -> None:
    window = documents["linyi-2018-188"].passage("3-1")
    assert window is not None and "出具一次性告知单" in window.text
    shandong = documents["shandong-2021"].passage("3-4")
    assert shandong is not None and shandong.text.endswith("协同办结的审批新模式。")
    # ...but a heading never swallows the paragraph after it.
    assert documents["linyi-2018-188"].passage("3-p1") is not None


def test_annex_table_rows_are_one_passage_each(documents: dict[str, Document]) -> None:
    linyi = documents["linyi-2018-188"]
    rows = [p for p in linyi.passages if p.id.startswith("a1-")]
    assert len(rows) == 18
    travel = linyi.passage("a1-13")
    assert travel is not None and travel.kind == "table_row"
    assert travel.section == "附件1 临沂市企业“证照联办”行政审批事项目录（第一批） 第13项 开办旅行社"
    assert travel.text == "事项名称：开办旅行社；许可证名称：旅行社业务经营许可证；责任部门：旅游主管部门"
    devices = linyi.passage("a1-3")
    assert devices is not None and "第三类医疗器械经营许可证" in devices.text  # cell wrapped in the layout
    tables = [b for b in linyi.blocks if isinstance(b, Table)]
    assert [len(t.rows) for t in tables] == [18, 5]


def test_passage_ids_are_unique_and_url_safe(documents: dict[str, Document]) -> None:
    for document in documents.values():
        ids = [p.id for p in document.passages]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids), ids


def test_splitting_a_small_document() -> None:
    meta = DocumentMeta(
        id="demo",
        file="demo.txt",
        title="示例方案",
        body_title="示例 方案",
        issuer="示例办公室",
        year=2024,
        summary="-",
    )
    text = "\n".join(
        [
            "示例办公室",
            "",
            "示例方案",
            "",
            "为了示范，制定本方案。",
            "",
            "一、总体要求",
            "",
            "（一）工作目标。第一句",
            "",
            "接在分页之后。",
            "",
            "（二）基本原则",
            "",
            "——**便民**。方便群众。",
            "",
            "二、主要措施",
            "",
            "1. 一窗受理。只进一扇门。",
            "",
            "附件 1",
            "",
            "事项目录",
            "",
            "序号\t事项名称\t许可证名称",
            "1\t开办 书店\t公共场所 卫生许可证",
        ]
    )
    document = split_document(meta, text)
    assert [p.id for p in document.passages] == ["notice", "intro", "1-1", "1-2-p1", "2-1", "a1-1"]
    by_id = {p.id: p for p in document.passages}
    assert by_id["1-1"].text == "（一）工作目标。第一句接在分页之后。"
    assert by_id["1-2-p1"].section_path == ("一、总体要求", "（二）基本原则", "便民")
    assert by_id["1-2-p1"].text == "便民。方便群众。"
    assert by_id["2-1"].section == "二、主要措施 1.一窗受理"
    assert by_id["a1-1"].text == "事项名称：开办书店；许可证名称：公共场所卫生许可证"
    assert document.heading == "示例方案"
    headings = [b.label for b in document.blocks if isinstance(b, Heading)]
    assert headings == ["一、总体要求", "（二）基本原则", "二、主要措施", "附件1 事项目录"]
    shown = [b for b in document.blocks if isinstance(b, PassageBlock) and b.passage.id == "1-2-p1"]
    assert shown[0].display == "——**便民**。方便群众。"


def test_a_missing_body_title_is_an_error(tmp_path: Path) -> None:
    meta = DocumentMeta(
        id="x", file="x.txt", title="甲", body_title="乙", issuer="丙", year=2024, summary="-"
    )
    with pytest.raises(ValueError, match="body title"):
        split_document(meta, "甲\n\n一、总体要求\n\n内容。")
