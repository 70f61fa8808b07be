"""The review page on a real-size project: all 36,044 CIM-11 MMS concepts matched to
CIM-10 FR, in headless Debian Chromium against a real server. Each test works on its own
copy of the project and checks what the page did in the database, not only on screen.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from api.app import create_app
from terminology.records import RowQuery
from terminology.review.workflow import Status
from terminology.settings import Settings
from terminology.storage import curation, projects
from tests.api.scale_world import ScaleWorld, scale_copy, scale_template
from tests.api.test_review_page import chromium_or_fail, wait_until
from tests.live_server import serving

ROWS = 36_044


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    chromium_or_fail()
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    kept = os.environ.get("CONCORDANCE_SCALE_TEMPLATE")  # a folder kept between local runs
    return scale_template(Path(kept) if kept else shared / "review-scale")


@pytest.fixture
def big(template: tuple[Path, dict[str, object]], tmp_path: Path) -> Iterator[tuple[ScaleWorld, str]]:
    world = scale_copy(*template, tmp_path)
    with serving(create_app(Settings(database_url=world.url))) as url:
        yield world, url


def open_page(browser, big: tuple[ScaleWorld, str], user: str, fragment: str = ""):  # type: ignore[no-untyped-def]
    world, url = big
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{url}/review?project={world.project_id}#token={world.tokens[user]}{fragment}")
    page.wait_for_selector("#candidates tbody tr")
    page.errors = errors
    return page


def shown_code(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator("#source-code").inner_text())


def total(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#queue-foot [data-total]").get_attribute("data-total") or "-1")


def row(world: ScaleWorld, code: str):  # type: ignore[no-untyped-def]
    store = world.store()
    return curation.get_row(store, projects.get_project(store, world.project_id), code)


def test_every_row_is_reachable_by_scrolling_and_by_link(big, browser) -> None:  # type: ignore[no-untyped-def]
    world, _ = big
    page = open_page(browser, big, "author")
    assert total(page) == ROWS
    store = world.store()
    project = projects.get_project(store, world.project_id)
    (last, _), *_ = curation.list_rows(store, project, RowQuery(sort="-source_code", limit=1))[0]
    page.evaluate("document.getElementById('queue').scrollTop = 1e9")
    page.wait_for_selector(f'#queue li[data-index="{ROWS - 1}"][data-code]')
    assert page.locator(f'#queue li[data-index="{ROWS - 1}"]').get_attribute("data-code") == last.source_code
    page.locator(f'#queue li[data-index="{ROWS - 1}"]').click()
    wait_until(page, f"document.querySelector('#source-code').textContent === {last.source_code!r}")
    page.keyboard.press("k")  # and the keyboard moves on from there
    wait_until(page, f"document.querySelector('#source-code').textContent !== {last.source_code!r}")
    assert "#row=" in page.url

    middle = curation.list_rows(store, project, RowQuery(limit=1, offset=20_000))[0][0][0].source_code
    linked = open_page(browser, big, "author", f"&row={middle}")
    wait_until(linked, f"document.querySelector('#source-code').textContent === {middle!r}")
    assert linked.locator("#queue li.current").get_attribute("data-index") == "20000"
    assert page.errors == [] and linked.errors == []


def test_search_filters_and_counts(big, browser) -> None:  # type: ignore[no-untyped-def]
    world, _ = big
    page = open_page(browser, big, "author")
    page.fill("#queue-search", "cholera")  # no accent: "Choléra" is found
    wait_until(page, "Number(document.querySelector('#queue-foot [data-total]').dataset.total) < 100")
    labels = page.locator("#queue li[data-code] .label").all_inner_texts()
    assert labels and all("chol" in label.lower() for label in labels)
    assert any("Choléra" in label for label in labels)
    page.fill("#queue-search", "")
    wait_until(page, f"Number(document.querySelector('#queue-foot [data-total]').dataset.total) === {ROWS}")

    chapter = page.locator("#chapter option").nth(2).get_attribute("value")
    assert chapter
    page.select_option("#chapter", chapter)
    store = world.store()
    project = projects.get_project(store, world.project_id)
    expected = curation.list_rows(store, project, RowQuery(within=chapter, limit=1))[1]
    wait_until(
        page, f"Number(document.querySelector('#queue-foot [data-total]').dataset.total) === {expected}"
    )
    assert 0 < expected < ROWS
    page.select_option("#band", "high")
    high = curation.list_rows(store, project, RowQuery(within=chapter, min_score=0.9, limit=1))[1]
    wait_until(page, f"Number(document.querySelector('#queue-foot [data-total]').dataset.total) === {high}")
    page.select_option("#method", "lexical")
    lexical = curation.list_rows(store, project, RowQuery(within=chapter, min_score=0.9, method="lexical"))[1]
    wait_until(
        page, f"Number(document.querySelector('#queue-foot [data-total]').dataset.total) === {lexical}"
    )
    page.select_option("#sort", "-score")
    wait_until(page, "document.querySelector('#queue li[data-index=\"0\"] .score') !== null")
    scores = [float(s) for s in page.locator("#queue li[data-code] .score").all_inner_texts()[:10]]
    assert scores == sorted(scores, reverse=True)
    assert page.errors == []


def test_browse_both_hierarchies_and_map_to_several_targets(big, browser) -> None:  # type: ignore[no-untyped-def]
    world, _ = big
    page = open_page(browser, big, "author")
    code = shown_code(page)
    page.wait_for_selector("[data-tree=source] .focus")
    assert page.locator("[data-tree=source] .path li").count() >= 2  # the path up to the chapter
    page.wait_for_selector("[data-tree=target] .focus")
    focus = page.locator("[data-tree=target] .focus").get_attribute("data-node")
    parent = page.locator("[data-tree=target] .path li").nth(-2).get_attribute("data-node")
    page.keyboard.press("h")  # up to the target's parent
    wait_until(page, f"document.querySelector('[data-tree=target] .focus')?.dataset.node === {parent!r}")
    assert page.locator(f'[data-tree=target] [data-node="{focus}"]').count() >= 1  # now among its children
    page.keyboard.press("l")  # down to the first child
    wait_until(page, f"document.querySelector('[data-tree=target] .focus')?.dataset.node !== {parent!r}")
    first_child = page.locator("[data-tree=target] .focus").get_attribute("data-node")
    candidates = page.locator("#candidates tbody tr").evaluate_all("rows => rows.map(r => r.dataset.target)")
    page.keyboard.press("J")  # to its next sibling
    wait_until(page, f"document.querySelector('[data-tree=target] .focus')?.dataset.node !== {first_child!r}")
    browsed = page.locator("[data-tree=target] .focus").get_attribute("data-node")
    assert browsed not in candidates[:2]

    page.keyboard.press("1")  # the first candidate
    page.wait_for_selector("#row-status[data-status=draft]")
    page.keyboard.press("Shift+Digit2")  # plus the second
    wait_until(page, "document.querySelectorAll('#chosen [data-chosen]').length === 2")
    page.keyboard.press("+")  # plus the concept browsed to
    wait_until(page, "document.querySelectorAll('#chosen [data-chosen]').length === 3")
    page.locator("#chosen .equivalence").nth(1).select_option("narrower")
    wait_until(page, "document.querySelectorAll('#chosen [data-equivalence=narrower]').length === 1")
    saved = row(world, code)
    assert len(saved.targets) == 3 and saved.targets[1].equivalence == "narrower"
    assert saved.targets[2].code == browsed
    page.locator("#chosen [data-remove]").nth(2).click()
    wait_until(page, "document.querySelectorAll('#chosen [data-chosen]').length === 2")
    assert [t.code for t in row(world, code).targets] == [t.code for t in saved.targets[:2]]
    assert page.errors == []


def test_comment_reopen_undo_and_assign(big, browser) -> None:  # type: ignore[no-untyped-def]
    world, _ = big
    author = open_page(browser, big, "author")
    code = shown_code(author)
    author.keyboard.press("m")
    author.fill("#comment-text", "vérifier avec le DIM")
    author.click("#comment-send")
    author.wait_for_selector("#row-comment")
    assert row(world, code).comment == "vérifier avec le DIM"
    author.keyboard.press("1")
    author.wait_for_selector("#row-status[data-status=draft]")
    author.keyboard.press("u")  # undo the map: the row is as it was, comment kept
    author.wait_for_selector("#row-status[data-status=unmapped]")
    undone = row(world, code)
    assert undone.targets == () and undone.comment == "vérifier avec le DIM"
    author.keyboard.press("1")
    author.wait_for_selector("#row-status[data-status=draft]")
    author.keyboard.press("s")
    author.wait_for_selector("#row-status[data-status=in_review]")

    reviewer = open_page(browser, big, "reviewer", f"&row={code}")
    reviewer.wait_for_selector("#row-status[data-status=in_review]")
    reviewer.keyboard.press("a")
    reviewer.wait_for_selector("#row-status[data-status=accepted]")
    reviewer.keyboard.press("o")  # reopen
    reviewer.wait_for_selector("#row-status[data-status=draft]")
    assert row(world, code).status == Status.DRAFT

    admin = open_page(browser, big, "admin", f"&row={code}")
    admin.keyboard.press("g")
    admin.select_option("#assign-who", "author2")
    admin.select_option("#assign-scope", "chapter")
    admin.click("#assign-send")
    admin.wait_for_selector("#message.info")
    store = world.store()
    project = projects.get_project(store, world.project_id)
    assigned = curation.list_rows(store, project, RowQuery(assignee="author2", limit=1))[1]
    chapter = admin.locator("[data-tree=source] .path li").first.get_attribute("data-node")
    assert assigned == curation.list_rows(store, project, RowQuery(within=chapter, limit=1))[1] > 100
    admin.select_option("#assignee", "author2")
    wait_until(
        admin, f"Number(document.querySelector('#queue-foot [data-total]').dataset.total) === {assigned}"
    )
    admin.click("#open-progress")
    admin.wait_for_selector('#progress-curators [data-curator="author2"]')
    assert str(assigned) in admin.locator('#progress-curators [data-curator="author2"]').inner_text()
    assert author.errors == [] and reviewer.errors == [] and admin.errors == []


def test_reconcile_a_blind_double_review_conflict(big, browser) -> None:  # type: ignore[no-untyped-def]
    world, url = big
    as_ = {name: {"Authorization": f"Bearer {token}"} for name, token in world.tokens.items()}
    base = f"{url}/api/projects/{world.project_id}"
    assert httpx.patch(base, json={"review": "double"}, headers=as_["admin"]).status_code == 200
    code = "1A00"
    detail = httpx.get(f"{base}/rows/{code}", headers=as_["author"]).json()
    first, second = detail["candidates"][0]["target_code"], detail["candidates"][1]["target_code"]
    for author, target in (("author", first), ("author2", second)):
        etag = httpx.get(f"{base}/rows/{code}", headers=as_[author]).headers["ETag"]
        answer = httpx.post(
            f"{base}/rows/{code}/decisions",
            json={"action": "map", "targets": [{"code": target, "equivalence": "equivalent"}]},
            headers=as_[author] | {"If-Match": etag},
        )
        assert answer.status_code == 200, answer.text
    assert row(world, code).status == Status.CONFLICT

    page = open_page(browser, big, "reconciler", f"&row={code}")
    page.wait_for_selector('#answers [data-answer="author"]')
    cards = page.locator("#answers .answer")
    assert cards.count() == 2  # both answers side by side
    assert first in page.locator('#answers [data-answer="author"]').inner_text()
    assert second in page.locator('#answers [data-answer="author2"]').inner_text()
    page.click('#answers [data-keep="author2"]')
    page.wait_for_selector("#row-status[data-status=accepted]")
    settled = row(world, code)
    assert [t.code for t in settled.targets] == [second] and settled.reviewer == "reconciler"
    assert page.errors == []


def test_bulk_preview_confirm_and_undo(big, browser) -> None:  # type: ignore[no-untyped-def]
    world, _ = big
    store = world.store()
    project = projects.get_project(store, world.project_id)
    page = open_page(browser, big, "reviewer")
    page.click("#bulk")
    page.fill("#bulk-threshold", "0.99")
    page.select_option("#bulk-method", "lexical")
    page.click("#bulk-preview")
    page.wait_for_selector("#bulk-outcome [data-would]")
    would = int(page.locator("#bulk-outcome [data-would]").get_attribute("data-would") or "0")
    expected = curation.list_rows(store, project, RowQuery(min_score=0.99, method="lexical", limit=1))[1]
    assert would == expected > 1000  # the preview counts every qualifying row
    assert page.locator("#bulk-outcome tr").count() == 50  # and shows the first ones
    assert curation.status_counts(store, project)["accepted"] == 0  # nothing written yet
    page.click("#bulk-confirm")
    page.wait_for_selector("#bulk-done [data-applied]")
    assert curation.status_counts(store, project)["accepted"] == would
    page.click("#bulk-undo")  # the whole batch, as one event
    page.wait_for_selector("#message.info")
    assert curation.status_counts(store, project)["accepted"] == 0
    assert curation.status_counts(store, project)["unmapped"] == ROWS
    assert page.errors == []


def test_french_and_english_throughout(big, browser) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, big, "author")
    assert page.locator("#row-status").inner_text() == "à traiter"
    assert "ajouter" in page.locator("#candidates").inner_text()
    assert "Concordance — alignement" in page.locator("#footer").inner_text()
    french = page.locator("#chosen, #detail").first.inner_text()
    page.click("#lang")
    wait_until(page, "document.documentElement.lang === 'en'")
    assert page.locator("#row-status").inner_text() == "unmapped"
    assert "Concordance — terminology mapping" in page.locator("#footer").inner_text()
    assert page.locator("#filter option").nth(1).inner_text() == "unmapped"
    english = page.locator("#detail").inner_text()
    assert english != french and "Candidates" in english and "Candidats" not in english
    page.keyboard.press("/")
    page.wait_for_selector("#search-dialog")
    options = page.locator("#search-equivalence option").all_inner_texts()
    assert len(options) == 10 and "related to" in options  # the ten R4 codes, translated
    assert page.errors == []
