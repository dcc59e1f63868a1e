"""Request and response models of the REST API (they also generate its OpenAPI document)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal["open", "change", "cancel"]
Decision = Literal["approve", "request_correction", "reject", "schedule_inspection"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- applications -------------------------------------------------------------------------------------


class ApplicantInfo(Strict):
    operator_name: str | None = Field(default=None, max_length=200, description="经营者/企业名称")
    legal_representative: str | None = Field(default=None, max_length=100, description="法定代表人/负责人")
    address: str | None = Field(default=None, max_length=300, description="经营场所")
    phone: str | None = Field(default=None, pattern=r"^1[3-9]\d{9}$", description="手机号")


class LicenceChanges(Strict):
    operator_name: str | None = Field(default=None, max_length=200)
    legal_representative: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)


class ApplicationCreate(Strict):
    package_id: str | None = Field(default=None, max_length=64, description="开办时必填：行业套餐")
    operation: Operation = "open"
    answers: dict[str, Any] = Field(default_factory=dict)
    applicant: ApplicantInfo = Field(default_factory=ApplicantInfo)
    licence_number: str | None = Field(default=None, max_length=32, description="变更/注销时必填")
    changes: LicenceChanges | None = None


class ApplicationUpdate(Strict):
    answers: dict[str, Any] | None = None
    applicant: ApplicantInfo | None = None
    changes: LicenceChanges | None = None


class MaterialAttach(Strict):
    material_id: str = Field(max_length=64)
    file_id: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=500)


class CommitmentCreate(Strict):
    material_id: str = Field(max_length=64)
    kind: Literal["later", "pledge"] = Field(
        default="later", description="later=容缺后补（非关键材料）；pledge=告知承诺（目录允许时以承诺代替）"
    )


class MaterialFile(BaseModel):
    """A stored file attached to a material, with signed URLs that expire (paths on the backend)."""

    file_id: str
    content_type: str
    url: str
    thumbnail_url: str | None
    warnings: list[str] = Field(
        default_factory=list, description="上传时发现的质量问题（模糊、偏暗；中文，可直接转告申请人）"
    )


class MaterialItem(BaseModel):
    material_id: str
    name: str
    description: str
    key: bool
    commitment_covers: bool
    needed_by: list[str]
    reasons: list[str]
    status: str
    status_label: str
    file_ids: list[str]
    files: list[MaterialFile] = Field(default_factory=list)
    commitment: str | None
    commitment_deadline: date | None
    commitment_overdue: bool = Field(default=False, description="容缺后补的期限已过，仍未补交")
    delivered_at: datetime | None = Field(default=None, description="受理后补交容缺材料的时间")
    problem: str | None
    can_supply_later: bool = Field(default=False, description="现在可以选择容缺后补（非关键材料，受理前）")
    can_pledge: bool = Field(default=False, description="现在可以选择告知承诺（目录允许时，受理前）")
    supply_later_by: date | None = Field(default=None, description="现在选择容缺后补时的补交期限")


class CorrectionItem(BaseModel):
    material_id: str
    name: str
    description: str
    needed_by: list[str]
    problem: str
    can_supply_later: bool
    can_pledge: bool


class CorrectionNotice(BaseModel):
    """一次性告知单: everything that is missing, said once."""

    issued_at: datetime
    items: list[CorrectionItem]
    unanswered: list[str] = Field(default_factory=list)
    missing_fields: list[str] = Field(default_factory=list)
    message: str
    # The whole one-time notice as plain text (every licence and material with its status), for chat.
    notice_text: str | None = None


class TaskOut(BaseModel):
    id: int
    matter_id: str
    licence_name: str
    department_id: str
    department_name: str
    status: str
    status_label: str
    round: int
    started_on: date | None
    due_date: date | None
    overdue: bool
    reason: str | None
    problems: list[dict[str, Any]]
    inspection_date: date | None
    inspection_day: str | None = Field(default=None, description="现场核查日期，带星期，如 12月5日（周六）")
    decided_at: datetime | None


class ApplicationOut(BaseModel):
    code: str
    package_id: str
    package_name: str
    operation: Operation
    operation_label: str
    status: str
    status_label: str
    answers: dict[str, Any]
    applicant: ApplicantInfo
    changes: dict[str, Any]
    licence_number: str | None
    materials: list[MaterialItem]
    missing_key_materials: list[str]
    tasks: list[TaskOut]
    correction_notice: CorrectionNotice | None
    promised_days: int
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    completed_at: datetime | None
    previous_code: str | None = Field(default=None, description="重新申请时：原先不予许可的申请的统一编码")
    notice_url: str | None = Field(
        default=None,
        description="一次性告知单图片的公开链接（后端上的路径，签名，7 天内有效），可直接发给申请人",
    )


class CommitmentOut(ApplicationOut):
    message: str = Field(
        description="给申请人的说明：补交期限；重复承诺时说明期限不变（再次承诺不会顺延期限）"
    )


class ApplicationList(BaseModel):
    applications: list[ApplicationOut]


class ChecklistNoticeCreate(Strict):
    package_id: str = Field(max_length=64)
    answers: dict[str, Any] = Field(default_factory=dict)


class NoticeLink(BaseModel):
    notice_url: str = Field(description="一次性告知单图片的公开链接（后端上的路径，签名，到期失效）")
    expires_at: datetime


# --- tasks --------------------------------------------------------------------------------------------


class MaterialProblem(Strict):
    material_id: str = Field(max_length=64)
    problem: str = Field(min_length=1, max_length=500)


class DecisionCreate(Strict):
    decision: Decision
    reason: str | None = Field(default=None, max_length=1000)
    problems: list[MaterialProblem] = Field(default_factory=list, max_length=50)
    inspection_date: date | None = None


class TaskQuery(Strict):
    status: str | None = None
    overdue: bool = False
    department_id: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class ReviewTaskOut(TaskOut):
    application_code: str
    package_name: str
    operator_name: str | None
    overdue_materials: list[str] = Field(default_factory=list, description="申请中已过期限仍未补交的容缺材料")
    new_materials: list[str] = Field(
        default_factory=list, description="本事项需要、在审批人上次查看或决定之后补交的容缺材料"
    )


class TaskList(BaseModel):
    tasks: list[ReviewTaskOut]


# --- licences -----------------------------------------------------------------------------------------


class PermitOut(BaseModel):
    matter_id: str
    licence_name: str
    department_name: str
    status: str
    status_label: str
    valid_from: date
    valid_until: date | None
    updated_at: datetime


class LicenceOut(BaseModel):
    number: str
    status: str
    status_label: str
    industry: str
    operator_name: str
    legal_representative: str
    address: str
    issued_at: datetime
    updated_at: datetime
    revision: int
    permits: list[PermitOut]
    verification_url: str | None = None
    card_url: str | None = None


class LicenceList(BaseModel):
    licences: list[LicenceOut]


# --- files --------------------------------------------------------------------------------------------


class FileOut(BaseModel):
    file_id: str
    content_type: str = Field(description="image/jpeg（照片已统一转为 JPEG）或 application/pdf")
    width: int | None
    height: int | None
    warnings: list[str] = Field(description="可以接收但可能影响审核的问题（中文，可直接转告申请人）")
    url: str = Field(description="签名链接（后端上的路径），短时有效")
    thumbnail_url: str | None


# --- events -------------------------------------------------------------------------------------------


class EventOut(BaseModel):
    id: int
    type: str
    applicant: str | None
    application_code: str | None
    payload: dict[str, Any]
    created_at: datetime


class EventQuery(Strict):
    after: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)


class EventList(BaseModel):
    events: list[EventOut]


class CursorUpdate(Strict):
    last_id: int = Field(ge=0)


class CursorOut(BaseModel):
    consumer: str
    last_id: int


# --- staff --------------------------------------------------------------------------------------------


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    department_id: str | None
    active: bool


class LoginResponse(BaseModel):
    token: str
    csrf_token: str
    expires_at: datetime
    staff: StaffOut


class StaffCreate(Strict):
    username: str = Field(pattern=r"^[a-z][a-z0-9_.-]{2,63}$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=10, max_length=200)
    role: Literal["agent", "reviewer", "admin"]
    department_id: str | None = Field(default=None, max_length=64)


class StaffList(BaseModel):
    staff: list[StaffOut]


class AuditOut(BaseModel):
    id: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    created_at: datetime


class AuditList(BaseModel):
    entries: list[AuditOut]


class AuditQuery(Strict):
    target: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    catalog_packages: int


# --- handoffs (human service) and ratings ---------------------------------------------------------------

HandoffReason = Literal["asked", "fallback", "complaint"]
HandoffStatus = Literal["waiting", "claimed", "closed"]


class HandoffCreate(Strict):
    reason: HandoffReason = Field(description="asked=申请人要求人工；fallback=助手两次未理解；complaint=投诉")
    note: str | None = Field(default=None, max_length=1000, description="申请人最后说的话或助手的说明")


class HandoffOut(BaseModel):
    """What the applicant (through the gateway) learns about its handoff."""

    id: int
    status: HandoffStatus
    status_label: str
    reason: HandoffReason
    in_office_hours: bool
    message: str = Field(description="给申请人的中文说明（非工作时间会说明何时答复并提供 12345 热线）")
    waiting_before: int = Field(description="排在前面的等待人数")
    created_at: datetime


class HandoffMessageCreate(Strict):
    text: str = Field(min_length=1, max_length=2000)


class HandoffMessageOut(BaseModel):
    id: int
    handoff_id: int
    sender: Literal["applicant", "staff"]
    staff_name: str | None
    text: str
    created_at: datetime


class HandoffQuery(Strict):
    status: HandoffStatus | None = Field(default=None, description="不填：等待中和服务中的")
    limit: int = Field(default=100, ge=1, le=500)


class HandoffSummary(BaseModel):
    id: int
    applicant: str
    reason: HandoffReason
    reason_label: str
    note: str | None
    status: HandoffStatus
    status_label: str
    claimed_by: str | None = Field(description="接待人员的用户名")
    claimed_by_name: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    waiting_seconds: int = Field(description="从请求到接入（未接入：到现在）的秒数")
    message_count: int
    last_message: str | None
    last_message_at: datetime | None


class HandoffList(BaseModel):
    handoffs: list[HandoffSummary]


class HandoffDetail(HandoffSummary):
    messages: list[HandoffMessageOut]
    applications: list[ApplicationOut]


class RatingCreate(Strict):
    score: int = Field(ge=1, le=5, strict=True, description="1–5 分")
    comment: str | None = Field(default=None, max_length=1000)
    application_code: str | None = Field(default=None, max_length=32, description="评价的申请（须是本人的）")
    handoff_id: int | None = Field(default=None, ge=1, description="评价的人工服务（须是本人的）")


class RatingOut(BaseModel):
    id: int
    score: int
    comment: str | None
    application_code: str | None
    handoff_id: int | None
    created_at: datetime
