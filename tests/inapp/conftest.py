"""The small web world (tests/web/world.py) with the product's ids as identities of source
``product``: 株式会社山田製作所 is ``YAMADA-1`` (segment enterprise on the evaluated day) and
みどり商事株式会社 is ``MIDORI-2`` (segment smb)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from banso.accounts.models import AccountIdentity
from banso.dates import today
from banso.db import session_scope, utcnow
from banso.segments.models import SegmentEvaluation, SegmentMembership
from banso.server.app import create_app
from web.world import World, build_world

SOURCE = "product"
ORIGIN = "https://app.example.jp"


@pytest.fixture
def world() -> World:
    built = build_world()
    day = today()
    with session_scope() as s:
        s.add_all([
            AccountIdentity(account_id=built.yamada, source=SOURCE, external_id="YAMADA-1"),
            AccountIdentity(account_id=built.midori, source=SOURCE, external_id="MIDORI-2"),
            SegmentMembership(account_id=built.yamada, segment="enterprise",
                              start_date=day - timedelta(days=30), end_date=None),
            SegmentMembership(account_id=built.midori, segment="smb",
                              start_date=day - timedelta(days=30), end_date=None),
            SegmentEvaluation(day=day, fingerprint="test", accounts=2, changed=0, summary="{}",
                              evaluated_at=utcnow()),
        ])  # fmt: skip
    return built


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c
