"""The ranker: a gradient-boosted model (LightGBM) over the pool's features, calibrated so
that a candidate's score is the estimated probability that curators validate it.

Three pieces make a :class:`RankingModel`:

* the **base** booster, trained once on gold sets the project may use
  (``benchmarks/train_default_model.py``; the shipped one is ``default_model.json``);
* a **Platt calibration** of its raw score, fitted on sources the booster never saw;
* zero or more **project** boosters, fitted on a project's own decisions on top of the
  calibrated base score (LightGBM's ``init_score``), so a few dozen decisions adjust the
  ranking rather than replace it.

A second booster predicts the equivalence of a validated pair (``equivalent`` when the
target means the same, ``wider`` when the curator had to choose a broader concept).
Models are stored as JSON holding LightGBM's own text format: readable, diffable, and
reproducible from the training script (no pickle).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from terminology.matching.pool import FEATURES, feature_matrix

if TYPE_CHECKING:
    import lightgbm

DEFAULT_MODEL = Path(__file__).with_name("default_model.json")
BASE_PARAMETERS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
"""One thread and a fixed seed: the same data gives the same model, byte for byte."""
BASE_ROUNDS = 250
PROJECT_PARAMETERS: dict[str, Any] = {
    **BASE_PARAMETERS,
    "learning_rate": 0.1,
    "num_leaves": 7,
    "min_data_in_leaf": 3,
    "min_sum_hessian_in_leaf": 1e-3,
    "lambda_l2": 5.0,
    "bagging_fraction": 1.0,
    "bagging_freq": 0,
}
PROJECT_ROUNDS = 40
EQUIVALENCE_PARAMETERS: dict[str, Any] = {**BASE_PARAMETERS, "objective": "multiclass"}
EQUIVALENCE_ROUNDS = 80


def _lightgbm() -> Any:
    import lightgbm

    return lightgbm


def _booster(text: str) -> lightgbm.Booster:
    booster: lightgbm.Booster = _lightgbm().Booster(model_str=text)
    return booster


@dataclass(frozen=True)
class RankingModel:
    """A ranking model as stored: boosters in LightGBM text, calibration, provenance."""

    name: str
    base: str
    calibration: tuple[float, float]
    """Platt scaling ``(a, b)``: the calibrated logit is ``a * raw + b``."""
    equivalence: str | None = None
    equivalence_classes: tuple[str, ...] = ()
    project: tuple[str, ...] = ()
    """Boosters fitted on a project's decisions, added to the calibrated logit."""
    features: tuple[str, ...] = FEATURES
    provenance: dict[str, Any] = field(default_factory=dict)

    def logits(self, pool: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The calibrated log-odds that each pool row is the validated target, worked out
        :data:`ROWS_AT_ONCE` rows at a time (the feature matrix of a whole CIM-11 pool and
        LightGBM's copy of it were the peak of a full match)."""
        self._check_features()
        if pool.is_empty():
            return np.zeros(0)
        a, b = self.calibration
        parts = []
        for start in range(0, pool.height, ROWS_AT_ONCE):
            matrix = feature_matrix(pool.slice(start, ROWS_AT_ONCE))
            logit = a * np.asarray(_cached(self.base).predict(matrix, raw_score=True)) + b
            for text in self.project:
                logit = logit + np.asarray(_cached(text).predict(matrix, raw_score=True))
            parts.append(np.asarray(logit, dtype=np.float64))
        return np.concatenate(parts)

    def probabilities(self, pool: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The estimated probability that curators validate each pool row."""
        return np.asarray(1 / (1 + np.exp(-self.logits(pool))), dtype=np.float64)

    def equivalences(self, pool: pl.DataFrame) -> list[str]:
        """The most likely equivalence of each pool row, were it the validated target."""
        if not self.equivalence or not self.equivalence_classes or pool.is_empty():
            return ["relatedto"] * pool.height
        self._check_features()
        found: list[str] = []
        for start in range(0, pool.height, ROWS_AT_ONCE):
            chances = np.asarray(
                _cached(self.equivalence).predict(feature_matrix(pool.slice(start, ROWS_AT_ONCE)))
            )
            if chances.ndim == 1:  # two classes: LightGBM gives the second's probability
                chances = np.column_stack([1 - chances, chances])
            found.extend(self.equivalence_classes[i] for i in chances.argmax(axis=1))
        return found

    def describe(self) -> str:
        """How a candidate's reason names the model that ranked it."""
        if self.project:
            decisions = self.provenance.get("project_decisions", "?")
            return f"{self.name} model (default + {decisions} decisions of this project)"
        return f"{self.name} model"

    def _check_features(self) -> None:
        if tuple(self.features) != FEATURES:
            raise ValueError(
                f"model {self.name!r} was trained on other features than this version computes; "
                "retrain it (benchmarks/train_default_model.py)"
            )

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "features": list(self.features),
                "calibration": list(self.calibration),
                "equivalence_classes": list(self.equivalence_classes),
                "provenance": self.provenance,
                "base": self.base,
                "equivalence": self.equivalence,
                "project": list(self.project),
            },
            indent=1,
            sort_keys=False,
        )

    @classmethod
    def from_json(cls, text: str) -> RankingModel:
        data = json.loads(text)
        return cls(
            name=data["name"],
            base=data["base"],
            calibration=(float(data["calibration"][0]), float(data["calibration"][1])),
            equivalence=data.get("equivalence"),
            equivalence_classes=tuple(data.get("equivalence_classes", ())),
            project=tuple(data.get("project", ())),
            features=tuple(data["features"]),
            provenance=data.get("provenance", {}),
        )


ROWS_AT_ONCE = 200_000
"""Pool rows given to LightGBM at once (predictions are row by row: the parts change nothing)."""


@lru_cache(maxsize=16)
def _cached(text: str) -> lightgbm.Booster:
    return _booster(text)


@lru_cache(maxsize=2)
def load_model(path: Path = DEFAULT_MODEL) -> RankingModel:
    """A stored model; by default the one shipped in the package."""
    return RankingModel.from_json(path.read_text(encoding="utf-8"))


def default_model() -> RankingModel:
    """The shipped model, trained only on gold sets the project may use."""
    return load_model(DEFAULT_MODEL)


def platt(raw: np.ndarray[Any, Any], labels: np.ndarray[Any, Any]) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * raw + b)`` on held-out scores (scikit-learn's logistic
    regression on one feature, barely regularised).

    >>> a, b = platt(np.array([-2.0, -1.0, 1.0, 2.0, 0.5, -0.5]), np.array([0, 0, 1, 1, 1, 0]))
    >>> a > 0
    True
    """
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e4).fit(raw.reshape(-1, 1), labels)
    return _stable(fitted.coef_[0][0]), _stable(fitted.intercept_[0])


def _stable(value: float) -> float:
    """``value`` to 12 significant digits. The solver's last bits move with numpy and
    scikit-learn releases (1.1748229824561160 then …163); the shipped model must be rebuilt
    byte for byte on any of them, and 1e-12 changes no probability that matters."""
    return float(f"{float(value):.12g}")


def expected_calibration_error(
    probabilities: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], *, bins: int = 10
) -> float:
    """Mean gap between predicted and observed frequency, over equal-width bins, weighted
    by how many predictions fall in each.

    >>> expected_calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 0]))
    0.1
    """
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            total += chosen.sum() * abs(probabilities[chosen].mean() - labels[chosen].mean())
    return round(float(total / max(len(labels), 1)), 6)


def _dataset(
    pool: pl.DataFrame, labels: np.ndarray[Any, Any], init: np.ndarray[Any, Any] | None = None
) -> Any:
    return _lightgbm().Dataset(
        feature_matrix(pool), labels, init_score=init, feature_name=list(FEATURES), free_raw_data=True
    )


def fit_base_model(
    train: pl.DataFrame,
    calibrate: pl.DataFrame,
    *,
    name: str = "default",
    provenance: dict[str, Any] | None = None,
    rounds: int = BASE_ROUNDS,
) -> RankingModel:
    """Train the base booster on ``train`` (a pool with a 0/1 ``validated`` column and, for
    validated rows, an ``equivalence``), then calibrate it on ``calibrate``: other sources."""
    lgb = _lightgbm()
    booster = lgb.train(BASE_PARAMETERS, _dataset(train, train.get_column("validated").to_numpy()), rounds)
    raw = booster.predict(feature_matrix(calibrate), raw_score=True)
    a, b = platt(np.asarray(raw), calibrate.get_column("validated").to_numpy())
    positives = train.filter(pl.col("validated") == 1)
    classes = tuple(sorted(set(positives.get_column("equivalence").to_list())))
    equivalence = None
    if len(classes) > 1:
        codes = positives.get_column("equivalence").replace_strict({c: i for i, c in enumerate(classes)})
        parameters = {**EQUIVALENCE_PARAMETERS, "num_class": len(classes)}
        equivalence = lgb.train(parameters, _dataset(positives, codes.to_numpy()), EQUIVALENCE_ROUNDS)
    return RankingModel(
        name=name,
        base=booster.model_to_string(),
        calibration=(a, b),
        equivalence=equivalence.model_to_string() if equivalence is not None else None,
        equivalence_classes=classes if equivalence is not None else (),
        provenance=provenance or {},
    )


def fit_project_model(
    base: RankingModel, decided: pl.DataFrame, *, name: str, decisions: int, rounds: int = PROJECT_ROUNDS
) -> RankingModel:
    """``base`` adjusted to a project's own decisions: ``decided`` is the pool of the decided
    sources with a 0/1 ``validated`` column. Without a positive and a negative example there
    is nothing to learn from, and ``base`` itself is returned."""
    labels = decided.get_column("validated").to_numpy() if decided.height else np.zeros(0)
    if labels.sum() == 0 or labels.sum() == len(labels):
        return base  # nothing to learn from: reasons keep naming the model that really ranks
    start = base.logits(decided)
    booster = _lightgbm().train(PROJECT_PARAMETERS, _dataset(decided, labels, start), rounds)
    return replace(
        base,
        name=name,
        project=(booster.model_to_string(),),
        provenance={**base.provenance, "project_decisions": decisions},
    )


def ranked(pool: pl.DataFrame, model: RankingModel) -> pl.DataFrame:
    """The pool with ``score`` (calibrated probability), ``equivalence`` and ``rank``
    per source (best first; ties by target code, so the order never depends on chance)."""
    if pool.is_empty():
        return pool.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("closeness"),
            pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit(None, dtype=pl.String).alias("equivalence"),
            pl.lit(None, dtype=pl.Int64).alias("rank"),
        )
    return (
        pool.with_columns(
            pl.Series("score", model.probabilities(pool), dtype=pl.Float64),
            pl.Series("equivalence", model.equivalences(pool), dtype=pl.String),
            closeness(),
        )
        .sort(RANKING_ORDER, descending=RANKING_DESCENDING)
        .with_columns(pl.int_range(1, pl.len() + 1).over("source_code").alias("rank"))
    )


def ranks(frame: pl.DataFrame) -> pl.Series:
    """Each row's rank within its source by :data:`RANKING_ORDER`, in the frame's own row
    order: only the four ordering columns are sorted, never the wide frame (a full match's
    pool is 1.8 million rows of sixty columns).

    >>> frame = pl.DataFrame({"source_code": ["a", "a", "b"], "score": [0.2, 0.9, 0.5],
    ...     "closeness": [0.0, 0.0, 0.0], "target_code": ["x", "y", "z"]})
    >>> ranks(frame).to_list()
    [2, 1, 1]
    """
    narrow = frame.select(RANKING_ORDER).with_row_index("at")
    ordered = narrow.sort(RANKING_ORDER, descending=RANKING_DESCENDING).with_columns(
        pl.int_range(1, pl.len() + 1).over("source_code").alias("rank")
    )
    found = np.empty(frame.height, dtype=np.int64)
    found[ordered.get_column("at").to_numpy()] = ordered.get_column("rank").to_numpy()
    return pl.Series("rank", found, dtype=pl.Int64)


RANKING_ORDER = ["source_code", "score", "closeness", "target_code"]
RANKING_DESCENDING = [False, True, True, False]
"""Best score first; where the model cannot tell two candidates apart (the trees give
them the same probability), the lexically closer one, then the code."""


def closeness() -> pl.Expr:
    """How alike the labels are, whoever proposed the pair: the tie-breaker of equal scores."""
    return (
        pl.col("sim_max").cast(pl.Float64).fill_nan(None).fill_null(0.0)
        + pl.col("lex_best").cast(pl.Float64).fill_null(0.0)
    ).alias("closeness")


def top_targets(ranked_pool: pl.DataFrame, k: int) -> dict[str, list[str]]:
    """The ``k`` best target codes of each source, best first."""
    found: dict[str, list[str]] = {}
    for source, target in (
        ranked_pool.filter(pl.col("rank") <= k)
        .sort("source_code", "rank")
        .select("source_code", "target_code")
        .iter_rows()
    ):
        found.setdefault(source, []).append(target)
    return found


def label_pool(pool: pl.DataFrame, gold: Mapping[str, tuple[set[str], str]]) -> pl.DataFrame:
    """The pool with ``validated`` (1 where the target is a gold target of its source) and
    the gold ``equivalence``; only sources of ``gold`` are kept."""
    rows: list[tuple[str, str, str]] = [
        (source, target, kind) for source, (targets, kind) in gold.items() for target in targets
    ]
    frame = pl.DataFrame(
        rows,
        schema={"source_code": pl.String, "target_code": pl.String, "gold_kind": pl.String},
        orient="row",
    )
    kinds = frame.select("source_code", "gold_kind").unique("source_code")
    return (
        pool.join(kinds, on="source_code")
        .join(
            frame.select("source_code", "target_code", pl.lit(1, dtype=pl.Int8).alias("validated")),
            on=["source_code", "target_code"],
            how="left",
        )
        .with_columns(pl.col("validated").fill_null(0), pl.col("gold_kind").alias("equivalence"))
        .drop("gold_kind")
    )


def threshold_for_precision(scores: Sequence[float], precision: float) -> float | None:
    """The lowest calibrated score from which accepting every candidate at or above it is
    expected to reach ``precision`` (the mean probability of the accepted candidates), or
    None when even the best one falls short. Needs no gold: that is what calibration buys.

    >>> threshold_for_precision([0.99, 0.97, 0.9, 0.6, 0.2], 0.95)
    0.9
    >>> threshold_for_precision([0.5], 0.95) is None
    True
    """
    ordered = sorted(scores, reverse=True)
    total, threshold = 0.0, None
    for count, score in enumerate(ordered, start=1):
        total += score
        if total / count < precision:
            break
        threshold = score
    return threshold
