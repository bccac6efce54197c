"""Every message and every code label has its Japanese translation, and no raw code reaches a page.

The messages are collected by Babel's own extractor with the project's ``babel.cfg`` (the same as
``pybabel extract -F babel.cfg``), so a new ``_``/``ngettext``/``pgettext`` call anywhere in
``src/banso`` (Python or template) is checked without touching this test.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import banso
from banso.labels import registry
from web.world import World

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src" / "banso" / "locales" / "ja" / "LC_MESSAGES" / "messages.po"
KEYWORDS = parse_keywords(
    ["_", "translate", "translate_to:2", "ngettext:1,2", "pgettext:1c,2", "npgettext:1c,2,3"]
)
"""The keywords of docs/contributing.md (``pybabel extract -k ...``)."""


@lru_cache(maxsize=1)
def _import_everything() -> None:
    """Import every module, so every domain has registered its labels."""
    for module in pkgutil.walk_packages(banso.__path__, "banso."):
        if ".migrations." not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)


@lru_cache(maxsize=1)
def extracted() -> tuple[tuple[str, int, str | tuple[str, ...], str | None], ...]:
    """(file, line, message, context) of every literal message in src/banso."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = []
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        found.append((filename, lineno, message, context))
    return tuple(found)


@lru_cache(maxsize=1)
def japanese() -> Catalog:
    with PO.open("rb") as fh:
        return read_po(fh, locale="ja")


def dynamic_msgids() -> set[str]:
    """Messages translated through a variable (``_(label)``) from tables of English names."""
    from banso.health.measures import LABELS
    from banso.health.routes import SEGMENT_FIELDS
    from banso.revenue.routes import COHORT_COLUMNS, HEATMAP_MEASURES, MONTH_COLUMNS
    from banso.web.templating import NAV

    found = {text for _path, text in NAV}
    found |= {text for _key, text, _kind in MONTH_COLUMNS + COHORT_COLUMNS}
    found |= {text for _key, text in HEATMAP_MEASURES}
    found |= {text for _field, text in SEGMENT_FIELDS}
    found |= set(LABELS.values())
    return found


def test_the_extractor_finds_the_messages_it_should() -> None:
    messages = {m for _f, _l, m, _c in extracted()}
    assert {"Sign in", "Wrong e-mail address or password.", "Dashboard"} <= messages
    assert ("{n} account", "{n} accounts") in messages  # a template's ngettext
    assert ("pgettext context", "kept apart") not in messages
    assert len(messages) > 500


def test_every_message_has_a_japanese_translation() -> None:
    cat = japanese()
    missing = []
    for filename, lineno, message, context in extracted():
        msgid = message if isinstance(message, str) else message[0]
        entry = cat.get(msgid, context=context)
        if entry is None or not (entry.string[0] if entry.pluralizable else entry.string):
            missing.append(f"{filename}:{lineno}: {context or ''} {msgid!r}")
    for msgid in sorted(dynamic_msgids()):
        entry = cat.get(msgid)
        if entry is None or not entry.string:
            missing.append(f"(table of names): {msgid!r}")
    assert not missing, "\n".join(missing)


def test_every_plural_message_has_its_plural_entry() -> None:
    cat = japanese()
    wrong = []
    for filename, lineno, message, context in extracted():
        if isinstance(message, str):
            continue
        entry = cat.get(message[0], context=context)
        if entry is None or not entry.pluralizable or entry.id[1] != message[1]:
            wrong.append(f"{filename}:{lineno}: {message!r} has no msgid_plural entry")
        elif not all(entry.string):
            wrong.append(f"{filename}:{lineno}: {message!r} has an empty msgstr[0]")
    assert not wrong, "\n".join(wrong)


def test_every_label_is_translated_in_its_own_context_and_tells_codes_apart() -> None:
    _import_everything()
    cat = japanese()
    problems = []
    labels = registry()
    assert {"lifecycle_stage", "contact_role", "activity_kind", "cta_priority", "health_band",
            "user_role", "import_kind", "segment", "touch_model"} <= set(labels)  # fmt: skip
    for kind, codes in labels.items():
        shown: dict[str, list[str]] = defaultdict(list)
        for code, english in codes.items():
            entry = cat.get(english, context=kind)
            if entry is None or not entry.string:
                problems.append(f"{kind}:{code} {english!r} has no msgctxt {kind!r} entry")
                continue
            shown[str(entry.string)].append(code)
            plain = cat.get(english)
            if plain is not None and plain.string and plain.string != entry.string:
                problems.append(
                    f"{english!r} reads {plain.string!r} without context but {entry.string!r} "
                    f"as {kind}: give the other use its own context or the same word"
                )
        problems += [
            f"{kind}: {codes} all read {text!r}" for text, codes in shown.items() if len(codes) > 1
        ]
        if len(set(codes.values())) != len(codes):
            problems.append(f"{kind}: two codes share an English label")
    assert not problems, "\n".join(problems)


def test_the_lifecycle_stages_are_not_the_validation_headings() -> None:
    from banso.i18n import translate, using_language
    from banso.labels import label

    _import_everything()
    with using_language("ja"):
        assert (label("renewal", "lifecycle_stage"), label("expansion", "lifecycle_stage")) == (
            "更新",
            "拡大",
        )
        assert (translate("renewal"), translate("expansion")) == ("更新率", "拡大率")
        bands = [label(b, "health_band") for b in ("green", "yellow", "red")]
    assert bands == ["良好", "注意", "危険"]


class _WholeTexts(HTMLParser):
    """The whole text of every element (what a reader sees in it), scripts and code left out."""

    SKIP = {"script", "style", "code", "pre"}
    VOID = {"br", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, list[str]]] = []
        self.texts: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, parts = self.stack.pop()
            text = "".join(parts).strip()
            if self.stack and name not in self.SKIP:
                self.stack[-1][1].append(text)
            if name not in self.SKIP:
                self.texts.append((name, text))
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] not in self.SKIP:
            self.stack[-1][1].append(data)


def _ctas_and_scores(world: World) -> None:
    from banso.dates import today as company_today
    from banso.db import session_scope
    from banso.health import service as health_service
    from banso.playbooks.models import Cta, CtaTask

    today = company_today()
    with session_scope() as s:
        ctas = ((world.yamada, "high", "risk"), (world.midori, "urgent", "opportunity"))
        for account, priority, kind in ctas:
            cta = Cta(
                account_id=account, playbook="p", reason=priority, type=kind, priority=priority,
                title="確認", status="open", owner_id=world.sato_member, due_date=today,
                first_triggered_on=today, last_triggered_on=today, trigger_count=1,
            )  # fmt: skip
            s.add(cta)
            s.flush()
            s.add(CtaTask(cta_id=cta.id, position=1, title="電話する", due_date=today))
        yesterday = today - timedelta(days=1)
        health_service.score_days(s, [yesterday - timedelta(days=7), yesterday])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_page_shows_a_raw_code(client: TestClient, sign_in, world: World, lang: str) -> None:  # type: ignore[no-untyped-def]
    _import_everything()
    _ctas_and_scores(world)
    codes = {code for codes in registry().values() for code in codes}
    sign_in("admin")
    pages = [
        "/", "/accounts", "/accounts?lifecycle=adoption", f"/accounts/{world.yamada}",
        f"/accounts/{world.midori}", f"/accounts/{world.yamada}/usage", "/tasks",
        "/tasks?everyone=true", "/metrics", "/health", "/data", "/admin/users",
        "/admin/tokens", "/admin/audit",
    ]  # fmt: skip
    raw = []
    for path in pages:
        response = client.get(path, headers={"Accept-Language": lang})
        assert response.status_code == 200, (path, response.text[:500])
        assert f'<html lang="{lang}">' in response.text or path.endswith("/usage"), path
        parser = _WholeTexts()
        parser.feed(response.text)
        raw += [f"{path}: <{tag}>{text}" for tag, text in parser.texts if text in codes]
    assert not raw, "\n".join(raw)
    # and the labels are really there
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": lang}).text
    assert ("Decision maker" if lang == "en" else "決裁者") in page
