"""Every failure becomes a JSON error with a Chinese message; nothing leaks a stack trace."""

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from backend.api import error_response
from backend.errors import ApiError

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    404: ("not_found", "没有这个地址"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "请求内容过大"),
}


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        code, message = HTTP_MESSAGES.get(exc.status, ("http_error", exc.reason))
        return error_response(exc.status, code, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务暂时出现问题，请稍后再试")
