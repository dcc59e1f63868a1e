"""HTTP side of the policy knowledge base: the search API and the document pages that citations link to.

Wiring (backend/app.py): add `routes` to the API route tables (so the search joins the OpenAPI document)
and call `setup_policies(app, settings)`, which loads the index once at start-up and serves the pages:

    GET /api/v1/policies/search?q=&limit=&margin=   ranked FAQ answers and passages with citations
    GET /policies                                   the documents
    GET /policies/{doc_id}                          one document (passages carry id="p-{passage_id}")
    GET /policies/{doc_id}/passages/{pid}           the same page with that passage highlighted
"""

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from aiohttp import web
from pydantic import BaseModel, Field

from backend.api import Access, Ctx, RouteTable
from backend.errors import ApiError
from backend.policies.faq import DEFAULT_OFFICE_HOURS, deployment_values
from backend.policies.passages import Document, Heading, Paragraph, PassageBlock, Table
from backend.policies.search import MAX_RESULTS, PolicyIndex, SearchResult
from backend.settings import PROJECT_ROOT, Settings

POLICY_INDEX = web.AppKey("policy_index", PolicyIndex)
DEFAULT_POLICIES_DIR = PROJECT_ROOT / "config" / "policies"
MAX_QUERY_CHARS = 200
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

routes = RouteTable(tag="policies")


class PolicySearchQuery(BaseModel):
    q: str = Field(default="", description=f"申请人的问题（1–{MAX_QUERY_CHARS} 个字）")
    limit: int = Field(default=3, ge=1, le=MAX_RESULTS, description="最多返回几条")
    margin: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "第一条答案须高出匹配阈值多少才算找到（默认 0）；"
            "大于 0 时，问题还须用原文的词说出一件事，或说出两件事"
        ),
    )


@routes.route(
    "GET",
    "/policies/search",
    summary="政策问答：检索常见问题与政策原文（附出处）；匹配度不足时 found=false",
    access=Access.PUBLIC,
    query=PolicySearchQuery,
    response=SearchResult,
)
async def search_policies(ctx: Ctx[None, PolicySearchQuery]) -> SearchResult:
    q = ctx.query.q.strip()
    if not q:
        raise ApiError("请输入要查询的问题", field="q", code="empty_query")
    if len(q) > MAX_QUERY_CHARS:
        raise ApiError(f"问题太长了，请控制在 {MAX_QUERY_CHARS} 个字以内", field="q", code="query_too_long")
    return ctx.request.app[POLICY_INDEX].search(q, ctx.query.limit, ctx.query.margin)


def setup_policies(app: web.Application, settings: Settings) -> None:
    # Settings has no policies_dir yet; config/policies is where the knowledge base ships.
    directory = Path(settings.policies_dir)
    app.cleanup_ctx.append(_index_ctx(directory, settings.office_hours))
    app.router.add_get("/policies", documents_page)
    app.router.add_get("/policies/{doc_id}", document_page)
    app.router.add_get("/policies/{doc_id}/passages/{passage_id}", document_page)


@functools.cache
def load_index(directory: Path, office_hours: str = DEFAULT_OFFICE_HOURS) -> PolicyIndex:
    """One index per process: it is read-only, and building it takes several seconds (the classifier's fit,
    about five, and jieba's dictionary).
    The FAQ's answer on the window's hours names the hours the handoff keeps (OFFICE_HOURS)."""
    return PolicyIndex.load(directory, values=deployment_values(office_hours))


def _index_ctx(directory: Path, office_hours: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def policy_index_ctx(app: web.Application) -> AsyncIterator[None]:
        # Off the event loop; a broken citation in the FAQ stops start-up here.
        app[POLICY_INDEX] = await asyncio.to_thread(load_index, directory, office_hours)
        yield

    return policy_index_ctx


async def documents_page(request: web.Request) -> web.Response:
    index = request.app[POLICY_INDEX]
    html = TEMPLATES.get_template("documents.html").render(documents=list(index.documents.values()))
    return web.Response(text=html, content_type="text/html", charset="utf-8")


async def document_page(request: web.Request) -> web.Response:
    index = request.app[POLICY_INDEX]
    document = index.documents.get(request.match_info["doc_id"])
    passage_id = request.match_info.get("passage_id")
    if document is None or (passage_id is not None and document.passage(passage_id) is None):
        html = TEMPLATES.get_template("not_found.html").render()
        return web.Response(text=html, content_type="text/html", charset="utf-8", status=404)
    html = TEMPLATES.get_template("document.html").render(page=_page(document, passage_id))
    return web.Response(text=html, content_type="text/html", charset="utf-8")


@dataclass(frozen=True)
class _Block:
    """What the template needs of one block of the document."""

    kind: str  # heading | text | passage | table
    anchor: str = ""
    level: int = 0
    lines: tuple[tuple[tuple[str, bool], ...], ...] = ()  # lines of (text, bold) runs
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (passage id, cells)


@dataclass(frozen=True)
class _Page:
    document: Document
    heading: str
    notice: _Block
    blocks: tuple[_Block, ...]
    highlight: str | None
    citation: str | None


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _runs(line: str) -> tuple[tuple[str, bool], ...]:
    """The published text marks a few words **bold**; show them bold instead of the asterisks."""
    parts = _BOLD.split(line)
    return tuple((part, i % 2 == 1) for i, part in enumerate(parts) if part)


def _lines(text: str) -> tuple[tuple[tuple[str, bool], ...], ...]:
    return tuple(_runs(line) for line in text.split("\n"))


def _page(document: Document, highlight: str | None) -> _Page:
    blocks: list[_Block] = []
    notice = _Block("passage", anchor="notice")
    for block in document.blocks:
        match block:
            case Heading(level=level, label=label, anchor=anchor):
                blocks.append(_Block("heading", anchor=anchor, level=level, lines=_lines(label)))
            case Paragraph(text=text):
                blocks.append(_Block("text", lines=_lines(text)))
            case PassageBlock(passage=passage, display=display) if passage.id == "notice":
                notice = _Block("passage", anchor=passage.id, lines=_lines(display))
            case PassageBlock(passage=passage, display=display):
                blocks.append(_Block("passage", anchor=passage.id, lines=_lines(display)))
            case Table(header=header, rows=rows):
                blocks.append(_Block("table", header=header, rows=tuple((p.id, cells) for p, cells in rows)))
    cited = document.passage(highlight) if highlight else None
    return _Page(
        document=document,
        heading=document.heading,
        notice=notice,
        blocks=tuple(blocks),
        highlight=highlight,
        citation=document.citation(cited) if cited else None,
    )
