"""Bad input gets a clear 4xx with a Chinese message, and loses nothing."""

from typing import Any, Literal

import pytest
from pydantic import AnyUrl, BaseModel, Field, ValidationError

from backend.api import _validation_error
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.test_lifecycle import INFO, answer_everything, restaurant_package

OWNER = "wechat:oOwner000000000000000001"
STRANGER = "web:stranger-7"


async def draft(api: Api) -> dict[str, Any]:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    return await api.call(
        "POST",
        "/applications",
        applicant=OWNER,
        expect=201,
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )


async def test_unknown_package_and_code(api: Api) -> None:
    body = await api.call(
        "POST", "/checklists", json={"package_id": "no_such_thing", "answers": {}}, expect=404
    )
    assert body["error"]["field"] == "package_id" and "行业" in body["error"]["message"]
    body = await api.call("GET", "/applications/ZL-20260101-ABCDEF", applicant=OWNER, expect=404)
    assert body["error"]["message"] == "未找到该申请，请核对统一编码"
    await api.call("GET", "/applications/not-a-code", applicant=OWNER, expect=404)
    await api.call("GET", "/catalog/packages/nope", expect=404)


async def test_invalid_answers_name_the_field(api: Api) -> None:
    package = await restaurant_package(api)
    body = await api.call(
        "POST",
        "/checklists",
        expect=422,
        json={"package_id": package["id"], "answers": {"no_such_question": True}},
    )
    assert body["error"]["field"] == "answers.no_such_question"
    number_question = next(
        (
            q
            for q in package_questions(await api.call("GET", f"/catalog/packages/{package['id']}"))
            if q["type"] == "number"
        ),
        None,
    )
    if number_question is not None:
        body = await api.call(
            "POST",
            "/checklists",
            expect=422,
            json={"package_id": package["id"], "answers": {number_question["id"]: "很大"}},
        )
        assert body["error"]["field"] == f"answers.{number_question['id']}"


def package_questions(package: dict[str, Any]) -> list[dict[str, Any]]:
    return list(package["questions"])


async def test_someone_elses_application_is_not_found(api: Api) -> None:
    application = await draft(api)
    code = application["code"]
    for method, path, body in [
        ("GET", f"/applications/{code}", None),
        ("PATCH", f"/applications/{code}", {"applicant": {"address": "别处"}}),
        ("POST", f"/applications/{code}/submit", None),
        ("POST", f"/applications/{code}/materials", {"material_id": "x"}),
    ]:
        error = await api.call(method, path, applicant=STRANGER, json=body, expect=404)
        assert error["error"]["code"] == "not_found"
    assert (await api.call("GET", "/applications", applicant=STRANGER))["applications"] == []
    mine = await api.call("GET", f"/applications/{code}", applicant=OWNER)
    assert mine["applicant"]["address"] == INFO["address"]


async def test_reviewer_of_another_department_cannot_decide(api: Api) -> None:
    application = await draft(api)
    code = application["code"]
    for material in application["materials"]:
        await api.call(
            "POST",
            f"/applications/{code}/materials",
            applicant=OWNER,
            json={"material_id": material["material_id"]},
        )
    accepted = await api.call("POST", f"/applications/{code}/submit", applicant=OWNER)
    task = next(t for t in accepted["tasks"] if t["status"] == "pending")
    departments = (await api.call("GET", "/catalog/departments"))["departments"]
    other = next(d["id"] for d in departments if d["id"] != task["department_id"])
    token = await api.reviewer(other, "otherdept")
    body = await api.call(
        "POST", f"/tasks/{task['id']}/decisions", token=token, json={"decision": "approve"}, expect=403
    )
    assert "本部门" in body["error"]["message"]
    listed = await api.call("GET", "/tasks", token=token)
    assert all(t["department_id"] == other for t in listed["tasks"])
    await api.call("GET", f"/tasks?department_id={task['department_id']}", token=token, expect=403)
    still = await api.call("GET", f"/applications/{code}", applicant=OWNER)
    assert next(t for t in still["tasks"] if t["id"] == task["id"])["status"] == "pending"


async def test_malformed_and_oversized_bodies(api: Api) -> None:
    headers = {**api.applicant_headers(OWNER), "Content-Type": "application/json"}
    response = await api.client.post("/api/v1/applications", data=b"{not json", headers=headers)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "malformed_json"
    response = await api.client.post("/api/v1/applications", data=b"[1, 2]", headers=headers)
    assert response.status == 400
    big = b'{"package_id": "' + b"x" * (300 * 1024) + b'"}'
    response = await api.client.post("/api/v1/applications", data=big, headers=headers)
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"

    async def chunks():  # no Content-Length: the limit must hold while streaming
        for _ in range(100):
            yield b" " * 16384

    response = await api.client.post("/api/v1/applications", data=chunks(), headers=headers)
    assert response.status == 413
    body = await api.call("POST", "/applications", applicant=OWNER, json={"package_id": 5}, expect=422)
    assert body["error"]["field"] == "body.package_id"
    assert body["error"]["message"] == "参数 body.package_id 不正确：应为文本"


async def test_idempotency_key_with_a_different_body(api: Api) -> None:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    payload = {"package_id": package["id"], "answers": answers, "applicant": INFO}
    headers = {"Idempotency-Key": "same-key"}
    first = await api.call(
        "POST", "/applications", applicant=OWNER, json=payload, headers=headers, expect=201
    )
    changed = {**payload, "applicant": {**INFO, "address": "另一个地址"}}
    body = await api.call("POST", "/applications", applicant=OWNER, json=changed, headers=headers, expect=409)
    assert body["error"]["code"] == "idempotency_key_reused"
    listed = await api.call("GET", "/applications", applicant=OWNER)
    assert [a["code"] for a in listed["applications"]] == [first["code"]]
    # The same key from another applicant is a different request, not a conflict.
    await api.call("POST", "/applications", applicant=STRANGER, json=payload, headers=headers, expect=201)


async def test_authentication_errors(api: Api) -> None:
    response = await api.client.get("/api/v1/applications")
    assert response.status == 401 and "服务密钥" in (await response.json())["error"]["message"]
    response = await api.client.get("/api/v1/applications", headers={"X-Service-Key": "wrong-key-123"})
    assert response.status == 401
    response = await api.client.get(
        "/api/v1/applications", headers={"X-Service-Key": SERVICE_KEY, "X-Applicant": "nochannel"}
    )
    assert response.status == 422
    response = await api.client.get("/api/v1/tasks")
    assert response.status == 401
    response = await api.client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged"})
    assert response.status == 401
    response = await api.client.get("/api/v1/no/such/route")
    assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"


async def test_staff_lockout_after_repeated_failures(api: Api) -> None:
    for _ in range(5):
        await api.call("POST", "/staff/login", json={"username": "admin", "password": "wrong"}, expect=401)
    body = await api.call(
        "POST", "/staff/login", json={"username": "admin", "password": "admin-password-123"}, expect=401
    )
    assert body["error"]["code"] == "locked"
    entries = await api.call("GET", "/audit", headers={"X-Service-Key": SERVICE_KEY}, expect=401)
    assert entries["error"]["code"] == "unauthorized"


async def test_agent_cannot_reach_admin_or_decisions(api: Api) -> None:
    admin = await api.admin()
    await api.call(
        "POST",
        "/staff",
        token=admin,
        expect=201,
        json={"username": "agent1", "display_name": "窗口一", "password": "agent-pass-1234", "role": "agent"},
    )
    agent = await api.login("agent1", "agent-pass-1234")
    await api.call("GET", "/staff", token=agent, expect=403)
    await api.call("GET", "/tasks", token=agent, expect=403)
    body = await api.call(
        "POST",
        "/staff",
        token=admin,
        expect=422,
        json={
            "username": "rev9",
            "display_name": "x",
            "password": "reviewer-pass-1",
            "role": "reviewer",
            "department_id": "nowhere",
        },
    )
    assert body["error"]["field"] == "body.department_id"


async def test_openapi_document_lists_the_api(api: Api) -> None:
    doc = await api.call("GET", "/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/applications/{code}/submit" in doc["paths"]
    create = doc["paths"]["/api/v1/applications"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.split("/")[-1] in doc["components"]["schemas"]
    health = await api.client.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"


class _Shape(BaseModel):
    status: Literal["waiting", "closed"]
    size: int = Field(ge=1)
    site: AnyUrl | None = None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"size": 1}, "参数 body.status 不正确：缺少此项"),
        ({"status": "lost", "size": 1}, "参数 body.status 不正确：应为 'waiting'、'closed' 之一"),
        ({"status": "closed", "size": 0}, "参数 body.size 不正确：应不小于 1"),
        # A problem without a Chinese wording keeps pydantic's own text rather than a vague one.
        ({"status": "closed", "size": 1, "site": "::"}, "参数 body.site 不正确：Input should be a valid URL"),
    ],
)
def test_validation_messages_are_chinese_where_pydantic_has_a_known_problem(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _Shape.model_validate(data)
    assert _validation_error(caught.value, "body").message.startswith(message)
