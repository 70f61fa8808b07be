"""Blind double review stays blind on every path (issue 12): the row, the row's history and
the project's history (JSON and CSV) never show an author's answer to anyone else before
both answers are in, nor to viewers before the row is settled."""

from __future__ import annotations

import csv
import io
import json

from tests.api.test_curation import World

CODE = "C02.05.03"
SECRET = "M18.01.00"
"""The first author's answer: a target that is none of the row's candidates, so that
seeing it anywhere means seeing the answer."""


def double_review(world: World) -> str:
    url = f"/api/projects/{world.project.id}"
    assert world.client.patch(url, json={"review": "double"}, headers=world.as_("admin")).status_code == 200
    return url


def first_answer(world: World, code: str = CODE, target: str = SECRET) -> str:
    detail, etag = world.row("author", code)
    assert target not in {candidate["target_code"] for candidate in detail["candidates"]}
    answered = world.decide("author", code, etag, action="map", targets=[{"code": target}], comment="sure")
    assert answered.status_code == 200, answered.text
    return answered.headers["ETag"]


def seen_by(world: World, name: str, url: str) -> str:
    """Everything ``name`` can read about the row's history, as text."""
    row_history = world.client.get(f"{url}/rows/{CODE}/history", headers=world.as_(name))
    project_json = world.client.get(f"{url}/history", headers=world.as_(name))
    project_csv = world.client.get(f"{url}/history", params={"format": "csv"}, headers=world.as_(name))
    detail = world.client.get(f"{url}/rows/{CODE}", headers=world.as_(name))
    for answer in (row_history, project_json, project_csv, detail):
        assert answer.status_code == 200, answer.text
    return "\n".join([row_history.text, project_json.text, project_csv.text, detail.text])


def test_the_first_answer_is_hidden_from_everyone_else_until_the_second_is_in(world: World) -> None:
    url = double_review(world)
    etag = first_answer(world)
    for name in ("author2", "viewer", "reviewer", "reconciler", "admin"):
        text = seen_by(world, name, url)
        assert SECRET not in text, f"{name} sees the first answer"
        assert '"sure"' not in text and ",sure," not in text, f"{name} sees the first answer's comment"
    assert SECRET in seen_by(world, "author", url)  # its author sees it
    history = world.client.get(f"{url}/rows/{CODE}/history", headers=world.as_("author2")).json()
    assert [event["action"] for event in history] == ["answer-map"]  # that someone answered is not hidden
    assert history[0]["after"]["answer"] == "hidden until both answers are in"

    second = world.decide("author2", CODE, etag, action="map", targets=[{"code": "M19.07.00"}])
    assert second.status_code == 200 and second.json()["row"]["status"] == "conflict"
    assert SECRET in seen_by(world, "author2", url)  # both in: the authors see each other
    assert SECRET in seen_by(world, "reconciler", url)
    assert SECRET not in seen_by(world, "viewer", url)  # viewers wait for the settlement

    _, etag = world.row("reconciler", CODE)
    settled = world.decide("reconciler", CODE, etag, action="reconcile", targets=[{"code": "M19.07.00"}])
    assert settled.status_code == 200 and settled.json()["row"]["status"] == "accepted"
    lines = list(
        csv.DictReader(
            io.StringIO(
                world.client.get(f"{url}/history", params={"format": "csv"}, headers=world.as_("viewer")).text
            )
        )
    )
    answers = [json.loads(line["after"])["answer"] for line in lines if line["action"] == "answer-map"]
    assert [a["targets"][0]["code"] for a in answers] == [SECRET, "M19.07.00"]


def test_other_rows_and_single_review_histories_are_not_redacted(world: World) -> None:
    url = double_review(world)
    first_answer(world, "C02.16.02", "M19.07.00")
    assert world.client.patch(url, json={"review": "single"}, headers=world.as_("admin")).status_code == 200
    _, etag = world.row("author", CODE)
    assert (
        world.decide("author", CODE, etag, action="map", targets=[{"code": "C02.18.00"}]).status_code == 200
    )
    seen = world.client.get(f"{url}/rows/{CODE}/history", headers=world.as_("viewer")).json()
    assert seen[0]["after"]["targets"][0]["code"] == "C02.18.00"
    waiting = world.client.get(f"{url}/rows/C02.16.02/history", headers=world.as_("viewer")).json()
    assert waiting[0]["after"]["answer"] == "hidden until both answers are in"
