"""The Team view the CLI, the Team page and ``GET /api/team`` share: books of business per
CSM, capacity per touch model and the assignment proposal, with optional what-if hires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from banso.books import assignment, capacity
from banso.books.config import TeamConfig
from banso.books.service import MemberBooks, World, books_of_business, load_world, unowned
from banso.errors import InvalidValue
from banso.i18n import _

MAX_HIRES = 100


@dataclass
class Hires:
    """What-if hires: ``count`` members of ``title`` in ``team``."""

    count: int = 0
    title: str | None = None
    team: str | None = None


@dataclass
class TeamView:
    world: World
    config: TeamConfig
    hires: Hires
    books: list[MemberBooks]
    capacity: list[capacity.TouchCapacity]
    proposal: assignment.Proposal
    proposed_books: list[MemberBooks]

    def as_dict(self) -> dict[str, Any]:
        names = {m.id: m.name for m in self.world.members}
        return {
            "day": self.world.day.isoformat(),
            "hires": vars(self.hires),
            "members": [b.as_dict() for b in self.books],
            "unowned": unowned(self.world),
            "capacity": [c.as_dict() for c in self.capacity],
            "proposal": {
                "moved": self.proposal.moved,
                "assigned": self.proposal.assigned,
                "overload": self.proposal.overload,
                "digest": self.proposal.digest(),
                "unplaced": len(self.proposal.unplaced),
                "changes": [m.as_dict(names) for m in self.proposal.changes],
                "books": [b.as_dict() for b in self.proposed_books],
            },
        }


def team_view(
    session: Session, config: TeamConfig, day: date, hires: Hires | None = None
) -> TeamView:
    """Books, capacity and proposal on ``day``; with ``hires``, as if they had joined."""
    hires = hires or Hires()
    world = load_world(session, day)
    if hires.count:
        check_hires(config, hires)
        if hires.team is None:
            hires.team = busiest_team(session, world, config, hires.title)  # type: ignore[arg-type]
        world.members = capacity.with_hires(world.members, hires.count, hires.title, hires.team)  # type: ignore[arg-type]
    proposal = assignment.propose(world, config)
    return TeamView(
        world,
        config,
        hires,
        books_of_business(world, config),
        capacity.capacity(session, world, config),
        proposal,
        books_of_business(world, config, proposal.owners),
    )


def check_hires(config: TeamConfig, hires: Hires) -> None:
    """A what-if must name a title of ``team.yaml`` (and, when given, one of its teams)."""
    if not 0 <= hires.count <= MAX_HIRES:
        raise InvalidValue("hires", _("Give from 0 to {n} hires.", n=MAX_HIRES))
    titles = [t.title for t in config.titles]
    if hires.title not in titles:
        raise InvalidValue(
            "title",
            _("Give the hires' title, one of {choices}.", choices=", ".join(titles)),
        )
    teams = [t.name for t in config.teams]
    if hires.team is not None and hires.team not in teams:
        raise InvalidValue(
            "team",
            _(
                "There is no team {team}; the teams are {choices}.",
                team=hires.team,
                choices=", ".join(teams),
            ),  # fmt: skip
        )


def busiest_team(session: Session, world: World, config: TeamConfig, title: str) -> str:
    """The team a hire of ``title`` would join by default: of the teams whose touch models the
    title carries, the one whose touch models are the most utilised now (accounts per CSM when
    the history cannot tell)."""
    cap = {c.touch_model: c for c in capacity.capacity(session, world, config)}

    def load(team_name: str) -> float:
        team = config.team(team_name)
        assert team is not None
        per = [
            float(cap[t].utilisation or cap[t].accounts_per_csm or cap[t].accounts)
            for t in team.touch_models
            if t in cap and config.carries(title, team_name, t)
        ]
        return max(per, default=-1.0)

    candidates = [t.name for t in config.teams if any(
        config.carries(title, t.name, touch) for touch in t.touch_models)]  # fmt: skip
    if not candidates:
        raise InvalidValue("title", _("No team has accounts a {title} may carry.", title=title))
    return max(candidates, key=lambda name: (load(name), name))
