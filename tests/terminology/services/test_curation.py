"""The curation service: what the page, the API and scripts call to decide on rows. The
review rules are tested on their own (``tests/terminology/review``); these check that the
service applies them whole: stale versions, roles for a whole bulk, all or nothing."""

from __future__ import annotations

import pytest

from terminology.models import CodeSystem
from terminology.records import StaleVersionError
from terminology.review.workflow import Actor, InvalidDecision, NotAllowed, Role, Status, Target
from terminology.services.decisions import BulkRequest, RowDecision, bulk_decide, decide_row
from terminology.services.matching import match_and_save
from terminology.services.projects import find_project
from terminology.services.queue import progress, row_view
from terminology.storage import curation, projects
from terminology.storage.store import SqlStore

ANA = Actor(name="ana", role=Role.AUTHOR)
RUI = Actor(name="rui", role=Role.REVIEWER)


@pytest.fixture
def project(store: SqlStore, samu: dict[str, CodeSystem]) -> projects.Project:
    saved = match_and_save(store, samu["1.9"], samu["2.3"], top_k=3, project="samu")
    assert saved.project is not None
    return find_project(store, str(saved.project.id))


def test_a_decision_on_a_stale_version_is_refused_with_the_current_row(
    store: SqlStore, project: projects.Project
) -> None:
    code = curation.list_rows(store, project, curation.RowQuery(limit=1))[0][0][0].source_code
    target = curation.row_candidates(store, project, code)[0]["target_code"]
    mapped = decide_row(
        store, project, ANA, code, RowDecision(action="map", targets=(Target(code=target),)),
        expected_version=1, longest_comment=100,
    )  # fmt: skip
    assert (mapped.status, mapped.version) == (Status.DRAFT, 2)
    with pytest.raises(StaleVersionError) as stale:
        decide_row(
            store, project, ANA, code, RowDecision(action="no_map"),
            expected_version=1, longest_comment=100,
        )  # fmt: skip
    assert (
        stale.value.current.version == 2 and curation.get_row(store, project, code).targets == mapped.targets
    )


def test_a_target_outside_the_target_version_is_refused(store: SqlStore, project: projects.Project) -> None:
    code = curation.list_rows(store, project, curation.RowQuery(limit=1))[0][0][0].source_code
    with pytest.raises(InvalidDecision, match="NOPE is not a code of urn:samu"):
        decide_row(
            store, project, ANA, code, RowDecision(action="map", targets=(Target(code="NOPE"),)),
            expected_version=1, longest_comment=100,
        )  # fmt: skip


def test_bulk_needs_the_role_for_the_whole_request(store: SqlStore, project: projects.Project) -> None:
    with pytest.raises(NotAllowed, match="needs the role reviewer"):
        bulk_decide(
            store, project, ANA, BulkRequest(action="accept-candidates"), longest_comment=100
        )
    assert curation.status_counts(store, project)["accepted"] == 0


def test_bulk_accept_fills_only_open_rows_and_records_who(store: SqlStore, project: projects.Project) -> None:
    page, _ = curation.list_rows(store, project, curation.RowQuery(limit=3))
    codes = tuple(row.source_code for row, _ in page)
    first = codes[0]
    target = curation.row_candidates(store, project, first)[0]["target_code"]
    decide_row(
        store, project, RUI, first, RowDecision(action="map", targets=(Target(code=target),)),
        expected_version=1, longest_comment=100,
    )  # fmt: skip
    outcome = bulk_decide(
        store,
        project,
        RUI,
        BulkRequest(action="accept-candidates", codes=codes),
        longest_comment=100,
    )
    assert set(outcome.applied) == set(codes[1:])
    assert (first, f"{first} is yours (draft): another reviewer must accept it") in outcome.skipped
    accepted = curation.get_row(store, project, outcome.applied[0])
    assert (accepted.status, accepted.reviewer) == (Status.ACCEPTED, "rui")
    assert accepted.author is not None and accepted.author.startswith("matching:")
    counts, _ = progress(store, project)
    assert counts["accepted"] == len(outcome.applied)


def test_the_row_view_costs_the_same_whatever_the_number_of_candidates(
    store: SqlStore, samu: dict[str, CodeSystem]
) -> None:
    """The page's row view reads candidates' contexts together, not one by one."""
    from tests.conftest import counted

    costs = {}
    for top_k in (1, 5):
        saved = match_and_save(store, samu["1.9"], samu["2.3"], top_k=top_k, project=f"top{top_k}").project
        assert saved is not None
        project = projects.get_project(store, saved.id)
        row = curation.get_row(store, project, "C02.05.03")
        with counted(store) as statements:
            view = row_view(store, project, ANA, row)
        assert len(view.candidates) == top_k and all(c["target_context"]["display"] for c in view.candidates)
        costs[top_k] = len(statements)
    assert costs[1] == costs[5], costs
