"""A small typed route table: each endpoint declares its pydantic body, query and response models, who may
call it, and whether it honours `Idempotency-Key`. The same declarations validate requests and generate the
OpenAPI document, so the document cannot drift from the code."""

import enum
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from pydantic_core import ErrorDetails
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import auth
from backend.db import begin_write
from backend.errors import ApiError, Conflict, Forbidden, InvalidInput, Unauthorized
from backend.keys import SESSIONMAKER, SETTINGS
from backend.models import IdempotencyRecord

B = TypeVar("B")
Q = TypeVar("Q")


class Access(enum.Enum):
    PUBLIC = "public"
    SERVICE = "service"  # our own services, no applicant needed
    APPLICANT = "applicant"  # a service acting for one applicant (X-Applicant)
    STAFF = "staff"
    SERVICE_OR_STAFF = "service_or_staff"


@dataclass
class Ctx(Generic[B, Q]):
    request: web.Request
    session: AsyncSession
    caller: auth.Caller
    body: B
    query: Q

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    @property
    def applicant(self) -> str:
        # Guaranteed by Access.APPLICANT; a SERVICE_OR_STAFF view reads it when no staff member called.
        if self.caller.applicant is None:
            raise Unauthorized("缺少申请人身份（X-Applicant）")
        return self.caller.applicant


Handler = Callable[[Ctx[Any, Any]], Awaitable[BaseModel | web.StreamResponse | None]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: Access
    roles: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    idempotent: bool = False
    # A multipart upload with this file field: the handler streams the body itself (under its own cap)
    # and opens its write transaction only after that, so no lock is held while bytes arrive.
    upload: str | None = None
    # The media type of a non-JSON answer (an image), for the OpenAPI document.
    produces: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


@dataclass
class RouteTable:
    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        access: Access,
        roles: tuple[str, ...] = (),
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        idempotent: bool = False,
        upload: str | None = None,
        produces: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method,
                    path,
                    handler,
                    summary,
                    self.tag,
                    access,
                    roles,
                    body,
                    query,
                    response,
                    status,
                    idempotent,
                    upload,
                    produces,
                )
            )
            return handler

        return register


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    return web.json_response(body.model_dump(), status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# What pydantic found wrong, said in Chinese ({…} from the error's context); a type not listed keeps
# pydantic's own English text, which still names the problem.
_PROBLEMS = {
    "missing": "缺少此项",
    "extra_forbidden": "不支持此项",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "literal_error": "应为 {expected} 之一",
    "enum": "应为 {expected} 之一",
    "list_type": "应为列表",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "date_type": "应为日期（如 2026-12-04）",
    "date_parsing": "应为日期（如 2026-12-04）",
    "date_from_datetime_parsing": "应为日期（如 2026-12-04）",
    "datetime_type": "应为时间（如 2026-12-04T09:00:00+08:00）",
    "datetime_parsing": "应为时间（如 2026-12-04T09:00:00+08:00）",
    "datetime_from_date_parsing": "应为时间（如 2026-12-04T09:00:00+08:00）",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "string_pattern_mismatch": "格式不正确",
}


def _validation_error(exc: ValidationError, prefix: str) -> InvalidInput:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    field_path = f"{prefix}.{where}" if where else prefix
    return InvalidInput(f"参数 {field_path} 不正确：{_problem(first)}", field=field_path)


def _problem(error: ErrorDetails) -> str:
    template = _PROBLEMS.get(error["type"])
    if template is None:
        return error["msg"]
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if "expected" in context:  # pydantic lists choices as "'a', 'b' or 'c'"
        context["expected"] = context["expected"].replace(" or ", ", ").replace(", ", "、")
    try:
        return template.format_map(context)
    except KeyError:  # a context pydantic did not give: its own text is better than a hole
        return error["msg"]


async def read_body(request: web.Request, limit: int) -> bytes:
    """Read at most `limit` bytes; a larger body is refused while it streams, never held whole."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=total)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_body(raw: bytes, model: type[BaseModel]) -> BaseModel:
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError("请求内容不是有效的 JSON", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise ApiError("请求内容应为 JSON 对象", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, "body") from exc


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise _validation_error(exc, "query") from exc


def _authorise(endpoint: Endpoint, caller: auth.Caller) -> None:
    access = endpoint.access
    if access is Access.PUBLIC:
        return
    if access in (Access.SERVICE, Access.APPLICANT) and not caller.is_service:
        raise Unauthorized("需要服务密钥")
    if access is Access.APPLICANT and caller.applicant is None:
        raise Unauthorized("缺少申请人身份（X-Applicant）")
    if access is Access.STAFF and caller.staff is None:
        raise Unauthorized("请先登录")
    if access is Access.SERVICE_OR_STAFF and not (caller.is_service or caller.staff):
        raise Unauthorized("需要服务密钥或工作人员登录")
    if endpoint.roles and caller.staff is not None and caller.staff.role not in endpoint.roles:
        raise Forbidden("您的账号没有此操作的权限")


def _make_view(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def view(request: web.Request) -> web.StreamResponse:
        settings = request.app[SETTINGS]
        raw = b""
        if endpoint.body is not None:
            raw = await read_body(request, settings.max_json_bytes)
        # Identify in a short session of its own: on SQLite the handler's write transaction must not be
        # open while the idempotency claim (another session) needs the write lock.
        async with request.app[SESSIONMAKER]() as session:
            caller = await auth.identify(request, session, settings)
        _authorise(endpoint, caller)
        body = _parse_body(raw, endpoint.body) if endpoint.body is not None else None
        query = _parse_query(request, endpoint.query) if endpoint.query is not None else None
        call = _Call(request, caller, body, query)
        key = request.headers.get("Idempotency-Key")
        if endpoint.idempotent and key:
            return await _idempotent(call, endpoint, key, raw)
        return await _call(call, endpoint)

    view.__name__ = endpoint.handler.__name__
    return view


@dataclass(frozen=True)
class _Call:
    request: web.Request
    caller: auth.Caller
    body: Any
    query: Any


async def _call(call: _Call, endpoint: Endpoint) -> web.StreamResponse:
    async with call.request.app[SESSIONMAKER]() as session:
        if endpoint.method != "GET" and endpoint.upload is None:
            await begin_write(session)
        ctx: Ctx[Any, Any] = Ctx(call.request, session, call.caller, call.body, call.query)
        result = await endpoint.handler(ctx)
    if isinstance(result, web.StreamResponse):
        return result
    if result is None:
        return web.Response(status=204)
    return web.json_response(result.model_dump(mode="json"), status=endpoint.status, dumps=_dumps)


async def _idempotent(call: _Call, endpoint: Endpoint, key: str, raw: bytes) -> web.StreamResponse:
    if len(key) > 200:
        raise InvalidInput("Idempotency-Key 过长（最多 200 个字符）", field="Idempotency-Key")
    request_hash = hashlib.sha256(f"{endpoint.method} {call.request.path}\n".encode() + raw).hexdigest()
    scope = call.caller.identity
    sessionmaker = call.request.app[SESSIONMAKER]
    async with sessionmaker() as claim:
        await begin_write(claim)
        claim.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash))
        try:
            await claim.commit()
        except IntegrityError:
            await claim.rollback()
            first = await claim.get(IdempotencyRecord, (scope, key))
            if first is None:  # deleted after a failed first attempt: just run again
                return await _call(call, endpoint)
            if first.request_hash != request_hash:
                raise Conflict(
                    "该 Idempotency-Key 已用于另一个不同的请求", code="idempotency_key_reused"
                ) from None
            if first.status is None or first.body is None:
                raise Conflict("相同的请求正在处理中，请稍后再试", code="request_in_progress") from None
            return web.Response(
                status=first.status,
                text=first.body,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
    try:
        response = await _call(call, endpoint)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.field)
    except BaseException:
        async with sessionmaker() as cleanup:
            await begin_write(cleanup)
            record = await cleanup.get(IdempotencyRecord, (scope, key))
            if record is not None:
                await cleanup.delete(record)
                await cleanup.commit()
        raise
    async with sessionmaker() as store:
        await begin_write(store)
        record = await store.get(IdempotencyRecord, (scope, key))
        if record is not None and isinstance(response, web.Response):
            record.status = response.status
            record.body = response.text or ""
            await store.commit()
    return response


def add_routes(app: web.Application, tables: list[RouteTable], prefix: str = "/api/v1") -> None:
    for table in tables:
        for endpoint in table.endpoints:
            app.router.add_route(endpoint.method, prefix + endpoint.path, _make_view(endpoint))


_PATH_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")


def openapi_document(
    tables: list[RouteTable], *, title: str, version: str, prefix: str = "/api/v1"
) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = [(ErrorBody, "serialization")]
    for table in tables:
        for ep in table.endpoints:
            if ep.body is not None:
                models.append((ep.body, "validation"))
            if ep.response is not None:
                models.append((ep.response, "serialization"))
    refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for table in tables:
        for ep in table.endpoints:
            paths.setdefault(_PATH_PARAM.sub(r"{\1}", prefix + ep.path), {})[ep.method.lower()] = _operation(
                ep, refs
            )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "serviceKey": {"type": "apiKey", "in": "header", "name": "X-Service-Key"},
                "applicant": {"type": "apiKey", "in": "header", "name": "X-Applicant"},
                "staffToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }


_SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    Access.PUBLIC: [],
    Access.SERVICE: [{"serviceKey": []}],
    Access.APPLICANT: [{"serviceKey": [], "applicant": []}],
    Access.STAFF: [{"staffToken": []}],
    Access.SERVICE_OR_STAFF: [{"serviceKey": []}, {"staffToken": []}],
}


def _operation(ep: Endpoint, refs: Mapping[tuple[Any, Any], Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(ep.path)
    ]
    if ep.query is not None:
        for name, info in ep.query.model_fields.items():
            params.append(
                {
                    "name": info.alias or name,
                    "in": "query",
                    "required": info.is_required(),
                    "schema": ep.query.model_json_schema()["properties"][info.alias or name],
                }
            )
    if ep.idempotent:
        params.append(
            {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}
        )
    error = {
        "description": "错误（中文说明）",
        "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}},
    }
    success: dict[str, Any] = {"description": ep.summary}
    if ep.response is not None:
        success["content"] = {"application/json": {"schema": refs[(ep.response, "serialization")]}}
    elif ep.produces is not None:
        success["content"] = {ep.produces: {"schema": {"type": "string", "format": "binary"}}}
    op: dict[str, Any] = {
        "operationId": ep.handler.__name__,
        "summary": ep.summary,
        "tags": [ep.tag],
        "parameters": params,
        "security": _SECURITY[ep.access],
        "responses": {str(ep.status): success, "4XX": error},
    }
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(ep.body, "validation")]}},
        }
    if ep.upload is not None:
        upload = {
            "type": "object",
            "required": [ep.upload],
            "properties": {ep.upload: {"type": "string", "format": "binary"}},
        }
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": upload}}}
    return op
