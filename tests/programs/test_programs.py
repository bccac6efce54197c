"""The cafeteria: catalogue checks, capacity on enrolment and on import, attendance recorded in
the app and through ``banso import attendance`` (all-or-nothing, FILE:ROW:COLUMN problems)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from banso import schema
from banso.accounts.models import Account, AccountIdentity, Contact
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.audit.models import AuditEntry
from banso.config import get_settings
from banso.db import session_scope
from banso.errors import ImportRejected
from banso.ingest.importer import import_file
from banso.programs import service
from banso.programs.config import ProgramsRejected

# 2026-06-03 15:00 in Tokyo = 06:00 UTC
JUNE_3 = datetime(2026, 6, 3, 6, 0, tzinfo=UTC)


def _world() -> None:
    schema.upgrade()
    with session_scope() as s:
        for i, name in ((1, "Acme"), (2, "Beta")):
            s.add(Account(id=i, name=name, normalized_name=name.lower()))
            s.add(AccountIdentity(account_id=i, source="crm", external_id=f"A-{i}"))
        s.flush()
        for i, (account, email) in enumerate(
            [(1, "ann@acme.example"), (1, "bob@acme.example"), (2, "cy@beta.example")], 10
        ):
            s.add(Contact(id=i, account_id=account, source="crm", external_id=f"C-{i}",
                          name=email.split("@")[0], email=email))  # fmt: skip


def _session(capacity: int | None = 2, program: str = "admin-training") -> int:
    with session_scope() as s:
        return service.add_session(s, program, JUNE_3, capacity).id


def _roster(session_id: int) -> list[tuple[str | None, str]]:
    with session_scope() as s:
        return [(r["email"], r["status"]) for r in service.roster(s, session_id)]


def test_capacity_is_enforced_on_enrolment_and_a_status_change_takes_no_new_seat():
    _world()
    sid = _session(capacity=2)
    with session_scope() as s:
        service.enrol(s, sid, "ann@acme.example", "ops@example.com")
        service.enrol(s, sid, "bob@acme.example", "ops@example.com")
    with pytest.raises(service.SessionFull, match="2 of 2 seats taken"), session_scope() as s:
        service.enrol(s, sid, "cy@beta.example", "ops@example.com")
    # a walk-in marked attended would take a third seat too
    with pytest.raises(service.SessionFull), session_scope() as s:
        service.record_attendance(s, sid, "cy@beta.example", "attended", "ops@example.com")
    with session_scope() as s:
        service.record_attendance(s, sid, "ANN@acme.example", "attended", "ops@example.com")
        service.record_attendance(s, sid, "bob@acme.example", "no_show", "ops@example.com")
    assert _roster(sid) == [("ann@acme.example", "attended"), ("bob@acme.example", "no_show")]
    with session_scope() as s:
        [view] = service.sessions(s, "admin-training")
        assert (view.enrolled, view.attended, view.seats_left) == (2, 1, 0)
        assert view.starts_at == JUNE_3
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["program.session_add"] + ["program.attendance"] * 4


def test_enrolling_twice_and_unknown_people_are_refused():
    _world()
    sid = _session()
    with session_scope() as s:
        service.enrol(s, sid, "ann@acme.example", "ops")
    with pytest.raises(service.BansoError, match="already on this session"), session_scope() as s:
        service.enrol(s, sid, "ann@acme.example", "ops")
    with pytest.raises(service.InvalidValue, match="nobody@x.example"), session_scope() as s:
        service.enrol(s, sid, "nobody@x.example", "ops")
    with pytest.raises(service.InvalidValue, match="No programme nope"), session_scope() as s:
        service.add_session(s, "nope", JUNE_3)


def test_session_capacity_defaults_to_the_programmes():
    _world()
    sid = _session(capacity=None, program="implementation-service")
    with session_scope() as s:
        assert s.get(ProgramSession, sid).capacity == 4
    assert service.parse_start("2026-06-03 15:00") == JUNE_3


def test_a_target_segment_the_rule_set_does_not_know_is_named_with_file_and_line():
    folder = get_settings().config_path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "programs.yaml").write_text(
        "programs:\n"
        "  - key: w\n"
        "    kind: webinar\n"
        "    title: {en: W, ja: W}\n"
        "    language: ja\n"
        "    segments: [smb, gold]\n",
        encoding="utf-8",
    )
    with pytest.raises(ProgramsRejected, match=r"programs.yaml:6: programs.0.segments.1: unknown"):
        service.catalogue()


def test_a_paid_service_needs_a_price():
    folder = get_settings().config_path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "programs.yaml").write_text(
        "programs:\n  - {key: p, kind: paid_service, title: {en: P, ja: P}, language: en}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProgramsRejected, match="a paid service needs price_yen"):
        service.catalogue()


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "attendance.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _stored() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(ProgramEnrolment)) or 0


def test_import_with_a_bad_row_stores_nothing_and_names_file_row_and_column(tmp_path: Path):
    _world()
    _session(capacity=5)
    path = _csv(
        tmp_path,
        "プログラム,開催日,メールアドレス,顧客ID,出欠\n"
        "admin-training,2026-06-03,ann@acme.example,,出席\n"
        "admin-training,2026-06-04,bob@acme.example,,出席\n"
        "admin-training,2026-06-03,,A-9,欠席\n"
        "admin-training,2026-06-03,nobody@x.example,,欠席\n"
        "admin-training,2026-06-03,,,欠席\n",
    )
    with pytest.raises(ImportRejected) as caught, session_scope() as s:
        import_file(s, "attendance", path, source="crm")
    # the cell check runs over the whole file first: the row without anyone
    assert [str(p) for p in caught.value.problems] == [
        "attendance.csv:6:メールアドレス: give the contact's e-mail or the account id"
    ]
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:-1]) + "\n",
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(ImportRejected) as caught, session_scope() as s:
        import_file(s, "attendance", path, source="crm")
    assert [str(p) for p in caught.value.problems] == [
        "attendance.csv:3:プログラム: no session of programme admin-training on 2026-06-04; "
        "add it first (banso programs add-session)",
        "attendance.csv:4:顧客ID: no account with the id A-9 from crm; import the accounts first",
        "attendance.csv:5:メールアドレス: no contact with the e-mail nobody@x.example; import "
        "the contacts first",
    ]
    assert _stored() == 0


def test_an_unknown_status_is_a_cell_problem(tmp_path: Path):
    _world()
    _session()
    path = _csv(
        tmp_path, "program,date,email,status\nadmin-training,2026-06-03,ann@acme.example,maybe\n"
    )
    with pytest.raises(ImportRejected) as caught, session_scope() as s:
        import_file(s, "attendance", path, source="crm")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "status") and _stored() == 0


def test_import_records_people_by_email_or_account_and_updates_on_reimport(tmp_path: Path):
    _world()
    sid = _session(capacity=3)
    path = _csv(
        tmp_path,
        "program,session_date,email,account_id,status\n"
        "admin-training,2026-06-03,ann@acme.example,,attended\n"
        "admin-training,2026-06-03,,A-2,no_show\n",
    )
    with session_scope() as s:
        result = import_file(s, "attendance", path, source="crm")
    assert (result.inserted, result.updated, result.unchanged) == (2, 0, 0)
    assert _roster(sid) == [("ann@acme.example", "attended"), (None, "no_show")]
    path.write_text(path.read_text().replace("no_show", "attended"), encoding="utf-8")
    with session_scope() as s:
        result = import_file(s, "attendance", path, source="crm")
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)


def test_import_refuses_rows_beyond_the_sessions_capacity(tmp_path: Path):
    _world()
    sid = _session(capacity=2)
    with session_scope() as s:
        service.enrol(s, sid, "ann@acme.example", "ops")
    path = _csv(
        tmp_path,
        "program,session_date,email,status\n"
        "admin-training,2026-06-03,ann@acme.example,attended\n"  # on the roster: no new seat
        "admin-training,2026-06-03,bob@acme.example,attended\n"  # seat 2 of 2
        "admin-training,2026-06-03,cy@beta.example,attended\n",  # seat 3: refused
    )
    with pytest.raises(ImportRejected) as caught, session_scope() as s:
        import_file(s, "attendance", path, source="crm")
    assert [str(p) for p in caught.value.problems] == [
        "attendance.csv:4:program: the session is full (2 seats)"
    ]
    assert _roster(sid) == [("ann@acme.example", "enrolled")]


def test_cli_adds_a_session_enrols_and_records_attendance(cli):
    _world()
    assert cli("programs", "add-session", "admin-training", "2026-06-03 15:00",
               "--capacity", "1").exit_code == 0  # fmt: skip
    assert cli("programs", "enrol", "1", "ann@acme.example").exit_code == 0
    full = cli("programs", "enrol", "1", "bob@acme.example")
    assert full.exit_code == 2 and "full" in full.stderr
    done = cli("programs", "attend", "1", "ann@acme.example")
    assert done.exit_code == 0 and "Attended" in done.stdout
    listed = cli("programs", "list", "--format", "json")
    assert '"attended": 1' in listed.stdout


def test_banso_import_attendance_names_the_bad_rows_and_imports_nothing(cli, tmp_path: Path):
    _world()
    _session(capacity=5)
    path = _csv(
        tmp_path,
        "program,date,email,status\n"
        "admin-training,2026-06-03,ann@acme.example,出席\n"
        "admin-training,2026-06-09,bob@acme.example,attended\n",
    )
    out = cli("import", "attendance", str(path))
    assert out.exit_code == 2
    assert "attendance.csv:3:program: no session of programme admin-training on 2026-06-09" in (
        out.stderr + out.stdout
    )
    assert _stored() == 0
    path.write_text(path.read_text(encoding="utf-8").replace("06-09", "06-03"), encoding="utf-8")
    assert cli("import", "attendance", str(path)).exit_code == 0
    assert _stored() == 2
