"""Database models: the backend's business state. Nothing outside `backend/` imports SQLAlchemy."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Always-aware UTC datetimes: SQLite hands back naive values, PostgreSQL aware ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012  (SQLAlchemy reads it as a plain class attribute)
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Applicant(Base):
    """Someone reaching us on a channel; `key` is `<channel>:<user_id>`, e.g. a WeChat openid."""

    __tablename__ = "applicants"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_applicant", "applicant_id", "created_at"),
        Index("uq_applications_previous", "previous_code", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    package_id: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    applicant_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    licence_id: Mapped[int | None] = mapped_column(
        ForeignKey("licences.id", use_alter=True, name="fk_applications_licence")
    )
    correction_notice: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The refused application this one reapplies for (重新申请): at most one each (uq_applications_previous).
    previous_code: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (read once by the mapper)

    applicant: Mapped[Applicant] = relationship(lazy="joined")
    materials: Mapped[list["ApplicationMaterial"]] = relationship(
        back_populates="application", order_by="ApplicationMaterial.id", lazy="selectin"
    )
    tasks: Mapped[list["DepartmentTask"]] = relationship(
        back_populates="application", order_by="DepartmentTask.id", lazy="selectin"
    )


class ApplicationMaterial(Base):
    """One checklist item of an application: provided files, or a promise to supply it (容缺 / 告知承诺)."""

    __tablename__ = "application_materials"
    __table_args__ = (UniqueConstraint("application_id", "material_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    material_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    file_ids: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(Text)
    commitment: Mapped[str | None] = mapped_column(String(16))
    commitment_deadline: Mapped[date | None] = mapped_column(Date)
    problem: Mapped[str | None] = mapped_column(Text)
    # When a material promised for later (容缺后补) arrived after acceptance: news for the reviewers.
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship(back_populates="materials")


class DepartmentTask(Base):
    __tablename__ = "department_tasks"
    __table_args__ = (Index("ix_tasks_department_status", "department_id", "status", "due_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    matter_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(default=1)
    started_on: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    inspection_date: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    # When a reviewer last marked the materials delivered later (容缺后补) as seen.
    materials_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="tasks")


class Licence(Base):
    """The comprehensive licence (行业综合许可证); its permits change in place so old QR codes stay live."""

    __tablename__ = "licences"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    package_id: Mapped[str] = mapped_column(String(64))
    industry: Mapped[str] = mapped_column(String(100))
    operator_name: Mapped[str] = mapped_column(String(200))
    legal_representative: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)

    permits: Mapped[list["Permit"]] = relationship(
        back_populates="licence", order_by="Permit.id", lazy="selectin"
    )


class Permit(Base):
    __tablename__ = "permits"
    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"))
    matter_id: Mapped[str] = mapped_column(String(64))
    licence_name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    licence: Mapped[Licence] = relationship(back_populates="permits")


class Event(Base):
    """Transactional outbox: written with the state change, relayed to the Redis Stream afterwards."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_unpublished", "published_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    applicant: Mapped[str | None] = mapped_column(String(200))
    application_code: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]


class EventCursor(Base):
    """A consumer's durable position in the event log, so it can replay after losing Redis."""

    __tablename__ = "event_cursors"
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """Bearer tokens and console cookies; only the token's hash is stored."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[StaffUser] = relationship(lazy="joined")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFile(Base):
    """A normalised upload, content-addressed; `owner` is the applicant key that uploaded it."""

    __tablename__ = "stored_files"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    original_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Handoff(Base):
    """A conversation handed to a person (帮办代办)."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status", "status", "created_at"),
        # At most one open handoff per applicant, even when two requests race (migration 0003).
        Index(
            "uq_handoffs_open_applicant",
            "applicant_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'claimed')"),
            sqlite_where=text("status IN ('waiting', 'claimed')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    applicant: Mapped[Applicant] = relationship(lazy="joined")
    messages: Mapped[list["HandoffMessage"]] = relationship(order_by="HandoffMessage.id", lazy="selectin")


class HandoffMessage(Base):
    __tablename__ = "handoff_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"))
    sender: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    application_code: Mapped[str | None] = mapped_column(String(32))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommitmentReminder(Base):
    """A `commitment.due_soon` notice already sent for one 容缺 material and deadline (sent once)."""

    __tablename__ = "commitment_reminders"
    __table_args__ = (UniqueConstraint("material_row_id", "deadline"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    material_row_id: Mapped[int] = mapped_column(ForeignKey("application_materials.id", ondelete="CASCADE"))
    deadline: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommitmentOverdue(Base):
    """A `commitment.overdue` notice already sent for one 容缺 material and deadline (sent once)."""

    __tablename__ = "commitment_overdue"
    __table_args__ = (UniqueConstraint("material_row_id", "deadline"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    material_row_id: Mapped[int] = mapped_column(ForeignKey("application_materials.id", ondelete="CASCADE"))
    deadline: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
