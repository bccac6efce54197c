"""The accounts list and 360 queries give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from banso import dates
from banso.account_views import account360
from banso.account_views import accounts_list as views
from banso.accounts import search
from banso.accounts.models import Account
from banso.accounts.search import search_key
from banso.accounts.service import AccountFacts, resolve_accounts
from banso.db import session_scope
from banso.flows.merge import merge_accounts
from banso.health import service as health_service
from web.world import build_world


def test_list_search_sort_and_renewal_window_on_every_database(any_db: str) -> None:
    world = build_world()
    with session_scope() as s:

        def names(**kwargs: object) -> list[str]:
            flt = views.AccountFilter(**kwargs)  # type: ignore[arg-type]
            return [r.name for r in views.list_accounts(s, flt).rows]

        assert names(q="やまだ") == ["株式会社山田製作所"]
        assert names(q="ミドリ") == ["みどり商事株式会社"]
        # Acme's only line ended 135 days ago: churned, listed only when asked for
        assert names(q="acme") == []
        assert names(q="acme", include_churned=True) == ["Acme Japan K.K."]
        assert names(q="YAMADA-SS") == ["株式会社山田製作所"]
        assert names(q="Yamada") == ["株式会社山田製作所"]  # romaji read as ヤマダ
        assert names(q="midori shouji") == ["みどり商事株式会社"]
        by_mrr = views.AccountFilter(sort="mrr", descending=True, include_churned=True)
        top = views.list_accounts(s, by_mrr).rows[:3]
        assert [(r.name, r.mrr) for r in top] == [
            ("株式会社山田製作所", 130000),
            ("みどり商事株式会社", 50000),
            ("Acme Japan K.K.", None),  # no MRR: last, then by id
        ]
        assert names(renewal_days=180) == ["株式会社山田製作所"]
        page2 = views.list_accounts(s, views.AccountFilter(page=2, include_churned=True))
        assert (page2.total, page2.pages, len(page2.rows)) == (60, 2, 10)
        page2 = views.list_accounts(s, views.AccountFilter(page=2))
        assert (page2.total, page2.pages, len(page2.rows)) == (59, 2, 9)
        view = account360.account_360(s, world.yamada)
        assert view.mrr_by_currency == {"JPY": 130000}
        assert [t.kind for t in view.timeline][:3] == ["survey", "ticket", "activity"]


def test_search_finds_kanji_kana_romaji_domain_and_any_case_on_every_database(
    any_db: str,
) -> None:
    build_world()
    with session_scope() as s:

        def names(q: str) -> list[str]:
            flt = views.AccountFilter(q=q, include_churned=True)
            return [r.name for r in views.list_accounts(s, flt).rows]

        yamada = ["株式会社山田製作所"]
        for q in (
            "山田製作所",
            "やまだ",
            "ヤマダ",
            "ﾔﾏﾀﾞ",
            "やまダ",
            "yamada",
            "YAMADA",
            "ｙａｍａｄａ",
        ):
            assert names(q) == yamada, q
        assert names("株式会社山田") == yamada  # the legal form is in the name, not its core
        assert names("せいさくしょ") == yamada  # the kana reading, in hiragana
        assert names("ss.co.jp") == yamada  # the domain
        assert names("shouji") == ["みどり商事株式会社"]  # romaji read as しょうじ
        assert names("ACME japan k.k.") == ["Acme Japan K.K."]
        assert names("ＡＣＭＥ") == ["Acme Japan K.K."]
        assert names("アクメ") == ["Acme Japan K.K."]
        assert names("example.com") == ["Acme Japan K.K."]
        # LIKE's wildcards are plain characters, and no term matches across two fields
        assert names("%") == names("_") == names("ジャパン\nacme") == []
        assert names("k.k.あくめ") == []  # the name, then the reading
        assert names("Filler 00") == [f"Filler {i:03d}" for i in range(1, 10)]
        # the last page's total comes from its rows; a page past the end is empty, not the last
        second = views.list_accounts(s, views.AccountFilter(q="filler", page=2))
        assert (second.total, second.pages, second.page, len(second.rows)) == (57, 2, 2, 7)
        beyond = views.list_accounts(s, views.AccountFilter(q="filler", page=9))
        assert (beyond.total, beyond.pages, beyond.page, beyond.rows) == (57, 2, 9, [])
        none = views.list_accounts(s, views.AccountFilter(q="存在しない会社"))
        assert (none.total, none.pages, none.page, none.rows) == (0, 1, 1, [])


def test_search_key_follows_every_write_of_an_account(any_db: str) -> None:
    build_world()
    with session_scope() as s:

        def found(q: str) -> list[int]:
            return [r.id for r in views.list_accounts(s, views.AccountFilter(q=q)).rows]

        # a Core insert that leaves the key out (the demo generator's) gets it from the model
        demo_id = s.execute(
            insert(Account)
            .values(name="ｻｸﾗ電機株式会社", normalized_name="サクラ電機", kana="サクラデンキ")
            .returning(Account.id)
        ).scalar_one()
        assert found("さくらでんき") == found("sakura") == [demo_id]
        # an import creates accounts through the raw bulk insert, then updates them (ORM)
        created = resolve_accounts(
            s,
            "crm",
            {"C-1": AccountFacts(name="富士通商株式会社", kana="フジツウショウ", domain="fuji.jp")},
            update_existing=True,
        )
        fuji = created.ids["C-1"]
        assert found("ふじつう") == found("FUJI.JP") == [fuji]
        resolve_accounts(s, "crm", {"C-1": AccountFacts(kana="フジトレード")}, update_existing=True)
        assert found("ふじとれーど") == [fuji]
        assert found("ふじつう") == []
        # a merge fills the kept account's blanks, the key with them
        blank = Account(name="北斗運輸", normalized_name="北斗運輸")
        other = Account(name="ホクト運輸(株)", normalized_name="ホクト運輸", kana="ホクトウンユ")
        s.add_all([blank, other])
        s.flush()
        assert found("hokuto") == [other.id]
        merge_accounts(s, blank.id, other.id)
        s.flush()
        assert found("hokuto") == [blank.id]
        stored = s.execute(
            select(Account.name, Account.normalized_name, Account.kana, Account.domain,
                   Account.search_key)
        ).all()  # fmt: skip
        assert all(r.search_key == search_key(*r[:4]) for r in stored)


def test_search_key_folds_width_case_and_kana_and_keeps_each_field_once() -> None:
    assert (
        search_key("ｱｸﾒ株式会社", "アクメ", "アクメ", "Acme.CO.JP") == "あくめ株式会社\nacme.co.jp"
    )
    assert search_key("Acme Japan K.K.", "acme japan", None, None) == "acme japan k.k."
    assert search_key("北斗運輸", "北斗運輸", "ホクト\nウンユ", None) == "北斗運輸\nほくと うんゆ"
    assert search.search_terms("Yamada") == ["yamada", "やまだ"]
    assert search.search_terms("ﾔﾏﾀﾞ") == ["やまだ"]
    assert search.search_terms("a\nb") == []


def test_search_variants_cover_hiragana_katakana_and_half_width() -> None:
    assert search.search_variants("やまだ") == ["やまだ", "ヤマダ"]
    assert search.search_variants("ﾔﾏﾀﾞ") == ["ヤマダ", "やまだ"]
    assert search.search_variants("ＡＣＭＥ") == ["ACME"]
    assert search.search_variants("Yamada") == ["Yamada", "やまだ", "ヤマダ"]


def test_romaji_is_read_as_kana() -> None:
    readings = {
        "shinjuku": "しんじゅく",
        "konnichiha": "こんにちは",
        "hokkaidou": "ほっかいどう",
        "kyouto": "きょうと",
        "tsukuba": "つくば",
        "c123.example": None,
        "acme": None,
    }
    assert {w: search.romaji_to_hiragana(w) for w in readings} == readings


def test_band_filter_and_score_sort_on_every_database(any_db: str) -> None:
    """After scoring, 山田 is healthy (89) and みどり caution (72); the other 58 accounts were not
    customers on the day, so they have no band."""
    world = build_world()
    yesterday = dates.today() - timedelta(days=1)
    with session_scope() as s:
        assert health_service.score_days(s, [yesterday]) == 2
    with session_scope() as s:

        def names(**kwargs: object) -> list[str]:
            flt = views.AccountFilter(**kwargs)  # type: ignore[arg-type]
            return [r.name for r in views.list_accounts(s, flt).rows]

        assert names(band="green") == ["株式会社山田製作所"]
        assert names(band="yellow") == ["みどり商事株式会社"]
        assert names(band="red") == []
        unscored = views.list_accounts(s, views.AccountFilter(band="none", include_churned=True))
        assert unscored.total == 58 and "Acme Japan K.K." in [r.name for r in unscored.rows]
        assert names(band="at_risk") == ["みどり商事株式会社"]
        assert views.list_accounts(s, views.AccountFilter(band="green", plan="Basic")).total == 0
        by_score = views.list_accounts(
            s, views.AccountFilter(sort="score", descending=True, include_churned=True)
        )
        assert [(r.name, round(r.health_score or 0), r.health_band) for r in by_score.rows[:3]] == [
            ("株式会社山田製作所", 89, "green"),
            ("みどり商事株式会社", 72, "yellow"),
            ("Acme Japan K.K.", 0, None),  # not scored: last, then by id
        ]
        ascending = views.list_accounts(s, views.AccountFilter(sort="score")).rows
        assert [r.name for r in ascending[:2]] == ["みどり商事株式会社", "株式会社山田製作所"]
        exported = list(views.iter_accounts(s, views.AccountFilter(band="yellow")))
        assert [(r.name, round(r.health_score or 0)) for r in exported] == [
            ("みどり商事株式会社", 72)
        ]
        view = account360.account_360(s, world.midori)
        assert view.health is not None and view.health.band == "yellow"
        assert view.health.day == yesterday


def test_filter_menus_are_kept_until_accounts_change(any_db: str) -> None:
    build_world()
    with session_scope() as s:
        assert views.filter_choices(s).plans == ["Basic", "Pro"]
        assert views.filter_choices(s).segments == ["Enterprise", "Mid-market", "SMB"]
    with session_scope() as s:
        s.add(Account(name="新規株式会社", normalized_name="新規", plan="Enterprise"))
    with session_scope() as s:
        assert views.filter_choices(s).plans == ["Basic", "Enterprise", "Pro"]


def test_timeline_names_onboarding_sessions_in_both_languages() -> None:
    from datetime import UTC, datetime

    from banso import i18n
    from banso.activities.models import Activity

    world = build_world()
    with session_scope() as s:
        s.add(
            Activity(account_id=world.yamada, source="crm", external_id="A-onb",
                     kind="onboarding_session", occurred_at=datetime.now(UTC), summary="キックオフ")
        )  # fmt: skip
    for lang, title in (("en", "Onboarding session"), ("ja", "オンボーディング支援")):
        i18n.set_language(lang)
        with session_scope() as s:
            view = account360.account_360(s, world.yamada)
        assert (view.timeline[0].title, view.timeline[0].detail) == (title, "キックオフ")
    i18n.set_language(None)


def test_churned_accounts_are_hidden_unless_asked_for_on_every_database(any_db: str) -> None:
    """The list leaves out exactly the accounts ``contracts.is_churned`` says have churned today,
    counted with or without other filters."""
    from banso.revenue import contracts
    from banso.revenue.models import Subscription

    build_world()
    today = dates.today()
    with session_scope() as s:
        cases = {
            # between two contracts: churned until the next starts
            "間隔株式会社": [(-400, -30), (30, None)],
            "予定株式会社": [(10, None)],  # first contract starts later: not churned
            "無償株式会社": [(-400, -30, 0)],  # never paid: not churned
            "継続株式会社": [(-400, 0), (0, None)],  # renewed today: a customer
            "終了株式会社": [(-400, 0)],  # ends today (exclusive): churned
        }
        for n, (name, lines) in enumerate(cases.items()):
            account = Account(name=name, normalized_name=name, plan="Basic")
            s.add(account)
            s.flush()
            for k, line in enumerate(lines):
                start, end, *amount = line
                s.add(
                    Subscription(
                        account_id=account.id,
                        source="billing",
                        external_id=f"C-{n}-{k}",
                        start_date=today + timedelta(days=start),
                        end_date=None if end is None else today + timedelta(days=end),
                        amount=amount[0] if amount else 10_000,
                        currency="JPY",
                        billing_period_months=1,
                    )
                )
    with session_scope() as s:
        every = views.list_accounts(
            s, views.AccountFilter(include_churned=True), page_size=1000
        ).rows
        lines = {r.id: [] for r in every}  # type: dict[int, list[contracts.Line]]
        for sub in s.scalars(select(Subscription)):
            lines[sub.account_id].append(contracts.Line.of(sub))
        churned = {r.name for r in every if contracts.is_churned(lines[r.id], today)}
        assert churned == {"Acme Japan K.K.", "間隔株式会社", "終了株式会社"}
        shown = views.list_accounts(s, views.AccountFilter(), page_size=1000).rows
        assert {r.name for r in every} - {r.name for r in shown} == churned
        # page 1 is full, so the totals are counted: without a filter, and with one
        assert views.list_accounts(s, views.AccountFilter()).total == 65 - 3
        basic = views.list_accounts(s, views.AccountFilter(plan="Basic"))
        assert basic.total == 58 + 5 - 2
        everyone = views.list_accounts(s, views.AccountFilter(plan="Basic", include_churned=True))
        assert everyone.total == 58 + 5
