"""`banso import`: every kind and format, all-or-nothing, idempotent re-import."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from tests.conftest import DATA, EXAMPLES

from banso import db
from banso.accounts.models import Account, AccountIdentity, Contact
from banso.activities.models import Activity
from banso.ingest.models import ImportBatch
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember
from banso.usage.store import event_files

SPEC_HEADER = (
    "account_id,subscription_id,plan,start_date,end_date,amount,currency,billing_period_months"
)


def _count(model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "example", ["basic_monthly", "annual_contracts", "jpy_realistic", "nrr_two_years"]
)
def test_every_metrics_example_imports_and_reimports_without_duplicates(cli, example: str) -> None:
    path = EXAMPLES / example / "subscriptions.csv"
    lines = len(path.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert cli("init").exit_code == 0
    first = cli("import", "subscriptions", str(path))
    assert first.exit_code == 0, first.stderr
    assert f"{lines} new, 0 updated, 0 unchanged" in first.stdout
    again = cli("import", "subscriptions", str(path))
    assert f"0 new, 0 updated, {lines} unchanged; 0 accounts created" in again.stdout
    assert _count(Subscription) == lines


def test_mrr_playbook_in_usd_cents_creates_one_account_per_customer(cli) -> None:
    cli("init")
    result = cli(
        "import", "subscriptions", str(DATA / "external/mrr_playbook/subscriptions.csv")
    )
    assert result.exit_code == 0, result.stderr
    assert "121 rows" in result.stdout and "55 accounts created" in result.stdout
    with db.session_scope() as session:
        first = session.scalars(select(Subscription).where(Subscription.external_id == "1")).one()
        assert (first.amount, first.currency, first.end_date.isoformat()) == (
            5000,
            "USD",
            "2019-02-01",
        )


def test_an_updated_export_updates_by_source_and_id(cli, tmp_path: Path) -> None:
    cli("init")
    v1 = _write(tmp_path / "v1.csv", f"{SPEC_HEADER}\nK1,S1,pro,2024-04-01,,10000,JPY,1\n")
    v2 = _write(
        tmp_path / "v2.csv",
        f"{SPEC_HEADER}\nK1,S1,pro,2024-04-01,2024-10-01,10000,JPY,1\n"
        "K1,S2,addon,2024-05-01,,3000,JPY,1\n",
    )
    cli("import", "subscriptions", str(v1), "--source", "billing")
    result = cli("import", "subscriptions", str(v2), "--source", "billing")
    assert "1 new, 1 updated, 0 unchanged" in result.stdout
    with db.session_scope() as session:
        s1 = session.scalars(select(Subscription).where(Subscription.external_id == "S1")).one()
        assert s1.end_date.isoformat() == "2024-10-01"
    assert _count(Subscription) == 2 and _count(Account) == 1


def test_cp932_file_with_japanese_headers_and_japanese_values(cli, tmp_path: Path) -> None:
    text = (
        "顧客ID,会社名,契約ID,プラン,契約開始日,解約日,月額,通貨\r\n"
        'K-1,株式会社さくら商事,C-1,スタンダード,2024/4/1,,"\uffe529,800",JPY\r\n'
        "K-2,ﾐﾅﾄ物流株式会社,C-2,プロ,令和6年5月1日,2024年10月1日,４９，８００円,\r\n"
    )
    path = _write(tmp_path / "契約一覧.csv", text, "cp932")
    cli("init")
    result = cli("import", "subscriptions", str(path), "--source", "billing")
    assert result.exit_code == 0, result.stderr
    with db.session_scope() as session:
        rows = session.execute(
            select(
                Account.name,
                Subscription.start_date,
                Subscription.end_date,
                Subscription.amount,
                Subscription.currency,
                Subscription.billing_period_months,
            )
            .join(Account, Account.id == Subscription.account_id)
            .order_by(Subscription.external_id)
        ).all()
    assert [(r[0], r[1].isoformat(), r[2] and r[2].isoformat(), *r[3:]) for r in rows] == [
        ("株式会社さくら商事", "2024-04-01", None, 29800, "JPY", 1),
        ("ﾐﾅﾄ物流株式会社", "2024-05-01", "2024-10-01", 49800, "JPY", 1),
    ]


def test_utf8_with_bom_reads_the_first_header(cli, tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.csv", f"\ufeff{SPEC_HEADER}\nK1,S1,,2024-04-01,,100,JPY,1\n")
    cli("init")
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    assert _count(Subscription) == 1


def test_bad_rows_leave_the_database_byte_for_byte_unchanged(
    cli, tmp_path: Path, banso_home: Path
) -> None:
    cli("init")
    cli("import", "subscriptions", str(EXAMPLES / "basic_monthly" / "subscriptions.csv"))
    db.dispose_engines()
    before = hashlib.sha256((banso_home / "banso.db").read_bytes()).hexdigest()
    bad = _write(
        tmp_path / "bad.csv",
        f"{SPEC_HEADER}\n"
        "K1,S1,pro,2024-04-01,,10000,JPY,1\n"
        "K2,S2,pro,2024-04-31,,10000,JPY,1\n"
        "K3,S3,pro,2024-04-01,2024-03-01,-5,JPY,0\n"
        "K4,S1,pro,2024-04-01,,12.50,YENS,1\n"
        ",S5,pro,,,,JPY,1\n",
    )
    result = cli("import", "subscriptions", str(bad))
    db.dispose_engines()
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "bad.csv:3:start_date: not a date: 2024-04-31 (use e.g. 2024-04-01)" in lines
    assert any(
        line.startswith("bad.csv:4:end_date: end_date must be after start_date") for line in lines
    )
    assert "bad.csv:4:amount: amount must be 0 or more, got -5" in lines
    assert (
        "bad.csv:4:billing_period_months: billing_period_months must be 1 or more, got 0" in lines
    )
    assert "bad.csv:5:subscription_id: S1 appears twice: also on row 2" in lines
    assert any(line.startswith("bad.csv:5:amount: amount must be a whole number") for line in lines)
    assert any(line.startswith("bad.csv:5:currency: not an ISO 4217") for line in lines)
    assert "bad.csv:6:account_id: a value is required" in lines
    assert "nothing was imported" in result.stderr
    after = hashlib.sha256((banso_home / "banso.db").read_bytes()).hexdigest()
    assert after == before


def test_more_than_fifty_problems_prints_fifty_and_a_count(cli, tmp_path: Path) -> None:
    rows = "".join(f"K{i},S{i},p,not-a-date,,1,JPY,1\n" for i in range(70))
    cli("init")
    result = cli(
        "import", "subscriptions", str(_write(tmp_path / "many.csv", SPEC_HEADER + "\n" + rows))
    )
    assert result.exit_code == 2
    assert sum(line.startswith("many.csv:") for line in result.stderr.splitlines()) == 50
    assert "... and 20 more problems" in result.stderr


def test_missing_required_column_names_the_accepted_headers(cli, tmp_path: Path) -> None:
    cli("init")
    path = _write(tmp_path / "x.csv", "account_id,plan\nK1,pro\n")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "x.csv:1:subscription_id: required column missing" in result.stderr


def test_japanese_messages_for_problems(cli, tmp_path: Path) -> None:
    cli("init")
    path = _write(tmp_path / "bad.csv", f"{SPEC_HEADER}\nK1,S1,p,2024-02-30,,1,JPY,1\n")
    result = cli("--lang", "ja", "import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "bad.csv:2:start_date: 日付として読めません: 2024-02-30" in result.stderr


def test_dry_run_validates_and_writes_nothing(cli) -> None:
    cli("init")
    result = cli(
        "import",
        "subscriptions",
        str(EXAMPLES / "basic_monthly" / "subscriptions.csv"),
        "--dry-run",
    )
    assert result.exit_code == 0
    assert "Dry run: nothing was written." in result.stdout
    assert _count(Subscription) == 0 and _count(Account) == 0 and _count(ImportBatch) == 0


def test_yaml_mapping_names_unusual_headers(cli, tmp_path: Path) -> None:
    mapping = _write(
        tmp_path / "map.yaml",
        "columns:\n  得意先番号: account_id\n  受注番号: subscription_id\n"
        "  サービス開始: start_date\n  請求額(税抜): amount\n",
    )
    path = _write(
        tmp_path / "orders.csv",
        "得意先番号,受注番号,サービス開始,請求額(税抜)\nT1,O1,2024-04-01,5000\n",
    )
    cli("init")
    result = cli("import", "subscriptions", str(path), "--mapping", str(mapping))
    assert result.exit_code == 0, result.stderr
    assert _count(Subscription) == 1


def test_excel_accounts_owner_by_japanese_header_and_team_titles(cli, tmp_path: Path) -> None:
    from openpyxl import Workbook

    team = _write(
        tmp_path / "team.csv",
        "氏名,メールアドレス,役職,チーム\n"
        "山田 花子,hanako@cs.example.com,シニアマネージャー,Enterprise\n"
        "佐藤 一郎,ichiro@cs.example.com,研修生,SMB\n",
    )
    book = Workbook()
    sheet = book.active
    sheet.append(["取引先ID", "会社名", "ウェブサイト", "担当者", "従業員数"])
    sheet.append(["C1", "株式会社サンプル", "https://www.sample.co.jp", "山田 花子", 120])
    sheet.append(["C2", "Acme Inc.", None, "ichiro@cs.example.com", None])
    xlsx = tmp_path / "accounts.xlsx"
    book.save(xlsx)
    cli("init")
    assert cli("import", "team", str(team)).exit_code == 0
    result = cli("import", "accounts", str(xlsx), "--source", "crm")
    assert result.exit_code == 0, result.stderr
    with db.session_scope() as session:
        titles = dict(session.execute(select(TeamMember.email, TeamMember.job_title)).all())
        owners = dict(
            session.execute(
                select(Account.name, TeamMember.name).join(
                    TeamMember, Account.owner_id == TeamMember.id
                )
            ).all()
        )
        sample = session.scalars(select(Account).where(Account.name == "株式会社サンプル")).one()
    assert titles == {"hanako@cs.example.com": "senior_manager", "ichiro@cs.example.com": "trainee"}
    assert owners == {"株式会社サンプル": "山田 花子", "Acme Inc.": "佐藤 一郎"}
    assert (sample.domain, sample.employee_count) == ("sample.co.jp", 120)


def test_excel_unknown_owner_is_a_problem_with_the_excel_row(cli, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["id", "name", "owner"])
    book.active.append(["C1", "Acme", "nobody@example.com"])
    xlsx = tmp_path / "a.xlsx"
    book.save(xlsx)
    cli("init")
    result = cli("import", "accounts", str(xlsx))
    assert result.exit_code == 2
    assert (
        "a.xlsx:2:owner: no team member with the e-mail or name nobody@example.com" in result.stderr
    )


def test_the_same_customer_from_crm_billing_and_support_is_one_account(cli, tmp_path: Path) -> None:
    crm = _write(
        tmp_path / "crm.csv",
        "account_id,name,website\n001A,株式会社サンプル,sample.co.jp\n"
        "001B,サンプル商事株式会社,shoji.example.jp\n",
    )
    billing = _write(
        tmp_path / "billing.csv",
        SPEC_HEADER + ",account_name\ncus_9,sub_1,pro,2024-04-01,,50000,JPY,1,ｻﾝﾌﾟﾙ株式会社\n",
    )
    support = _write(
        tmp_path / "tickets.csv",
        "ticket_id,organization_id,email,subject,created_at\n"
        "T1,org-7,taro@sample.co.jp,ログインできない,2024-05-01 10:00\n",
    )
    contacts = _write(
        tmp_path / "contacts.csv",
        "account_id,company,name,email,role\n"
        "org-7,サンプル(株),山田 太郎,taro@sample.co.jp,決裁者\n",
    )
    cli("init")
    assert cli("import", "accounts", str(crm), "--source", "crm").exit_code == 0
    assert cli("import", "subscriptions", str(billing), "--source", "billing").exit_code == 0
    assert cli("import", "contacts", str(contacts), "--source", "support").exit_code == 0
    mapping = _write(tmp_path / "z.yaml", "organization_id: account_id\n")
    result = cli(
        "import", "tickets", str(support), "--source", "support", "--mapping", str(mapping)
    )
    assert result.exit_code == 0, result.stderr
    listing = json.loads(cli("accounts", "list", "--format", "json").stdout)
    assert [
        (a["name"], sorted((i["source"], i["external_id"]) for i in a["identities"]))
        for a in listing
    ] == [
        ("株式会社サンプル", [("billing", "cus_9"), ("crm", "001A"), ("support", "org-7")]),
        ("サンプル商事株式会社", [("crm", "001B")]),
    ]
    with db.session_scope() as session:
        contact = session.scalars(select(Contact)).one()
        ticket = session.scalars(select(Ticket)).one()
    assert contact.role == "decision_maker" and ticket.contact_id == contact.id
    assert ticket.account_id == contact.account_id == listing[0]["id"]


def test_surveys_range_checks_and_idempotent_reimport_without_ids(cli, tmp_path: Path) -> None:
    good = _write(
        tmp_path / "s.csv",
        "account_id,種類,スコア,回答日\nK1,NPS,9,2024-04-01\n"
        "K1,csat,4,2024-04-02\nK2,ces,7,2024-04-03\n",
    )
    bad = _write(
        tmp_path / "b.csv",
        "account_id,type,score,answered_at\nK1,nps,11,2024-04-01\n"
        "K1,csat,0,2024-04-01\nK1,mood,3,2024-04-01\n",
    )
    cli("init")
    assert cli("import", "surveys", str(good)).exit_code == 0
    assert "0 new, 0 updated, 3 unchanged" in cli("import", "surveys", str(good)).stdout
    result = cli("import", "surveys", str(bad))
    assert result.exit_code == 2
    assert "b.csv:2:score: NPS score must be 0-10, got 11" in result.stderr
    assert "b.csv:3:score: CSAT score must be 1-5, got 0" in result.stderr
    assert "b.csv:4:type: unknown value mood" in result.stderr
    assert _count(SurveyResponse) == 3


def test_activities_need_a_known_member_and_map_japanese_kinds(cli, tmp_path: Path) -> None:
    team = _write(
        tmp_path / "team.csv", "name,email,job_title,team\nKen,ken@cs.example.com,manager,Mid\n"
    )
    acts = _write(
        tmp_path / "a.csv",
        "account_id,種別,担当者,日時,内容\n"
        "K1,打ち合わせ,ken@cs.example.com,2024-04-01 15:00,キックオフ\n"
        "K1,電話,Ken,2024-04-02 10:00,\n",
    )
    cli("init")
    cli("import", "team", str(team))
    result = cli("import", "activities", str(acts))
    assert result.exit_code == 0, result.stderr
    with db.session_scope() as session:
        kinds = session.execute(
            select(Activity.kind, Activity.member_id).order_by(Activity.occurred_at)
        ).all()
    assert [k for k, _m in kinds] == ["meeting", "call"] and kinds[0][1] == kinds[1][1] is not None
    assert "0 new, 0 updated, 2 unchanged" in cli("import", "activities", str(acts)).stdout


def test_events_from_parquet_land_in_the_store_once(cli, tmp_path: Path) -> None:
    table = pa.table(
        {
            "account_id": ["K1", "K1", "K2"],
            "user_id": ["u1", "u2", None],
            "event": ["login", "export", "login"],
            "timestamp": [
                "2024-04-01T09:00:00+09:00",
                "2024-04-01 23:30:00",
                "2024-04-02T00:00:00Z",
            ],
            "properties": [None, '{"rows": 10}', None],
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    cli("init")
    first = cli("import", "events", str(path), "--source", "app")
    assert first.exit_code == 0, first.stderr
    assert "3 new" in first.stdout and "2 accounts created" in first.stdout
    again = cli("import", "events", str(path), "--source", "app")
    assert "0 new, 0 updated, 3 unchanged" in again.stdout
    stored = pa.concat_tables(pq.read_table(f) for f in event_files())
    assert stored.num_rows == 3
    assert [f.parent.name for f in event_files()] == ["date=2024-04-01", "date=2024-04-02"]
    with db.session_scope() as session:
        ids = dict(
            session.execute(select(AccountIdentity.external_id, AccountIdentity.account_id)).all()
        )
    assert sorted(set(stored["account_id"].to_pylist())) == sorted(ids.values())
    stamps = sorted(t.isoformat() for t in stored["ts"].to_pylist())
    assert stamps == [
        "2024-04-01T00:00:00+00:00",
        "2024-04-01T14:30:00+00:00",
        "2024-04-02T00:00:00+00:00",
    ]


def test_events_with_bad_rows_write_nothing_to_the_store(cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "e.csv",
        "event_id,account_id,event,timestamp,properties\n"
        "e1,K1,login,2024-04-01T10:00:00Z,\ne2,K1,login,yesterday,\ne3,K1,x,2024-04-01T10:00:00Z,[1]\n",
    )
    cli("init")
    result = cli("import", "events", str(path))
    assert result.exit_code == 2
    assert "e.csv:3:timestamp: not a date and time: yesterday" in result.stderr
    assert "e.csv:4:properties: expected a JSON object" in result.stderr
    assert event_files() == [] and _count(Account) == 0


def test_merge_moves_history_and_maps_the_old_id(cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.csv", "id,name\nC1,株式会社サンプル\n")
    b = _write(tmp_path / "b.csv", SPEC_HEADER + "\nB7,S1,pro,2024-04-01,,1000,JPY,1\n")
    cli("init")
    cli("import", "accounts", str(a), "--source", "crm")
    cli("import", "subscriptions", str(b), "--source", "billing")
    result = cli("accounts", "merge", "1", "2")
    assert result.exit_code == 0, result.stderr
    assert "1 identities" in result.stdout and "1 subscriptions" in result.stdout
    from banso.accounts.service import merged_account_map

    with db.session_scope() as session:
        assert merged_account_map(session) == {2: 1}
        assert session.scalars(select(Subscription.account_id)).all() == [1]
    assert _count(Account) == 1
    assert cli("accounts", "merge", "1", "9").exit_code == 2


@pytest.mark.postgres
def test_subscriptions_import_on_postgresql_is_idempotent(cli, pg_url: str) -> None:
    path = EXAMPLES / "jpy_realistic" / "subscriptions.csv"
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    again = cli("import", "subscriptions", str(path))
    assert "0 new, 0 updated, 12 unchanged" in again.stdout
    assert _count(Subscription) == 12 and _count(Account) == 8


def test_help_texts_describe_every_command(cli) -> None:
    for args in (
        ["import", "--help"],
        ["import", "subscriptions", "--help"],
        ["accounts", "--help"],
        ["accounts", "list", "--help"],
        ["accounts", "merge", "--help"],
    ):
        result = cli(*args)
        assert result.exit_code == 0
    assert "--dry-run" in cli("import", "events", "--help").stdout
    assert "--limit" in cli("accounts", "list", "--help").stdout


def test_a_billing_export_with_only_company_names_creates_one_account_per_name(
    cli, tmp_path: Path
) -> None:
    path = tmp_path / "請求.csv"
    path.write_bytes(
        "会社名,契約ID,契約開始日,解約日,月額,通貨,請求周期\n"
        '株式会社さくら商事,K-1,2024/4/1,,"￥29,800",JPY,1\n'
        "株式会社さくら商事,K-2,2024/5/1,,9800円,JPY,1\n"
        "合同会社ひかりラボ,K-3,令和6年5月1日,2024年9月1日,４９８００,JPY,1\n".encode("cp932")
    )
    assert cli("init").exit_code == 0
    result = cli("import", "subscriptions", str(path), "--source", "billing")
    assert result.exit_code == 0, result.stderr
    with db.session_scope() as s:
        names = s.scalars(select(Account.name).order_by(Account.name)).all()
        ids = s.scalars(select(AccountIdentity.external_id).order_by(AccountIdentity.external_id))
        amounts = s.scalars(select(Subscription.amount).order_by(Subscription.external_id)).all()
        assert names == ["合同会社ひかりラボ", "株式会社さくら商事"]
        assert list(ids) == ["合同会社ひかりラボ", "株式会社さくら商事"]
        assert amounts == [29800, 9800, 49800]
