"""The catalog (sample data a service centre edits) and the personalised checklist."""

from pydantic import BaseModel, Field

from backend.api import Access, Ctx, RouteTable
from backend.catalog import (
    Catalog,
    CatalogLookupError,
    Checklist,
    Department,
    InvalidAnswer,
    Matter,
    Question,
)
from backend.errors import InvalidInput, NotFound
from backend.keys import DOMAIN
from backend.policies.search import passage_url
from backend.schemas import Strict

routes = RouteTable(tag="catalog")


class PackageSummary(BaseModel):
    id: str
    name: str
    industry: str
    aliases: list[str]
    summary: str
    matters: list[str]
    source: str = Field(description="依据的政策文件及条目")
    source_url: str | None = Field(
        description="依据的附件1条目在原文页面中的位置（相对地址，“查看原文”）；不在附件1中时为 null"
    )


class PackageList(BaseModel):
    packages: list[PackageSummary]


class PackageDetail(PackageSummary):
    questions: list[Question]
    matter_details: list[Matter]


class MatterList(BaseModel):
    matters: list[Matter]


class DepartmentList(BaseModel):
    departments: list[Department]


class ChecklistRequest(Strict):
    package_id: str = Field(max_length=64)
    answers: dict[str, object] = Field(default_factory=dict)


def _summary(catalog: Catalog, package_id: str) -> PackageSummary:
    package = catalog.packages[package_id]
    return PackageSummary(
        id=package.id,
        name=package.name,
        industry=package.industry,
        aliases=list(package.aliases),
        summary=package.summary,
        matters=list(package.matters),
        source=package.source,
        source_url=_source_url(catalog, package_id),
    )


def _source_url(catalog: Catalog, package_id: str) -> str | None:
    ref = catalog.annex_ref(package_id)
    if ref is None:
        return None
    doc_id, passage_id = ref.split("#", 1)
    return passage_url(doc_id, passage_id)


@routes.route(
    "GET", "/catalog/packages", summary="行业套餐（示例数据）", access=Access.PUBLIC, response=PackageList
)
async def list_packages(ctx: Ctx[None, None]) -> PackageList:
    catalog = ctx.request.app[DOMAIN].catalog
    return PackageList(packages=[_summary(catalog, pid) for pid in catalog.packages])


@routes.route(
    "GET",
    "/catalog/packages/{package_id}",
    summary="套餐详情：事项与问题",
    access=Access.PUBLIC,
    response=PackageDetail,
)
async def get_package(ctx: Ctx[None, None]) -> PackageDetail:
    catalog = ctx.request.app[DOMAIN].catalog
    package = catalog.packages.get(ctx.path("package_id"))
    if package is None:
        raise NotFound(
            f"没有这个行业套餐：{ctx.path('package_id')}", field="package_id", code="unknown_package"
        )
    return PackageDetail(
        **_summary(catalog, package.id).model_dump(),
        questions=list(package.questions),
        matter_details=[catalog.matters[m] for m in package.matters],
    )


@routes.route("GET", "/catalog/matters", summary="全部审批事项", access=Access.PUBLIC, response=MatterList)
async def list_matters(ctx: Ctx[None, None]) -> MatterList:
    return MatterList(matters=list(ctx.request.app[DOMAIN].catalog.matters.values()))


@routes.route(
    "GET", "/catalog/departments", summary="审批部门", access=Access.PUBLIC, response=DepartmentList
)
async def list_departments(ctx: Ctx[None, None]) -> DepartmentList:
    return DepartmentList(departments=list(ctx.request.app[DOMAIN].catalog.departments.values()))


@routes.route(
    "POST",
    "/checklists",
    summary="根据回答生成个性化材料清单（一次告知）",
    access=Access.PUBLIC,
    body=ChecklistRequest,
    response=Checklist,
)
async def make_checklist(ctx: Ctx[ChecklistRequest, None]) -> Checklist:
    catalog = ctx.request.app[DOMAIN].catalog
    try:
        return catalog.checklist(ctx.body.package_id, ctx.body.answers)
    except CatalogLookupError as exc:
        raise NotFound(
            f"没有这个行业套餐：{ctx.body.package_id}", field="package_id", code="unknown_package"
        ) from exc
    except InvalidAnswer as exc:
        raise InvalidInput(exc.message, field=f"answers.{exc.field}", code="invalid_answer") from exc
