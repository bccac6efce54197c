"""Every package keeps its pages' templates in its own ``templates/`` folder; the web kit reads
them all through one loader, so a name must mean one file."""

from __future__ import annotations

from collections import Counter

from banso.web.templating import TEMPLATE_DIRS


def test_each_template_name_is_held_by_one_package() -> None:
    names = Counter(
        path.relative_to(folder).as_posix()
        for folder in TEMPLATE_DIRS
        for path in folder.rglob("*")
        if path.is_file()
    )
    assert [name for name, count in names.items() if count > 1] == []


def test_pages_keep_their_templates_in_their_own_package() -> None:
    holder = {
        path.name: folder.parent.name for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")
    }
    assert holder["base.html"] == "web"
    assert holder["metrics.html"] == "revenue"
    assert holder["health.html"] == "health"
    assert holder["detail.html"] == "account_views"
    assert holder["dashboard.html"] == "dashboard"
