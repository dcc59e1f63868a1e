"""The policy search API and the document pages its citations link to, through the real app."""

from typing import Any

from aiohttp.test_utils import TestClient

from backend.policies.search import MAX_RESULTS

Client = TestClient[Any, Any]


async def search(client: Client, **params: str) -> tuple[int, Any]:
    response = await client.get("/api/v1/policies/search", params=params)
    return response.status, await response.json()


async def test_search_answers_with_citations_and_links(client: Client) -> None:
    status, body = await search(client, q="开办旅行社需要什么证")
    assert status == 200
    assert body["query"] == "开办旅行社需要什么证"
    assert body["found"] is True
    top = body["results"][0]
    assert top["kind"] == "passage"
    assert top["id"] == "linyi-2018-188#a1-13"
    assert 0 < top["score"] <= 1
    assert top["url"] == "/policies/linyi-2018-188/passages/a1-13#p-a1-13"
    assert top["citations"][0]["doc_title"] == "临沂市推行“证照联办”工作实施方案"
    assert top["citations"][0]["citation"].endswith("第13项 开办旅行社")


async def test_search_that_finds_nothing_says_so(client: Client) -> None:
    status, body = await search(client, q="明天临沂天气怎么样")
    assert (status, body) == (
        200,
        {"query": "明天临沂天气怎么样", "found": False, "results": [], "suggestions": []},
    )


async def test_search_below_the_threshold_suggests_faq_questions(client: Client) -> None:
    status, body = await search(client, q="缺一两份材料能先办吗")
    assert status == 200 and body["found"] is False and body["results"] == []
    assert body["suggestions"][0]["id"] == "faq:rongque-shouli"
    assert body["suggestions"][0]["title"]


async def test_limit(client: Client) -> None:
    _, body = await search(client, q="证照联办", limit="2")
    assert len(body["results"]) == 2
    status, body = await search(client, q="证照联办", limit=str(MAX_RESULTS + 1))
    assert status == 422
    assert body["error"]["field"] == "query.limit"
    assert body["error"]["message"] == f"参数 query.limit 不正确：应不大于 {MAX_RESULTS}"
    status, body = await search(client, q="证照联办", limit="三条")
    assert (status, body["error"]["message"]) == (422, "参数 query.limit 不正确：应为整数")


async def test_margin_asks_the_first_answer_to_clear_the_threshold_by_that_much(client: Client) -> None:
    _, body = await search(client, q="开办旅行社需要什么证")
    score = body["results"][0]["score"]
    # The question's threshold is 0.40 at most (lower for a long one); 0.25 is its floor.
    _, body = await search(client, q="开办旅行社需要什么证", margin=f"{score - 0.40:.3f}")
    assert body["found"] is True and body["results"][0]["id"] == "linyi-2018-188#a1-13"
    _, body = await search(client, q="开办旅行社需要什么证", margin=f"{score - 0.25 + 0.001:.3f}")
    assert (body["found"], body["results"]) == (False, [])
    status, body = await search(client, q="证照联办", margin="1.5")
    assert status == 422 and body["error"]["field"] == "query.margin"
    status, body = await search(client, q="证照联办", margin="abc")
    assert (status, body["error"]["message"]) == (422, "参数 query.margin 不正确：应为数字")


async def test_empty_or_oversized_question_is_a_400_in_chinese(client: Client) -> None:
    for params in ({}, {"q": ""}, {"q": "   "}):
        status, body = await search(client, **params)
        assert status == 400
        assert body["error"] == {"code": "empty_query", "message": "请输入要查询的问题", "field": "q"}
    status, body = await search(client, q="证" * 201)
    assert status == 400
    assert body["error"]["code"] == "query_too_long"
    assert "200" in body["error"]["message"]
    status, _ = await search(client, q="证" * 200)
    assert status == 200


async def test_cited_passage_page_highlights_the_passage(client: Client) -> None:
    _, body = await search(client, q="证照联办是强制的吗")
    url = body["results"][0]["citations"][1]["url"]
    path, fragment = url.split("#")
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert '<meta name="viewport"' in html
    assert '<html lang="zh-CN">' in html
    assert f'<p class="passage hl" id="{fragment}">' in html
    assert "引用出处：《全面实施企业证照“三联办”改革工作方案》二、工作原则 自愿选择" in html
    assert "未选择“三联办”的，可按原程序办理" in html


async def test_document_page_has_an_anchor_for_every_passage(client: Client) -> None:
    response = await client.get("/policies/linyi-2018-188")
    assert response.status == 200
    html = await response.text()
    assert "临政办字〔2018〕188号" in html
    assert 'class="passage hl"' not in html
    for anchor in ("p-notice", "p-intro", "p-3-1", "p-1-2-p4", "p-a1-13", "p-a2-5"):
        assert f'id="{anchor}"' in html
    assert "<strong>一窗综合受理</strong>" in html  # the published bold, without its ** marks
    assert "**" not in html


async def test_table_row_and_notice_are_highlighted_too(client: Client) -> None:
    html = await (await client.get("/policies/linyi-2018-188/passages/a1-13")).text()
    assert '<tr id="p-a1-13" class="passage hl">' in html
    html = await (await client.get("/policies/zibo-2020-42/passages/notice")).text()
    assert 'id="p-notice" open>' in html


async def test_unknown_document_or_passage_is_a_404_page(client: Client) -> None:
    for path in (
        "/policies/nowhere",
        "/policies/linyi-2018-188/passages/99-99",
        "/policies/nowhere/passages/1-1",
    ):
        response = await client.get(path)
        assert response.status == 404
        assert "没有找到" in await response.text()


async def test_document_list(client: Client) -> None:
    html = await (await client.get("/policies")).text()
    assert html.count('<a href="/policies/') == 5


async def test_search_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"]["/api/v1/policies/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "limit", "margin"}
    assert operation["security"] == []


async def test_each_package_links_to_its_row_of_annex_1(client: Client) -> None:
    # The assistant's list of an industry's licences cites where it comes from, like a policy answer.
    packages = (await (await client.get("/api/v1/catalog/packages")).json())["packages"]
    linked = 0
    for package in packages:
        assert package["source"], package["id"]
        url = package["source_url"]
        if url is None:
            assert "附件1" not in package["source"], package["id"]
            continue
        linked += 1
        row = url.rsplit("#p-a1-", 1)[1]
        # The row linked is the one the source names, and the page highlights it.
        assert f"附件1第{row}项" in package["source"], package["id"]
        response = await client.get(url.split("#")[0])
        assert response.status == 200
        assert f'<tr id="p-a1-{row}" class="passage hl">' in await response.text()
    assert linked >= 18
    detail = await (await client.get("/api/v1/catalog/packages/travel_agency")).json()
    assert detail["source_url"] == "/policies/linyi-2018-188/passages/a1-13#p-a1-13"
