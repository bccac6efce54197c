"""CS team members: who owns accounts and does the work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

JOB_TITLES = ("trainee", "associate", "manager", "senior_manager")
register("job_title", {
    "trainee": "Trainee", "associate": "Associate", "manager": "Manager",
    "senior_manager": "Senior manager",
})  # fmt: skip


class TeamMember(Base):
    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    job_title: Mapped[str | None] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
