"""Settings: every knob is a ``BANSO_*`` environment variable (or a line in ``.env``)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANSO_", env_file=".env", extra="ignore")

    home: Path = Path(".banso")
    """Data directory: the SQLite database, the Parquet event store, exports."""

    database_url: str | None = None
    """SQLAlchemy URL of the app database; default: SQLite file ``banso.db`` in ``home``."""

    timezone: str = "Asia/Tokyo"
    """Company time zone: business dates and month boundaries are taken in it."""

    fiscal_year_start: int = 4
    """Month (1-12) in which the fiscal year starts; FY2025 starts in April 2025 by default."""

    reporting_currency: str = "JPY"
    """ISO 4217 code every report is expressed in."""

    gross_margin: float = 1.0
    """Gross margin used by LTV (0-1]."""

    lang: str | None = None
    """Language of messages (ja or en); default: from the system locale."""

    config_dir: Path | None = None
    """Directory of YAML config (scorecards, playbooks); default: ``home``/config."""

    event_earliest: date = date(1990, 1, 1)
    """The event store refuses events before this UTC day (a typo or a fuzzer's year 0001
    would otherwise become a day folder of its own)."""

    event_future_days: int = Field(default=7, ge=0)
    """...nor events more than this many days after now (a device clock a little ahead is fine)."""

    events_compact_files: int = Field(default=200, ge=0)
    """``banso run`` first compacts the event store (``banso events compact``) when more than
    this many small files could be merged away; 0: never (compact by hand or from cron)."""

    max_upload_bytes: int = 200 * 1024 * 1024
    """Largest file the Data page accepts (bytes); a bigger upload is refused with 413 before
    it is stored."""

    max_body_bytes: int = 10 * 1024 * 1024
    """Largest body of any other request, event batches included (bytes): 413 beyond."""

    events_rate_per_minute: int = 120
    """``POST /api/events`` requests per minute per API token (or client address); 429 beyond.
    0 turns the limit off."""

    events_store_wait: float = Field(default=1.0, ge=0)
    """Seconds a ``POST /api/events`` batch waits for another writer of the event store before
    it is answered 429 with ``Retry-After`` (back-pressure instead of an unbounded queue)."""

    inapp_rate_per_minute: int = 600
    """Requests per minute per in-app site key (and client address); 429 beyond. 0: no limit."""

    trusted_proxies: str = ""
    """Addresses of reverse proxies whose ``X-Forwarded-For``/``-Proto`` headers are believed
    (comma-separated; ``*`` for any). Empty: none, so a client cannot pose as another address
    to the sign-in throttle."""

    progress_seconds: float = Field(default=10.0, ge=0)
    """Off a terminal (a log, a pipe), long commands write a progress line at most this often
    (seconds); on a terminal they draw a bar instead."""

    bi_export_dir: Path | None = None
    """When set, ``banso run`` ends by exporting the BI views there (``banso bi export``), only
    the views that changed; unset: the daily run exports nothing."""

    bi_export_format: Literal["parquet", "csv", "xlsx"] = "parquet"
    """Format of the daily run's BI export."""

    analytics_engine: Literal["duckdb", "postgres", "spark"] = "duckdb"
    """Engine of the analytics when a command is given no ``--engine``: the revenue reports, and
    in ``banso run`` the usage features, health usage measures and event triggers (``spark``
    reads the event store with Spark; ``postgres`` applies to the revenue reports only, the
    events being Parquet files). See docs/spark.md."""

    spark_master: str = "local[2]"
    """Master of the SparkSession Banso starts itself (``--engine spark``): ``local[N]``,
    ``local[*]``, ``spark://host:7077``, ``yarn``… Not used under ``spark-submit`` (its own
    ``--master``) nor with ``SPARK_REMOTE`` (a Spark Connect URL). See docs/spark.md."""

    today: date | None = None
    """A fixed "today" (``YYYY-MM-DD``) instead of the clock's, for tests and demos: pages and
    commands then behave as on that day in the company time zone. Leave unset in production."""

    @field_validator("today", mode="before")
    @classmethod
    def _day(cls, v: object) -> object:
        if v is None or isinstance(v, date):
            return v
        text = str(v).strip()
        if not text:
            return None
        if not _DAY.match(text):
            raise ValueError(f"BANSO_TODAY must be a day written YYYY-MM-DD, not {text!r}")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"BANSO_TODAY is not a real day: {text!r}") from None

    @field_validator("fiscal_year_start")
    @classmethod
    def _month(cls, v: int) -> int:
        if not 1 <= v <= 12:
            raise ValueError("BANSO_FISCAL_YEAR_START must be a month number 1-12")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        v = v.strip().upper()
        if len(v) != 3 or not v.isalpha():
            raise ValueError("BANSO_REPORTING_CURRENCY must be an ISO 4217 code such as JPY")
        return v

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'banso.db').resolve()}"

    @property
    def event_store_dir(self) -> Path:
        return self.home / "events"

    @property
    def config_path(self) -> Path:
        return self.config_dir or self.home / "config"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_overrides: dict[str, object] = {}


def set_overrides(**values: object) -> None:
    """Command-line options (``--home``) take precedence over the environment."""
    _overrides.update({k: v for k, v in values.items() if v is not None})
    get_settings.cache_clear()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(**_overrides)  # type: ignore[arg-type]
