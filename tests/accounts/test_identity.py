"""Company-name normalisation and identity resolution on hard real-world names."""

from __future__ import annotations

import pytest

from banso.accounts.identity import (
    AccountIndex,
    email_domain,
    normalize_company_name,
    registered_domain,
)


@pytest.mark.parametrize(
    "name",
    [
        "株式会社サンプル",
        "サンプル(株)",
        "ｻﾝﾌﾟﾙ株式会社",
        "㈱サンプル",
        "サンプル 株式会社",
        "（株）サンプル",
        "サンプル　株式会社",
    ],
)
def test_legal_forms_width_and_spaces_do_not_change_the_company(name: str) -> None:
    assert normalize_company_name(name) == "サンプル"


def test_a_different_word_in_the_name_is_a_different_company() -> None:
    assert normalize_company_name("サンプル商事株式会社") == "サンプル商事"
    assert normalize_company_name("サンプル商事株式会社") != normalize_company_name(
        "株式会社サンプル"
    )


@pytest.mark.parametrize(
    "name",
    [
        "Acme Inc.",
        "ACME Co., Ltd.",
        "Acme K.K.",
        "acme corporation",
        "ＡＣＭＥ株式会社",
        "Acme Co.,Ltd.",
    ],
)
def test_english_legal_forms_and_case(name: str) -> None:
    assert normalize_company_name(name) == "acme"


def test_free_mail_domains_identify_no_company() -> None:
    assert email_domain("taro@gmail.com") is None
    assert email_domain("hanako@yahoo.co.jp") is None
    assert email_domain("ken@sample.co.jp") == "sample.co.jp"


def test_resolution_steps_identity_then_domain_then_name() -> None:
    index = AccountIndex()
    index.add_account(1, "サンプル", "sample.co.jp")
    index.add_identity(1, "crm", "C1")
    assert index.resolve("crm", "C1", name=None, domain=None).account_id == 1
    assert index.resolve("billing", "B9", name="別名", domain="sample.co.jp").reason == "domain"
    by_name = index.resolve("billing", "B1", name="ｻﾝﾌﾟﾙ株式会社", domain=None)
    assert (by_name.account_id, by_name.reason) == (1, "name")
    other = index.resolve("billing", "B2", name="サンプル商事株式会社", domain=None)
    assert (other.account_id, other.reason) == (None, "new")


def test_two_candidates_are_ambiguous_and_never_merged() -> None:
    index = AccountIndex()
    index.add_account(1, "サンプル", None)
    index.add_account(2, "サンプル", None)
    result = index.resolve("billing", "B1", name="サンプル(株)", domain=None)
    assert result.account_id is None
    assert result.ambiguous == (1, 2)


def test_a_source_that_already_names_the_candidate_differently_keeps_them_apart() -> None:
    index = AccountIndex()
    index.add_account(1, "サンプル", None)
    index.add_identity(1, "crm", "C1")
    result = index.resolve("crm", "C2", name="サンプル株式会社", domain=None)
    assert result.account_id is None


def test_full_width_latin_and_legal_form_marks_name_one_company() -> None:
    assert normalize_company_name("ＡＢＣホールディングス㈱") == normalize_company_name(
        "ABCホールディングス株式会社"
    )


def test_registered_domain_under_the_public_suffix_list() -> None:
    assert registered_domain("sales.example.co.jp") == "example.co.jp"
    assert registered_domain("example.co.jp") == "example.co.jp"
    assert registered_domain("eu.shop.example.com") == "example.com"
    # github.io is a public suffix: two sites under it are two registrants
    assert registered_domain("alpha.github.io") == "alpha.github.io"
    assert registered_domain("co.jp") == "co.jp"


def test_a_subdomain_matches_the_company_of_its_registered_domain() -> None:
    index = AccountIndex()
    index.add_account(1, "example", "example.co.jp")
    index.add_account(2, "alpha", "alpha.github.io")
    assert index.resolve("stripe", "cus_1", name=None, domain="sales.example.co.jp").account_id == 1
    beta = index.resolve("stripe", "cus_2", name=None, domain="beta.github.io")
    assert (beta.account_id, beta.reason) == (None, "new")


def test_two_companies_on_one_registered_domain_are_doubtful_not_merged() -> None:
    index = AccountIndex()
    index.add_account(1, "example east", "east.example.co.jp")
    index.add_account(2, "example west", "west.example.co.jp")
    found = index.resolve("hubspot", "42", name=None, domain="example.co.jp")
    assert (found.account_id, found.ambiguous) == (None, (1, 2))
