"""Demo company names: every one of the MAX_COMPANIES is distinct once the legal form is gone."""

from __future__ import annotations

from banso.demo.names import MAX_COMPANIES, _company, normalize_company_name


def test_every_company_name_domain_and_normalised_name_is_distinct() -> None:
    companies = [_company(code, code % 7) for code in range(MAX_COMPANIES)]
    assert MAX_COMPANIES == 157_500
    assert len({c.normalized for c in companies}) == MAX_COMPANIES
    assert len({c.domain for c in companies}) == MAX_COMPANIES
    assert companies[0].name == "株式会社さくら商事"
    assert companies[0].domain == "sakura-shoji.co.jp"
    assert companies[0].kana == "サクラショウジ"


def test_normalisation_ignores_legal_form_and_width() -> None:
    assert normalize_company_name("（株）ＡＢＣシステム") == "abcシステム"
    assert normalize_company_name("さくら商事 株式会社") == normalize_company_name(
        "株式会社さくら商事"
    )
