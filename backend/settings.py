"""Backend configuration, read from the environment (and `.env`) once, in `main()`."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
