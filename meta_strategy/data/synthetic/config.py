"""
The parameters of the SYNTHETIC market (:class:`SyntheticMarketConfig`, its regimes
:class:`RegimeParams`) and the generated market (:class:`SyntheticMarket`). The model itself is
described in :mod:`meta_strategy.data.synthetic.simulate`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import pandas as pd

from meta_strategy.data.timeframes import resample_ohlcv, timeframe_to_seconds


logger = logging.getLogger(__name__)

SECONDS_PER_YEAR = 365 * 86400


@dataclass(frozen=True)
class RegimeParams:
    """
    One market regime of the Markov-switching model.

    :ivar name: label, e.g. ``bull``
    :ivar drift_per_year: annualised drift of the log price (e.g. 0.9 = +90% log per year)
    :ivar vol_multiplier: factor on the GARCH volatility in this regime
    :ivar mean_duration_days: mean holding time; the per-step leave probability is
        ``1 / (mean_duration_days * steps_per_day)`` (geometric holding times)
    :ivar funding_tilt: added to the hourly funding rate's mean in this regime
    :ivar volume_multiplier: factor on traded volume in this regime
    :ivar mean_reversion_per_day: OU pull of the log price back to its level at the start of
        the regime, per day (``dx = -kappa * (x - x0) dt``); 0 for trending regimes
    """

    name: str
    drift_per_year: float
    vol_multiplier: float
    mean_duration_days: float
    funding_tilt: float = 0.0
    volume_multiplier: float = 1.0
    mean_reversion_per_day: float = 0.0


DEFAULT_REGIMES: tuple[RegimeParams, ...] = (
    RegimeParams("bull", 0.9, 0.95, 60.0, funding_tilt=1.5e-5, volume_multiplier=1.1),
    RegimeParams("bear", -0.8, 1.25, 45.0, funding_tilt=-1.2e-5, volume_multiplier=1.25),
    RegimeParams("sideways", 0.0, 0.7, 35.0, volume_multiplier=0.8, mean_reversion_per_day=0.1),
)


#: Jump matrix of the regime chain: row = from, column = to (diagonal 0, rows sum to 1).
DEFAULT_REGIME_SWITCH: tuple[tuple[float, ...], ...] = (
    (0.0, 0.35, 0.65),
    (0.35, 0.0, 0.65),
    (0.5, 0.5, 0.0),
)


@dataclass(frozen=True)
class SyntheticMarketConfig:
    """
    Parameters of the synthetic market. All rates are per base step unless named otherwise.

    :ivar seed: seed of the PCG64 generator; same seed, same market, bit for bit
    :ivar start: first candle (UTC), aligned to the hour
    :ivar end: end of the data (exclusive, UTC), aligned to the hour
    :ivar base_timeframe: finest candles generated; must divide one hour
    :ivar start_price: price at ``start``
    :ivar price_tick: trade prices are rounded to this tick (0 = no rounding)
    :ivar regimes: regime parameters (Hamilton-style Markov switching)
    :ivar regime_switch: jump matrix between regimes (row = from, col = to)
    :ivar initial_regime: regime at ``start``; None = drawn from the chain's stationary law
    :ivar garch_omega: GARCH(1,1) constant, variance per base step. The default with
        ``alpha``/``beta`` gives an unconditional volatility of about 55% per year
    :ivar garch_alpha: GARCH(1,1) reaction to the last squared shock
    :ivar garch_beta: GARCH(1,1) persistence of the variance
    :ivar garch_max_variance_ratio: cap of ``h_t`` as a multiple of its unconditional value
    :ivar student_t_df: degrees of freedom of the Student-t shocks (fat tails; > 2)
    :ivar jump_intensity_per_year: mean number of price jumps per year (Poisson)
    :ivar jump_scale: Laplace scale of a jump's log size (mean |jump| = scale)
    :ivar max_step_return: clip of one base step's log return
    :ivar substeps: points of the Brownian bridge inside each base candle
    :ivar wick_scale: extra wick beyond the bridge extremes, in units of the step sigma
    :ivar volume_base: mean volume per base candle (BTC) at normal volatility
    :ivar volume_return_coef: volume rises by this factor per sigma of |return|
    :ivar volume_vol_elasticity: volume ~ (sigma_t / sigma_bar) ** elasticity
    :ivar volume_noise: lognormal noise of the volume (sd of the log)
    :ivar volume_lot: volume is a multiple of this (a power of two keeps sums exact)
    :ivar funding_interval: time between funding events (Kraken Futures: 1h)
    :ivar funding_mean: mean funding rate per event
    :ivar funding_ar: AR(1) coefficient of the funding noise, per event
    :ivar funding_noise: sd of the AR(1) innovations
    :ivar funding_momentum_coef: rate added per unit of trailing 24h log return
    :ivar funding_premium_coef: rate added per unit of mean basis over the last interval
    :ivar funding_cap: funding rates are clipped to +-cap per event
    :ivar mark_basis_sd: stationary sd of the mark/last basis
    :ivar mark_basis_ar: AR(1) coefficient of the basis per base step
    """

    seed: int = 42
    start: str | pd.Timestamp = "2022-01-01"
    end: str | pd.Timestamp = "2024-01-01"
    base_timeframe: str = "5m"
    start_price: float = 46000.0
    price_tick: float = 0.1
    regimes: tuple[RegimeParams, ...] = DEFAULT_REGIMES
    regime_switch: tuple[tuple[float, ...], ...] = DEFAULT_REGIME_SWITCH
    initial_regime: str | None = None
    garch_omega: float = 1.5e-8
    garch_alpha: float = 0.05
    garch_beta: float = 0.945
    garch_max_variance_ratio: float = 400.0
    student_t_df: float = 4.5
    jump_intensity_per_year: float = 6.0
    jump_scale: float = 0.02
    max_step_return: float = 0.15
    substeps: int = 5
    wick_scale: float = 0.25
    volume_base: float = 600.0
    volume_return_coef: float = 0.35
    volume_vol_elasticity: float = 0.7
    volume_noise: float = 0.35
    volume_lot: float = 1.0 / 256.0
    funding_interval: str = "1h"
    funding_mean: float = 1.0e-5
    funding_ar: float = 0.97
    funding_noise: float = 5.0e-6
    funding_momentum_coef: float = 3.0e-4
    funding_premium_coef: float = 0.05
    funding_cap: float = 0.0025
    mark_basis_sd: float = 1.0e-4
    mark_basis_ar: float = 0.95

    def __post_init__(self) -> None:
        """Reject parameters that would give a meaningless or non-stationary market."""
        start, end = self.start_ts, self.end_ts
        step = timeframe_to_seconds(self.base_timeframe)
        funding = timeframe_to_seconds(self.funding_interval)
        if 3600 % step or funding % step:
            raise ValueError(
                f"base_timeframe {self.base_timeframe} must divide 1h and the funding interval"
            )
        if end <= start:
            raise ValueError(f"end {end} must be after start {start}")
        if start.value % (3600 * 10**9) or end.value % (3600 * 10**9):
            raise ValueError(f"start {start} and end {end} must be on a full hour")
        if not (self.garch_omega > 0 and self.garch_alpha >= 0 and self.garch_beta >= 0):
            raise ValueError("GARCH(1,1) needs omega > 0, alpha >= 0, beta >= 0")
        if self.garch_alpha + self.garch_beta >= 1:
            raise ValueError("GARCH(1,1) is not covariance-stationary: alpha + beta >= 1")
        if self.student_t_df <= 2:
            raise ValueError("student_t_df must be > 2 (finite variance)")
        n = len(self.regimes)
        if n == 0 or len(self.regime_switch) != n or any(len(r) != n for r in self.regime_switch):
            raise ValueError("regime_switch must be a square matrix, one row per regime")
        for i, row in enumerate(self.regime_switch):
            if n > 1 and (abs(sum(row) - 1.0) > 1e-9 or row[i] != 0 or min(row) < 0):
                raise ValueError(f"regime_switch row {i} must be >= 0, 0 on the diagonal, sum 1")
        if self.initial_regime is not None and self.initial_regime not in self.regime_names:
            raise ValueError(f"initial_regime {self.initial_regime!r} not in {self.regime_names}")
        if self.start_price <= 0 or self.substeps < 1 or not 0 <= self.funding_ar < 1:
            raise ValueError("start_price > 0, substeps >= 1 and 0 <= funding_ar < 1 needed")
        if not 0 <= self.mark_basis_ar < 1:
            raise ValueError("0 <= mark_basis_ar < 1 needed")

    @property
    def start_ts(self) -> pd.Timestamp:
        """:return: ``start`` as a UTC timestamp"""
        ts = pd.Timestamp(self.start)
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")

    @property
    def end_ts(self) -> pd.Timestamp:
        """:return: ``end`` as a UTC timestamp"""
        ts = pd.Timestamp(self.end)
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")

    @property
    def regime_names(self) -> tuple[str, ...]:
        """:return: regime labels in order"""
        return tuple(r.name for r in self.regimes)

    @property
    def steps_per_year(self) -> float:
        """:return: base steps per 365-day year"""
        return SECONDS_PER_YEAR / timeframe_to_seconds(self.base_timeframe)

    @property
    def unconditional_annual_vol(self) -> float:
        """
        :return: annualised volatility of the GARCH part without regime multipliers or jumps,
            ``sqrt(omega / (1 - alpha - beta) * steps_per_year)``
        """
        h = self.garch_omega / (1.0 - self.garch_alpha - self.garch_beta)
        return math.sqrt(h * self.steps_per_year)

    def to_json_dict(self) -> dict[str, object]:
        """:return: the config as JSON-ready values (timestamps as ISO strings)"""
        out = asdict(self)
        out["start"] = self.start_ts.isoformat()
        out["end"] = self.end_ts.isoformat()
        return out


@dataclass(frozen=True, eq=False)
class SyntheticMarket:
    """
    A generated market.

    :ivar config: what it was generated from
    :ivar candles: base-timeframe trade OHLCV (``date`` datetime64[ms, UTC], float64 values)
    :ivar mark: base-timeframe mark-price OHLCV, volume 0
    :ivar funding: ``date``, ``funding_rate``, one row per funding event
    :ivar state: ground truth per base candle: ``date``, ``regime`` (name), ``sigma``
        (conditional sd of the step's log return), ``jump`` (jump part of the log return),
        ``basis`` (mark/last - 1 at the close)
    """

    config: SyntheticMarketConfig
    candles: pd.DataFrame
    mark: pd.DataFrame
    funding: pd.DataFrame
    state: pd.DataFrame

    def candles_at(self, timeframe: str) -> pd.DataFrame:
        """
        :param timeframe: e.g. ``1h``
        :return: trade candles aggregated exactly to ``timeframe``
        """
        return resample_ohlcv(self.candles, timeframe, source_timeframe=self.config.base_timeframe)

    def mark_at(self, timeframe: str) -> pd.DataFrame:
        """
        :param timeframe: e.g. ``1h``
        :return: mark candles aggregated exactly to ``timeframe``
        """
        return resample_ohlcv(self.mark, timeframe, source_timeframe=self.config.base_timeframe)

    def index_at(self, timeframe: str) -> pd.DataFrame:
        """
        The index price the perpetual tracks (its reference price, Freqtrade candle type
        ``index``): each base candle's prices divided by ``1 + basis`` at its close, so the
        perpetual's premium over the index is the basis that also drives funding. Volume 0,
        as an index has none.

        :param timeframe: e.g. ``1h``
        :return: index candles aggregated exactly to ``timeframe``
        """
        index = self.candles.copy()
        scale = 1.0 + self.state["basis"].to_numpy()
        for column in ("open", "high", "low", "close"):
            index[column] = index[column].to_numpy() / scale
        index["volume"] = 0.0
        return resample_ohlcv(index, timeframe, source_timeframe=self.config.base_timeframe)

    def spot_at(self, timeframe: str) -> pd.DataFrame:
        """
        :param timeframe: e.g. ``1h``
        :return: the spot pair's candles: the index's prices, the perpetual's volume
        """
        volume = self.candles_at(timeframe)["volume"].to_numpy()
        return self.index_at(timeframe).assign(volume=volume)
