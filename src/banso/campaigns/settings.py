"""``BANSO_CAMPAIGN_*`` settings: the quiet period and the global tracking switch."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class CampaignSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANSO_", env_file=".env", extra="ignore")

    campaign_quiet_days: int = 7
    """No contact gets a second campaign email within this many days of the last one."""
    campaign_tracking: bool = True
    """False: no campaign carries an open pixel or redirect links, whatever its own switch."""
    usage_reports: bool = False
    """True: ``banso run`` queues the monthly usage report of the last complete month (off by
    default so that installing Banso never writes to customers by itself)."""


def campaign_settings() -> CampaignSettings:
    return CampaignSettings()
