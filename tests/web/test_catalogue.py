"""Every string the web app shows has a Japanese translation in the Babel catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from banso.accounts.models import CONTACT_ROLES, LIFECYCLE_STAGES
from banso.activities.service import LOGGABLE_KINDS
from banso.health.routes import SEGMENT_FIELDS
from banso.i18n import catalogue
from banso.ingest.schemas import ImportKind
from banso.playbooks.models import CTA_PRIORITIES
from banso.revenue.routes import COHORT_COLUMNS, HEATMAP_MEASURES, MONTH_COLUMNS
from banso.support.models import PRIORITIES
from banso.users.models import ROLES
from banso.web.templating import NAV, TEMPLATE_DIRS

SRC = Path(__file__).resolve().parents[2] / "src" / "banso"
WEB_FILES = [
    *sorted((SRC / "web").rglob("*.py")),
    *sorted((SRC / "server").rglob("*.py")),
    *sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")),
    *sorted(SRC.glob("*/routes.py")),
    *sorted(SRC.glob("*/api.py")),
    SRC / "revenue" / "export.py",
    *sorted((SRC / "account_views").glob("*.py")),
    SRC / "activities" / "service.py",
    *sorted((SRC / "users").rglob("*.py")),
    *sorted((SRC / "audit").rglob("*.py")),
]
LITERAL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
"""``_("text")`` or ``_('text')`` with a literal message id."""


def web_msgids() -> set[str]:
    found: set[str] = set()
    for path in WEB_FILES:
        for double, single in LITERAL.findall(path.read_text(encoding="utf-8")):
            found.add(double or single)
    dynamic = {label for _path, label in NAV}
    dynamic |= set(ROLES) | set(LIFECYCLE_STAGES) | set(LOGGABLE_KINDS) | set(CONTACT_ROLES)
    dynamic |= set(PRIORITIES) | {"up", "down", "flat"}  # health trends
    dynamic |= {k.value for k in ImportKind} | set(CTA_PRIORITIES)
    dynamic |= {label for _key, label, _kind in MONTH_COLUMNS + COHORT_COLUMNS}
    dynamic |= {label for _key, label in HEATMAP_MEASURES}
    dynamic |= {label for _field, label in SEGMENT_FIELDS}
    dynamic |= {"active", "expired", "revoked"}  # API token status
    return found | dynamic


def test_the_scan_finds_the_strings_it_should() -> None:
    ids = web_msgids()
    assert {"Sign in", "Wrong e-mail address or password.", "{n} accounts", "Dashboard"} <= ids
    assert len(ids) > 80


def test_every_web_string_has_a_japanese_translation() -> None:
    missing = sorted(web_msgids() - set(catalogue("ja")))
    assert missing == []
