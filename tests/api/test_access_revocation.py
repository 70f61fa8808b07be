"""Access can be taken back, effective on the very next request (issue 12): ``concordance
users revoke`` and ``members remove`` on the command line, and the API's own routes."""

from __future__ import annotations

import pytest

from terminology.cli.main import main
from terminology.settings import get_settings
from tests.api.test_curation import World


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv(
        "CONCORDANCE_DATABASE_URL", world.store.engine.url.render_as_string(hide_password=False)
    )
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def project_status(world: World, name: str) -> int:
    return world.client.get(f"/api/projects/{world.project.id}", headers=world.as_(name)).status_code


def test_users_revoke_stops_the_token_at_once(cli: World) -> None:
    assert project_status(cli, "author") == 200
    assert main(["users", "revoke", "author"]) == 0
    answer = cli.client.get(f"/api/projects/{cli.project.id}", headers=cli.as_("author"))
    assert answer.status_code == 401 and "revoked" in answer.json()["message"]
    assert main(["users", "revoke", "nobody"]) == 1  # unknown user: a clear error, nothing done
    assert project_status(cli, "reviewer") == 200


def test_members_remove_takes_the_role_away_at_once(cli: World) -> None:
    assert main(["members", "remove", "samu", "author"]) == 0
    assert project_status(cli, "author") == 403
    assert main(["members", "remove", "samu", "author"]) == 1  # no longer a member


def test_an_admin_removes_a_member_through_the_api(world: World) -> None:
    url = f"/api/projects/{world.project.id}/members/author"
    assert world.client.delete(url, headers=world.as_("reviewer")).status_code == 403
    assert world.client.delete(url, headers=world.as_("admin")).status_code == 204
    assert project_status(world, "author") == 403
    assert world.client.delete(url, headers=world.as_("admin")).status_code == 404
    own = world.client.delete(f"/api/projects/{world.project.id}/members/admin", headers=world.as_("admin"))
    assert own.status_code == 409  # the last admin cannot leave the project without one


def test_a_caller_revokes_their_own_token(world: World) -> None:
    assert world.client.post("/api/users/me/revoke", headers=world.as_("viewer")).status_code == 204
    assert project_status(world, "viewer") == 401
