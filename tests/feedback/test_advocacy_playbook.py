"""The ``advocacy-promoter`` default playbook on the playbooks' hand-made world: a promoter
(NPS 9-10) on a green account gets a reference proposed with that contact, once while it is
open; a promoter on a yellow account gets none; the item is then tracked to done."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from tests.playbooks.world import at, build_world

from banso.db import session_scope
from banso.feedback import advocacy
from banso.feedback.models import AdvocacyItem
from banso.health import snapshots
from banso.playbooks import service
from banso.surveys.models import SurveyResponse

DAY = date(2025, 6, 16)


def _snapshot(day: date, bands: dict[int, str]) -> None:
    snapshots.write_day(
        day,
        pa.table(
            {
                "account_id": pa.array(list(bands), pa.int64()),
                "day": pa.array([day] * len(bands), pa.date32()),
                "score": pa.array([80.0 if b == "green" else 55.0 for b in bands.values()]),
                "band": pa.array(list(bands.values()), pa.string()),
            }
        ),
    )


def test_a_promoter_on_a_green_account_is_proposed_a_reference_once(
    banso_home: Path,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    build_world()
    with session_scope() as s:  # Alpha's champion answers 10; Gamma's (yellow) answers 9
        s.add_all([
            SurveyResponse(account_id=1, contact_id=1, source="t", external_id="p1",
                           survey_type="nps", score=10, answered_at=at(DAY)),
            SurveyResponse(account_id=3, contact_id=4, source="t", external_id="p2",
                           survey_type="nps", score=9, answered_at=at(DAY)),
            SurveyResponse(account_id=1, contact_id=1, source="t", external_id="p3",
                           survey_type="nps", score=9, answered_at=at(DAY + timedelta(days=1))),
        ])  # fmt: skip
    for day in (DAY, DAY + timedelta(days=1)):
        _snapshot(day, {1: "green", 2: "green", 3: "yellow"})
    with session_scope() as s:
        first = service.run_playbooks(s, DAY, ["advocacy-promoter"])["advocacy-promoter"]
    assert (first.firings, first.advocacy) == (1, 1)
    with session_scope() as s:  # Alpha answers 9 again the next day: its reference is open
        second = service.run_playbooks(s, DAY + timedelta(days=1), ["advocacy-promoter"])
    assert (second["advocacy-promoter"].firings, second["advocacy-promoter"].advocacy) == (1, 0)
    listed = json.loads(cli("advocacy", "list", "--format", "json").stdout)
    assert [(i["account_id"], i["contact_id"], i["kind"], i["status"], i["source"],
             i["proposed_on"]) for i in listed] == [
        (1, 1, "reference", "proposed", "advocacy-promoter", "2025-06-16")]  # fmt: skip
    item_id = listed[0]["id"]
    assert cli("advocacy", "status", str(item_id), "asked", "--on", "2025-06-18").exit_code == 0
    r = cli("advocacy", "status", str(item_id), "done", "--on", "2025-07-01")
    assert r.stdout.strip() == f"Advocacy item {item_id} is now Done.", r.stderr
    with session_scope() as s:
        item = s.scalars(select(AdvocacyItem)).one()
        assert (item.asked_on, item.agreed_on, item.closed_on) == (
            date(2025, 6, 18), None, date(2025, 7, 1))  # fmt: skip
    r = cli("advocacy", "status", str(item_id), "declined")
    assert r.exit_code == 2 and "it can no longer change" in r.stderr
    r = cli("advocacy", "add", "1", "--kind", "testimonial")
    assert r.exit_code == 2
    assert "Unknown kind testimonial; choose one of reference, case_study, review, referral." in (
        " ".join(r.stderr.split())
    )
    # done, so a new promoter answer may propose the next reference
    with session_scope() as s:
        _item, created = advocacy.propose_from_playbook(
            s, s.get(advocacy.Account, 1), "reference", date(2025, 7, 2), "advocacy-promoter"
        )
    assert created
