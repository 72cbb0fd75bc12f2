"""The GraphQL types of Narwhal: models (config, metrics, importance), predictions, backtests
and an exported artifact."""

from __future__ import annotations

import base64
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_server.auth import viewer
from graphql_server.models.access import OwnedModel, model_access
from graphql_server.models.catalog import Artifact, ask
from graphql_server.models.store import StoredPrediction
from graphql_server.scalars import BigInt
from ml.backtest import BacktestSpec, EquityCurve, Metrics, Performance
from ml.results import BacktestRecord
from streamlines.contracts.events import Prediction
from streamlines.contracts.time import ns_to_datetime


@strawberry.enum(description="How a backtest trades the predictions.")
class BacktestStrategy(Enum):
    LONG_FLAT = "long_flat"  # long when the prediction is above the threshold, else flat
    LONG_SHORT = "long_short"  # long when above, else short


@strawberry.type(description="A feature's importance: its mean gain over the model's splits.")
class FeatureGain:
    feature: str
    gain: float


@strawberry.type(description="One walk-forward fold of a model's validation.")
class FoldMetrics:
    fold: int
    train_rows: int
    validation_rows: int
    validation_first: datetime = strawberry.field(description="First bar validated on.")
    validation_last: datetime
    best_iteration: int = strawberry.field(description="0-based best round (early stopping).")
    rounds_run: int
    metrics: JSON = strawberry.field(
        description="Validation metrics, e.g. {auc, logloss, accuracy} (null: undefined)."
    )

    @classmethod
    def from_json(cls, fold: dict[str, Any]) -> FoldMetrics:
        return cls(
            fold=int(fold["fold"]),
            train_rows=int(fold["train_rows"]),
            validation_rows=int(fold["validation_rows"]),
            validation_first=datetime.fromisoformat(fold["validation_first"]),
            validation_last=datetime.fromisoformat(fold["validation_last"]),
            best_iteration=int(fold["best_iteration"]),
            rounds_run=int(fold["rounds_run"]),
            metrics=JSON(fold.get("metrics") or {}),
        )


@strawberry.type(description="A model's validation metrics: per fold and their mean.")
class ModelMetrics:
    mean: JSON = strawberry.field(description="The mean over the folds of each metric.")
    folds: list[FoldMetrics]


@strawberry.type(description="The rows a model was trained on.")
class DataRange:
    first: datetime = strawberry.field(description="The first bar's start.")
    last: datetime = strawberry.field(description="The last bar's start.")
    rows: int
    symbols: list[str]


@strawberry.type(description="How a backtest traded (ml.backtest.BacktestSpec).")
class BacktestSettings:
    strategy: BacktestStrategy
    cost_bps: float = strawberry.field(description="Cost per unit of position traded, in bps.")
    threshold: float = strawberry.field(description="Positions open above it.")
    periods_per_year: int
    risk_free: float = strawberry.field(description="Annual risk-free rate of Sharpe/Sortino.")
    kind: str = strawberry.field(description="What the predictions are: classification or "
                                 "regression.")  # fmt: skip

    @classmethod
    def from_spec(cls, spec: BacktestSpec) -> BacktestSettings:
        return cls(
            strategy=BacktestStrategy(spec.strategy),
            cost_bps=spec.cost_bps,
            threshold=spec.cut,
            periods_per_year=spec.periods_per_year,
            risk_free=spec.risk_free,
            kind=spec.kind,
        )


@strawberry.type(description="Metrics of one book (see ml/backtest.py for each definition).")
class BacktestMetrics:
    total_return: float
    annualized_return: float
    annualized_volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float = strawberry.field(description="A positive fraction (0: never fell).")
    hit_rate: float | None
    turnover: float = strawberry.field(description="Mean |position change| per period.")
    exposure: float
    bars: int = strawberry.field(description="Periods (bars with a return after them).")

    @classmethod
    def from_metrics(cls, metrics: Metrics) -> BacktestMetrics:
        return cls(**metrics.to_json())


@strawberry.type(description="Equity at each period's end (1.0 at the first bar).")
class EquityPoints:
    time: list[datetime]
    t_ns: list[BigInt]
    value: list[float]

    @classmethod
    def from_curve(cls, curve: EquityCurve) -> EquityPoints:
        return cls(
            time=[ns_to_datetime(t) for t in curve.time_ns],
            t_ns=[BigInt(t) for t in curve.time_ns],
            value=list(curve.value),
        )


@strawberry.type(description="A book (the portfolio, or one symbol): strategy vs buy-and-hold.")
class BacktestPerformance:
    symbol: str | None = strawberry.field(description="Null for the portfolio.")
    strategy: BacktestMetrics
    buy_and_hold: BacktestMetrics
    strategy_equity: EquityPoints
    buy_and_hold_equity: EquityPoints

    @classmethod
    def from_performance(cls, symbol: str | None, result: Performance) -> BacktestPerformance:
        return cls(
            symbol=symbol,
            strategy=BacktestMetrics.from_metrics(result.strategy),
            buy_and_hold=BacktestMetrics.from_metrics(result.buy_and_hold),
            strategy_equity=EquityPoints.from_curve(result.strategy_equity),
            buy_and_hold_equity=EquityPoints.from_curve(result.buy_and_hold_equity),
        )


@strawberry.type(description="A backtest of a model, in brief.")
class BacktestSummary:
    id: str
    model_id: str
    start: datetime
    end: datetime
    created_at: datetime
    spec: BacktestSettings
    strategy: BacktestMetrics = strawberry.field(description="The portfolio's strategy.")
    buy_and_hold: BacktestMetrics = strawberry.field(description="The portfolio's benchmark.")

    @classmethod
    def from_record(cls, record: BacktestRecord) -> BacktestSummary:
        return cls(
            id=record.backtest_id,
            model_id=record.model_id,
            start=record.start,
            end=record.end,
            created_at=record.created_at,
            spec=BacktestSettings.from_spec(record.result.spec),
            strategy=BacktestMetrics.from_metrics(record.result.portfolio.strategy),
            buy_and_hold=BacktestMetrics.from_metrics(record.result.portfolio.buy_and_hold),
        )


@strawberry.type(description="A stored backtest: the portfolio and each symbol.")
class BacktestResult:
    id: str
    model_id: str
    start: datetime
    end: datetime
    created_at: datetime
    spec: BacktestSettings
    portfolio: BacktestPerformance = strawberry.field(
        description="The equal-weight portfolio of the symbols (the symbol itself if one)."
    )
    symbols: list[BacktestPerformance]

    @classmethod
    def from_record(cls, record: BacktestRecord) -> BacktestResult:
        result = record.result
        return cls(
            id=record.backtest_id,
            model_id=record.model_id,
            start=record.start,
            end=record.end,
            created_at=record.created_at,
            spec=BacktestSettings.from_spec(result.spec),
            portfolio=BacktestPerformance.from_performance(None, result.portfolio),
            symbols=[
                BacktestPerformance.from_performance(name, perf)
                for name, perf in sorted(result.symbols.items())
            ],
        )


@strawberry.type(description="A trained model in the model store.")
class Model:
    id: str
    name: str
    owner: str | None = strawberry.field(
        description="The user who trained it through the server; null for a shared model "
        "(trained outside the server: every key may use it)."
    )
    created_at: datetime
    config: JSON = strawberry.field(description="The training config (JSON), as validated.")
    metrics: ModelMetrics
    feature_names: list[str] = strawberry.field(description="In model order.")
    importance: list[FeatureGain] = strawberry.field(description="In model order.")
    data_range: DataRange
    xgboost_version: str
    objective: str

    @strawberry.field(description="The backtests of this model your key may read (yours, and "
                      "those run outside the server), oldest first.")  # fmt: skip
    async def backtests(self, info: Info) -> list[BacktestSummary]:
        records = await ask(model_access(info, viewer(info)).backtests, self.id)
        return [BacktestSummary.from_record(r) for r in records]

    @classmethod
    def from_owned(cls, owned: OwnedModel) -> Model:
        record = owned.record
        meta = record.metadata
        metrics = meta.get("metrics") or {}
        data = meta.get("data_range") or {}
        return cls(
            id=record.model_id,
            name=record.name,
            owner=owned.owner.name if owned.owner else None,
            created_at=record.created_at,
            config=JSON(meta.get("config") or {}),
            metrics=ModelMetrics(
                mean=JSON(metrics.get("mean") or {}),
                folds=[FoldMetrics.from_json(f) for f in metrics.get("folds") or []],
            ),
            feature_names=list(meta["feature_names"]),
            importance=[
                FeatureGain(feature=name, gain=float(gain))
                for name, gain in (meta.get("importance") or {}).items()
            ],
            data_range=DataRange(
                first=datetime.fromisoformat(data["first"]),
                last=datetime.fromisoformat(data["last"]),
                rows=int(data["rows"]),
                symbols=list(data.get("symbols") or []),
            ),
            xgboost_version=str(meta.get("xgboost_version", "")),
            objective=str(meta.get("objective", "")),
        )


@strawberry.type(description="A model's score for a symbol's bar.")
class PredictionPoint:
    symbol: str
    model_id: str
    t_ns: BigInt = strawberry.field(description="The bar's start in UTC nanoseconds (the key).")
    time: datetime = strawberry.field(description="t_ns as a UTC time (to the microsecond).")
    timeframe: str = strawberry.field(description="The bars' length, e.g. 1Day or 1Min.")
    horizon: int = strawberry.field(description="Bars ahead the prediction looks.")
    value: float = strawberry.field(
        description="Probability of a positive forward return (classification), or the "
        "predicted forward log return (regression)."
    )

    @classmethod
    def build(cls, symbol: str, model_id: str, t_ns: int, timeframe: str, horizon: int,
              value: float) -> PredictionPoint:  # fmt: skip
        return cls(
            symbol=symbol,
            model_id=model_id,
            t_ns=BigInt(t_ns),
            time=ns_to_datetime(t_ns),
            timeframe=timeframe,
            horizon=horizon,
            value=value,
        )

    @classmethod
    def from_stored(cls, p: StoredPrediction) -> PredictionPoint:
        return cls.build(p.symbol, p.model_id, p.t_ns, p.timeframe, p.horizon, p.value)

    @classmethod
    def from_event(cls, p: Prediction) -> PredictionPoint:
        return cls.build(p.symbol, p.model_id, p.t_ns, p.timeframe, p.horizon, p.value)


@strawberry.type(description="A model's artifact (model.tar.gz: xgboost-model at the root, "
                 "narwhal/metadata.json beside it).")  # fmt: skip
class ModelExport:
    model_id: str
    file_name: str
    size_bytes: int
    sha256: str = strawberry.field(description="Of the decoded bytes (the whole archive).")
    content_base64: str = strawberry.field(description="The archive, base64 (RFC 4648).")

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> ModelExport:
        return cls(
            model_id=artifact.model_id,
            file_name=artifact.file_name,
            size_bytes=len(artifact.data),
            sha256=artifact.sha256,
            content_base64=base64.b64encode(artifact.data).decode("ascii"),
        )
