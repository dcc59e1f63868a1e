"""Backend configuration, read from the environment (and `.env`) once, in `main()`."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.office_hours import OfficeHours

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    backend_host: str = "127.0.0.1"
    backend_port: int = 8080
    # The embedded default needs no server; production and the test suite also use PostgreSQL.
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'zhengzhao.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    events_stream: str = "events"
    service_key: str = Field(default="dev-service-key", min_length=8)
    signing_key: str = Field(default="dev-signing-key-change-me", min_length=16)
    public_base_url: str = "http://127.0.0.1:8080"
    data_dir: Path = PROJECT_ROOT / "var" / "data"
    catalog_dir: Path = PROJECT_ROOT / "config" / "catalog"
    holidays_file: Path = PROJECT_ROOT / "config" / "holidays.yaml"
    max_json_bytes: int = 256 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # Uploaded photos: shorter sides are unreadable; decoded size is bounded; stored copies are capped.
    material_min_short_side: int = Field(default=600, ge=1)
    material_max_pixels: int = Field(default=60_000_000, ge=1)
    material_max_long_side: int = Field(default=2400, ge=320)
    # Signed file URLs (materials, thumbnails) stop working after this; a URL can be forwarded.
    file_url_ttl_seconds: int = Field(default=600, ge=10)
    # Threads for Pillow work (normalising uploads, rendering cards and notices).
    imaging_threads: int = Field(default=2, ge=1, le=32)
    # A CJK font file for the licence card and notice; None: the installed Noto CJK / WenQuanYi.
    font_path: Path | None = None
    # Old signing keys still accepted while rotating: printed licence QR codes stay valid for years.
    previous_signing_keys: list[str] = Field(default_factory=list)
    # Printed on the licence card and the verification page (发证机关); None leaves the line out.
    licence_issuer: str | None = None
    # The verification page keeps what it read this long (a QR code scanned by many at once costs one query
    # a second); a change made through the same process shows at once, through another within this. 0: off.
    verification_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # Where the one-time notice tells applicants to hand in materials in person.
    service_centre_address: str = "政务服务中心 证照联办综合窗口"
    # 容缺: how long an applicant has to bring a non-key material they promised to supply later.
    commitment_working_days: int = 10
    staff_token_hours: int = 12
    admin_username: str = "admin"
    admin_password: str | None = None
    relay_interval_seconds: float = 1.0
    # One log line per request costs more than a status read itself; turn on when debugging.
    access_log: bool = False
    policies_dir: Path = PROJECT_ROOT / "config" / "policies"
    lifecycle_file: Path = PROJECT_ROOT / "config" / "lifecycle.yaml"
    timezone: str = "Asia/Shanghai"
    # Human service (帮办代办): when staff answer, in `timezone`; public holidays come from the holiday
    # calendar. Out of hours the applicant is told when someone will answer and given the hotline.
    office_hours: str = "mon-fri 09:00-12:00,13:30-17:30"
    service_hotline: str = "12345"
    # A handoff nobody wrote in for this long is closed (the gateway drops human mode after 24 h too).
    handoff_idle_hours: float = 24
    # 容缺: remind the applicant this many working days before a promised material is due.
    commitment_reminder_working_days: int = Field(default=3, ge=0, le=30)
    reminder_interval_seconds: float = 600.0

    @field_validator("office_hours")
    @classmethod
    def _office_hours_readable(cls, value: str) -> str:
        OfficeHours.parse(value)
        return value
