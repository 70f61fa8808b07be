"""On the bundled data, not a fixture: the CIM-11 FR → CIM-10 FR project as ``make demo``
builds it (every CIM-11 concept, the README's rule files), read from the template the
review-at-scale tests share (built once per run)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from terminology.cli.curation import CIM10, CIM11, SCALE_PROJECT
from terminology.storage.projects import project_candidates
from terminology.text import fold
from tests.api.scale_world import ScaleWorld, scale_copy, scale_template


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> ScaleWorld:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    kept = os.environ.get("CONCORDANCE_SCALE_TEMPLATE")
    template, facts = scale_template(Path(kept) if kept else shared / "review-scale")
    return scale_copy(template, facts, tmp_path_factory.mktemp("cim11"))


@pytest.fixture(scope="module")
def proposed(world: ScaleWorld) -> pl.DataFrame:
    rows = project_candidates(world.store(), SCALE_PROJECT)
    return pl.DataFrame(
        [(r["source_code"], r["target_code"], r["rank"]) for r in rows],
        schema={"source_code": pl.String, "target_code": pl.String, "rank": pl.Int64},
        orient="row",
    )


def test_yellow_fever_is_offered_yellow_fever_first(proposed: pl.DataFrame) -> None:
    for source, target in (("1D47", "A95"), ("1D22", "A97.2"), ("1E32", "J11")):
        first = proposed.filter(pl.col("source_code") == source).sort("rank").get_column("target_code")[0]
        assert first == target, source


def test_every_same_label_target_is_among_the_candidates(world: ScaleWorld, proposed: pl.DataFrame) -> None:
    store = world.store()

    def french_displays(url: str, side: str) -> pl.DataFrame:
        labels = store.labels_frame(store.code_system(url)).filter(pl.col("use") == "display")
        folded = labels.get_column("label").map_elements(
            lambda text: " ".join(fold(text).split()), return_dtype=pl.String
        )
        return labels.select(pl.col("code").alias(f"{side}_code")).with_columns(folded.alias("folded"))

    same = french_displays(CIM11, "source").join(french_displays(CIM10, "target"), on="folded")
    assert same.height > 2_000  # 2,053 pairs on the bundled data: CIM-11 kept many CIM-10 names
    missing = same.join(proposed, on=["source_code", "target_code"], how="anti")
    assert missing.height == 0, missing.head(10)
