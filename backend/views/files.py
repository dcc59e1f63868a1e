"""Materials' files: an applicant's upload (multipart, streamed under a cap, checked and normalised off
the event loop) and downloads through signed, expiring links."""

from aiohttp import BodyPartReader, web

from backend import files
from backend.api import Access, Ctx, RouteTable
from backend.errors import ApiError
from backend.keys import FILES, PICTURES, SETTINGS
from backend.materials.imaging import Rejected, too_large_message
from backend.materials.storage import TooLarge, read_capped
from backend.representations import file_out
from backend.schemas import FileOut

routes = RouteTable(tag="files")

FIELD = "file"
# Room for the multipart boundaries and part headers around a file of the maximum size.
MULTIPART_OVERHEAD = 64 * 1024
MAX_PARTS = 10


def _too_large(limit: int) -> files.UploadRefused:
    return files.UploadRefused(too_large_message(limit), code="too_large", status=413)


async def _read_file_field(request: web.Request, limit: int) -> tuple[bytes, str | None]:
    """The bytes of the `file` field, refused the moment they pass `limit`; other fields are skipped."""
    if request.content_type != "multipart/form-data":
        raise ApiError("请以 multipart/form-data 上传，文件放在 file 字段", code="not_multipart")
    try:
        reader = await request.multipart()
        for _ in range(MAX_PARTS):
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, BodyPartReader) and part.name == FIELD:
                return await read_capped(part, limit), part.filename
            await part.release()
    except TooLarge:
        raise _too_large(limit) from None
    except (ValueError, LookupError, AssertionError) as exc:
        raise ApiError("上传内容格式不正确，请重新上传", code="malformed_upload") from exc
    raise ApiError("没有收到文件（multipart 字段 file）", code="file_missing", field=FIELD)


@routes.route(
    "POST",
    "/files",
    summary="上传材料的照片或 PDF（照片统一转为 JPEG 并去除位置等元数据）",
    access=Access.APPLICANT,
    response=FileOut,
    status=201,
    upload=FIELD,
)
async def upload_file(ctx: Ctx[None, None]) -> FileOut:
    app = ctx.request.app
    settings = app[SETTINGS]
    limit = settings.max_upload_bytes
    length = ctx.request.content_length
    if length is not None and length > limit + MULTIPART_OVERHEAD:
        raise _too_large(limit)
    data, name = await _read_file_field(ctx.request, limit)
    result = await app[PICTURES].process_upload(data)
    del data
    if isinstance(result, Rejected):
        raise files.UploadRefused.from_result(result)
    stored = await files.keep(
        ctx.session, store=app[FILES], owner=ctx.applicant, result=result, original_name=name
    )
    return file_out(settings, stored, subject=ctx.applicant)


@routes.route(
    "GET",
    "/files/{token}",
    summary="凭签名链接读取文件（链接短时有效；工作人员的每次读取都记入审计日志）",
    access=Access.PUBLIC,
    produces="application/octet-stream",
)
async def download_file(ctx: Ctx[None, None]) -> web.StreamResponse:
    app = ctx.request.app
    download = await files.open_download(
        ctx.session, settings=app[SETTINGS], store=app[FILES], token=ctx.path("token")
    )
    disposition = "attachment" if download.attachment else "inline"
    return web.FileResponse(
        download.path,
        headers={
            "Content-Type": download.content_type,
            "Content-Disposition": f'{disposition}; filename="{download.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Referrer-Policy": "no-referrer",
        },
    )
