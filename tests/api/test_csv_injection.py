"""CSV exports cannot carry formulas (issue 12): a cell a curator wrote that starts with
``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is written with a leading ``'``, so a
spreadsheet shows it as text instead of running it."""

from __future__ import annotations

import csv
import io

from tests.api.test_curation import World

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_formulas_are_neutralised_in_the_exports(world: World) -> None:
    code = "C02.05.03"
    _, etag = world.row("author", code)
    for comment in FORMULAS:
        answered = world.decide("author", code, etag, action="comment", comment=comment)
        assert answered.status_code == 200, answered.text
        etag = answered.headers["ETag"]
    answered = world.decide(
        "author", code, etag, action="map", targets=[{"code": "C02.18.00"}], comment=FORMULAS[0]
    )
    assert answered.status_code == 200
    url = f"/api/projects/{world.project.id}"
    history = world.client.get(f"{url}/history", params={"format": "csv"}, headers=world.as_("viewer")).text
    comments = [line["comment"] for line in csv.DictReader(io.StringIO(history)) if line["comment"]]
    assert comments == ["'" + formula for formula in FORMULAS] + ["'" + FORMULAS[0]]
    export = world.client.get(f"{url}/export", params={"format": "csv"}, headers=world.as_("viewer")).text
    rows = list(csv.DictReader(io.StringIO(export)))
    assert rows[0]["comment"] == "'" + FORMULAS[0]
    for row in rows:  # no cell anywhere starts a formula
        assert not any(value[:1] in ("=", "+", "-", "@", "\t", "\r") for value in row.values() if value)
    json_history = world.client.get(f"{url}/history", headers=world.as_("viewer")).json()
    assert json_history[0]["comment"] == FORMULAS[0]  # JSON keeps what was written
