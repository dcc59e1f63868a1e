"""Gateway configuration, read from the environment (and `.env`) once, in `main()`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.proxies import TrustedProxies

# The AES key of wechatpy's own crypto tests: a valid 43-character EncodingAESKey for local runs only.
DEMO_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


class TemplateSpec(BaseModel):
    """One WeChat template (公众号模板消息) or mini-program subscribe template for one notice kind.

    `data` maps the template's keyword names to notice fields, e.g.
    `{"character_string1": "application_code", "thing2": "title", "phrase3": "status"}`.
    Values are cut to 20 characters when sent (WeChat's rule since 2023-05).
    """

    template_id: str
    data: dict[str, str]
    page: str | None = None  # mini-program page, or the URL a template message opens


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000

    # Official Account (公众号) callback and API.
    # Empty WECHAT_TOKEN: the /wechat callback is not served (web chat only).
    wechat_token: str = ""
    wechat_aes_key: str = ""  # 43 characters; empty = plaintext mode only
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    # WeChat drops the connection after 5 s; keep a margin for the network and rendering.
    wechat_reply_budget: float = 4.0
    wechat_max_body_bytes: int = 64 * 1024
    wechat_max_clock_skew: int = 300
    # "backend": staff answer in our console; "wechat_kf": WeChat's own customer-service system.
    wechat_handoff: Literal["backend", "wechat_kf"] = "backend"
    wechat_api_threads: int = 16
    wechat_api_timeout: float = 10.0

    # Mini-program login and subscribe messages.
    miniprogram_appid: str = ""
    miniprogram_secret: str = ""
    miniprogram_state: Literal["developer", "trial", "formal"] = "formal"

    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 30.0
    backend_url: str = "http://127.0.0.1:8080"
    # Where browsers reach the backend for images (licence cards); defaults to backend_url.
    backend_public_url: str = ""
    service_key: str = ""

    # Signs web / mini-program session tokens; empty = a random key per process (dev only).
    session_secret: str = ""
    session_ttl: int = 7 * 24 * 3600
    # Without a token a browser could claim any user_id, and so read someone else's conversation.
    webchat_require_token: bool = True
    webchat_max_upload_bytes: int = 10 * 1024 * 1024
    rate_limit_user_per_minute: int = 30
    rate_limit_ip_per_minute: int = 120
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs / CIDRs); empty = none.
    trusted_proxies: str = ""

    # Notifier.
    notifier_in_gateway: bool = False
    notifier_consumer: str = "notifier-1"
    notifier_group: str = "notifier"
    notifier_stream: str = "events"
    notifier_max_attempts: int = 5
    notifier_retry_base: float = 2.0
    notifier_batch: int = 50
    notifier_cursor_interval: float = 2.0  # how often the durable position is saved in the backend
    wechat_templates: dict[str, TemplateSpec] = Field(default_factory=dict)
    miniprogram_templates: dict[str, TemplateSpec] = Field(default_factory=dict)
    notice_link_url: str = ""  # page a template message opens (e.g. the progress page), optional

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        TrustedProxies.parse(value)  # fail at start-up, not on the first request
        return value

    @property
    def public_backend_url(self) -> str:
        return self.backend_public_url or self.backend_url
