"""Who may see and score whose scorecard: an admin every member's; a user linked to a team
member (``users.team_member_id``) their own, and a manager or senior manager (job title) every
member of their team (``team_members.team``); nobody else any. Entering a qualitative score: an
admin for anyone, a manager for the other members of their team; never a viewer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.team.models import TeamMember
from banso.users.models import User

MANAGER_TITLES = ("manager", "senior_manager")


def visible_members(session: Session, user: User) -> list[int] | None:
    """The ids of the members whose scorecard ``user`` may see; None: everyone's (admin)."""
    if user.role == "admin":
        return None
    me = session.get(TeamMember, user.team_member_id) if user.team_member_id else None
    if me is None:
        return []
    if me.job_title in MANAGER_TITLES and me.team:
        team = select(TeamMember.id).where(TeamMember.team == me.team).order_by(TeamMember.id)
        return list(session.scalars(team))
    return [me.id]


def may_see(session: Session, user: User, member_id: int) -> bool:
    visible = visible_members(session, user)
    return visible is None or member_id in visible


def may_score(session: Session, user: User, member_id: int) -> bool:
    """Whether ``user`` may enter ``member_id``'s qualitative score."""
    if user.role == "admin":
        return True
    if user.role == "viewer" or user.team_member_id == member_id:
        return False
    me = session.get(TeamMember, user.team_member_id) if user.team_member_id else None
    return me is not None and me.job_title in MANAGER_TITLES and may_see(session, user, member_id)
