"""Web test fixtures: the small world, and an in-process client of the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from banso.server.app import create_app
from web.world import EMAILS, PASSWORD, World, build_world


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def sign_in(client: TestClient):  # type: ignore[no-untyped-def]
    """``sign_in("admin")`` signs the client in as that role's user; returns the CSRF token."""

    def run(role: str, password: str = PASSWORD) -> str:
        return sign_in_as(client, EMAILS[role], password)

    return run


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's session, as the sign-in page hands it out."""
    page = client.get("/sign-in")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def sign_in_as(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token for later posts."""
    token = csrf_of(client)
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token, "next": "/accounts"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client)
