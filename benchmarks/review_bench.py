"""The review page at real size, driven in headless Chromium as a curator would drive it.

Usage: ``python benchmarks/review_bench.py --base http://127.0.0.1:8000 --token TOKEN``
(after ``make demo``: the token is the one it prints, the project is "CIM-11 FR → CIM-10 FR",
36,044 rows, once its background build is done).

On the same server, in the same run, the previous review page (``baselines/review_page_v1.html``,
the page before issue 14: one request of at most 500 rows, no search) is measured as the
baseline, served to the browser by request interception so the server is unchanged.

Measured, each in the page with ``performance.now()`` up to the next animation frame:

* first paint: from navigation to the first row shown with its candidates (median of 5 loads);
* next row: from the ``j`` key to the next row shown with its candidates (p95 of 100 rows);
* search: from a keystroke in the queue's search box to the filtered queue shown (p95 of 30
  real words of CIM-11 labels; the page waits 120 ms for typing to pause, included);
* rows reachable: rows the queue reaches (every page of the queue read, distinct codes),
  of the project's rows; the virtual list is also scrolled to 200 evenly spaced positions and
  the last one, each of which must show its row.

Prints one last line: ``first paint N ms; next row p95 N ms; search p95 N ms; rows reachable N of M``.
Targets (issue 14): first paint ≤ 1,000 ms, next row p95 ≤ 150 ms, search p95 ≤ 300 ms, all rows.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
BASELINE_PAGE = Path(__file__).resolve().parent / "baselines" / "review_page_v1.html"
PROJECT = "CIM-11 FR → CIM-10 FR"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

FIRST_PAINT = """
new MutationObserver((_, observer) => {
  const row = document.querySelector('#candidates tbody tr');
  if (row && document.querySelector('#source-code')?.textContent) {
    observer.disconnect();
    requestAnimationFrame(() => { window.__firstPaint = performance.now(); });
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
"""Run in each page before its own scripts: the time of the first frame that shows a row
with its candidates, from the navigation's start (not when the test driver notices it)."""

NEXT_ROW = """async () => {
  const shown = () => document.querySelector('#source-code')?.textContent;
  const before = shown();
  const t0 = performance.now();
  document.dispatchEvent(new KeyboardEvent('keydown', {key: 'j', code: 'KeyJ', bubbles: true}));
  await new Promise((done) => {
    const check = () => (shown() !== before && document.querySelector('#candidates tbody tr')
      ? requestAnimationFrame(done) : requestAnimationFrame(check));
    check();
  });
  return performance.now() - t0;
}"""

SEARCH = """async (word) => {
  const box = document.getElementById('queue-search');
  const first = () => document.querySelector('#queue li[data-index="0"] .label')?.textContent || '';
  const fold = (text) => text.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase();
  const t0 = performance.now();
  box.value = word;
  box.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise((done) => {
    const check = () => requestAnimationFrame(fold(first()).includes(fold(word)) ? done : check);
    check();
  });
  return performance.now() - t0;
}"""


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def project_of(base: str, token: str, name: str) -> dict[str, Any]:
    answer = httpx.get(f"{base}/api/projects", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    for project in answer.json():
        if project["name"] == name:
            if project.get("building"):
                raise SystemExit(f"{name!r} is still being built (since {project['building']}); wait for it")
            return dict(project)
    raise SystemExit(f"no project {name!r} for this token (make demo builds it in the background)")


def reachable(base: str, token: str, project: dict[str, Any]) -> tuple[int, int]:
    """Distinct rows read through every page of the queue, and the project's rows."""
    rows = sum(n for status, n in project["counts"].items() if status != "flagged")
    seen: set[str] = set()
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for offset in range(0, rows + 500, 500):
            page = client.get(
                f"{base}/api/projects/{project['id']}/rows", params={"limit": 500, "offset": offset}
            )
            page.raise_for_status()
            seen.update(item["source_code"] for item in page.json()["items"])
    return len(seen), rows


def search_words(count: int) -> list[str]:
    """Real words of CIM-11 labels (7+ letters), seeded: what a curator types."""
    labels = pl.read_csv(ROOT / "data" / "cim11_fr" / "cim11_mms_concepts.csv", infer_schema=False)
    words = sorted(
        {
            w
            for label in labels.get_column("label_fr").drop_nulls().to_list()
            for w in re.findall(r"\w{7,}", label)
        }
    )
    return random.Random(14).sample(words, count)


def scroll_check(page: Any, total: int) -> int:
    """Scroll the virtual list to evenly spaced positions and the last: rows shown there."""
    shown = 0
    for index in [*range(0, total, max(1, total // 200)), total - 1]:
        page.evaluate(f"document.getElementById('queue').scrollTop = {index} * 28")
        selector = f'#queue li[data-index="{index}"][data-code]'
        page.wait_for_selector(selector, timeout=10_000)
        shown += 1
    return shown


def first_paints(context: Any, url: str, loads: int = 5) -> list[float]:
    """The first paint of ``loads`` fresh loads of the page, one after the other (each
    after the previous one's requests have settled)."""
    context.add_init_script(FIRST_PAINT)
    paints = []
    for _ in range(loads):
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#candidates tbody tr", timeout=30_000)
        while (paint := page.evaluate("window.__firstPaint")) is None:
            time.sleep(0.01)
        paints.append(float(paint))
        time.sleep(1.0)
        page.close()
    return paints


def measure(browser: Any, url: str, *, rows: int, words: list[str], new_page: bool) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    paints = first_paints(context, url)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#candidates tbody tr", timeout=30_000)
    steps = [page.evaluate(NEXT_ROW) for _ in range(rows)]
    found: dict[str, float] = {"first_paint": statistics.median(paints), "next_row_p95": p95(steps)}
    if new_page:
        found["search_p95"] = p95([page.evaluate(SEARCH, word) for word in words])
    context.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="The server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="A member's token (make demo prints the demo admin's)")
    parser.add_argument("--project", default=PROJECT)
    parser.add_argument("--rows", type=int, default=100, help="Rows stepped through with j")
    parser.add_argument("--searches", type=int, default=30)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    base = args.base.rstrip("/")
    project = project_of(base, args.token, args.project)
    reached, rows = reachable(base, args.token, project)
    words = search_words(args.searches)
    page_url = f"{base}/review?project={project['id']}#token={args.token}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=FLAGS, headless=True)
        now = measure(browser, page_url, rows=args.rows, words=words, new_page=True)
        check = browser.new_page(viewport={"width": 1500, "height": 950})
        check.goto(page_url)
        check.wait_for_selector("#candidates tbody tr", timeout=30_000)
        scrolled = scroll_check(check, rows)
        check.close()
        old_html = BASELINE_PAGE.read_text(encoding="utf-8")
        old_page = f"{base}/review-baseline"
        context = browser.new_context(viewport={"width": 1500, "height": 950})
        context.route(
            f"{old_page}*",
            lambda route: route.fulfill(body=old_html, content_type="text/html; charset=utf-8"),
        )
        baseline = measure_baseline(
            context, f"{old_page}?project={project['id']}#token={args.token}", args.rows
        )
        browser.close()
    print(
        f"project {project['name']!r}: {rows:,} rows; {scrolled} scroll positions checked, each shows its row"
    )
    print("| measure | this page | previous page (baseline) | ratio |")
    print("|---|---|---|---|")
    print(
        f"| first paint (median of 5) | {now['first_paint']:.0f} ms | {baseline['first_paint']:.0f} ms | "
        f"{now['first_paint'] / baseline['first_paint']:.2f} |"
    )
    print(
        f"| next row p95 | {now['next_row_p95']:.0f} ms | {baseline['next_row_p95']:.0f} ms | "
        f"{now['next_row_p95'] / baseline['next_row_p95']:.2f} |"
    )
    print(f"| search p95 | {now['search_p95']:.0f} ms | no search | — |")
    print(f"| rows reachable | {reached:,} of {rows:,} | {baseline['reachable']:,} of {rows:,} | — |")
    print(
        f"first paint {now['first_paint']:.0f} ms; next row p95 {now['next_row_p95']:.0f} ms; "
        f"search p95 {now['search_p95']:.0f} ms; rows reachable {reached} of {rows}"
    )


def measure_baseline(context: Any, url: str, rows: int) -> dict[str, float]:
    """The previous page on the same server: its first paint, next row, and the rows its
    queue holds (it asked for at most 500 and had no paging)."""
    paints = first_paints(context, url)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#candidates tbody tr", timeout=30_000)
    steps = [page.evaluate(NEXT_ROW) for _ in range(rows)]
    held = page.locator("#queue li").count()
    context.close()
    return {"first_paint": statistics.median(paints), "next_row_p95": p95(steps), "reachable": held}


if __name__ == "__main__":
    main()
