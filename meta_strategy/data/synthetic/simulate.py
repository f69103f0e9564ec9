"""
A deterministic SYNTHETIC BTC perpetual-futures market, for running BitBot offline.

When no real data is at hand, ``make backtest`` / ``bitbot synth`` generate this market and
write it in Freqtrade's feather layout, with a ``SYNTHETIC.json`` marker next to it. Results on
it exercise the machinery; they say nothing about real markets.

The price is a discretely sampled log-price process on the base timeframe (5m):

* **Regimes** (bull / bear / sideways) follow a continuous-time Markov chain in the spirit of
  Hamilton (1989), "A New Approach to the Economic Analysis of Nonstationary Time Series and
  the Business Cycle": holding times are geometric with a mean of weeks to months, the next
  regime is drawn from a jump matrix. Each regime sets a drift, a volatility multiplier, a
  funding tilt and a volume level; sideways regimes also mean-revert (Ornstein-Uhlenbeck pull
  towards the price at which they began).
* **Volatility clustering**: GARCH(1,1) (Bollerslev 1986),
  ``h_t = omega + alpha * u_{t-1}^2 + beta * h_{t-1}``, on standardised Student-t innovations
  (Bollerslev 1987, fat tails) with ``nu`` degrees of freedom, ``z = t_nu * sqrt((nu-2)/nu)``.
* **Jumps**: compound Poisson (Merton 1976) with Laplace sizes; they feed the GARCH recursion,
  so volatility stays high after a crash, as it does in real markets.
* The return of bar ``t`` is ``r_t = mu_regime + m_regime * sqrt(h_t) * z_t + J_t``.
* **Inside each bar** the path is a Brownian bridge on ``substeps`` points pinned to the open
  and close (plus the jump at a random sub-step), with small extra wicks. High and low are the
  path's extremes, so ``low <= min(open, close) <= max(open, close) <= high`` holds exactly.
* **Volume** rises with ``|r_t| / sigma_t``, with volatility and with the UTC hour of the day,
  lower at weekends, lognormal noise. It is quantised to 1/256 BTC so that sums are exact in
  binary floating point: every timeframe is an *exact* aggregation of the base candles.
* **Mark price** = close * (1 + b_t), with AR(1) basis ``b_t = phi * b_{t-1} + e_t``.
* **Funding** (Kraken Futures pays hourly): an AR(1) around a small positive mean, tilted by
  the regime, the trailing 24h return and the last hour's basis, clipped to +-cap, one row
  per funding time.

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, so a
seed gives bit-identical output run to run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from meta_strategy.data.synthetic.config import SyntheticMarket, SyntheticMarketConfig
from meta_strategy.data.timeframes import timeframe_to_seconds


logger = logging.getLogger(__name__)


def _ms_dates(start_ms: int, n: int, step_ms: int) -> pd.Series:
    """:return: ``n`` dates from ``start_ms`` every ``step_ms``, dtype datetime64[ms, UTC]"""
    ms = start_ms + np.arange(n, dtype=np.int64) * step_ms
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True).as_unit("ms"), name="date")


def _stationary(switch: np.ndarray, leave: np.ndarray) -> np.ndarray:
    """
    Stationary law of the regime chain with per-step transition ``P = I - diag(leave) +
    diag(leave) @ switch``: the normalised left eigenvector of P for eigenvalue 1.
    """
    p = np.eye(len(leave)) - np.diag(leave) + np.diag(leave) @ switch
    vals, vecs = np.linalg.eig(p.T)
    v = np.abs(np.real(vecs[:, np.argmin(np.abs(vals - 1.0))]))
    return v / v.sum()


def _regime_path(
    config: SyntheticMarketConfig, n: int, steps_per_day: float, rng: np.random.Generator
) -> np.ndarray:
    """
    Regime index per base step, Markov switching (Hamilton 1989) sampled segment by segment:
    holding time ~ Geometric(1 / (duration_days * steps_per_day)), next regime ~ jump matrix.
    """
    names = config.regime_names
    leave = np.array([1.0 / (r.mean_duration_days * steps_per_day) for r in config.regimes])
    switch = np.array(config.regime_switch, dtype=np.float64)
    if config.initial_regime is None:
        pi = _stationary(switch, leave) if len(names) > 1 else np.ones(1)
        current = int(rng.choice(len(names), p=pi))
    else:
        current = names.index(config.initial_regime)
    out = np.empty(n, dtype=np.int8)
    pos = 0
    while pos < n:
        length = int(rng.geometric(leave[current]))
        out[pos : pos + length] = current
        pos += length
        if len(names) > 1:
            current = int(rng.choice(len(names), p=switch[current]))
    return out


def _simulate_returns(
    config: SyntheticMarketConfig,
    regime: np.ndarray,
    z: np.ndarray,
    jump: np.ndarray,
    steps_per_day: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    The sequential part: GARCH(1,1) variance, regime drift / OU pull and the log returns.

    ``h_t = omega + alpha * u_{t-1}^2 + beta * h_{t-1}`` (Bollerslev 1986), with
    ``u = (r - mu) / m`` the de-regimed shock including jumps;
    ``r_t = mu_t + m * sqrt(h_t) * z_t + J_t``, clipped to +-max_step_return.
    :return: (log returns, conditional sd ``m * sqrt(h_t)``, diffusive part
        ``mu_t + m * sqrt(h_t) * z_t``) per step
    """
    spy = config.steps_per_year
    drift = [r.drift_per_year / spy for r in config.regimes]
    mult = [r.vol_multiplier for r in config.regimes]
    kappa = [r.mean_reversion_per_day / steps_per_day for r in config.regimes]
    omega, alpha, beta = config.garch_omega, config.garch_alpha, config.garch_beta
    h_bar = omega / (1.0 - alpha - beta)
    h_max = h_bar * config.garch_max_variance_ratio
    clip = config.max_step_return
    n = len(z)
    r_out = [0.0] * n
    s_out = [0.0] * n
    d_out = [0.0] * n
    h = h_bar
    logp = 0.0
    anchor = 0.0
    prev_reg = -1
    reg_l, z_l, j_l = regime.tolist(), z.tolist(), jump.tolist()
    for i in range(n):
        k = reg_l[i]
        if k != prev_reg:
            anchor = logp
            prev_reg = k
        m = mult[k]
        mu = drift[k] - kappa[k] * (logp - anchor)
        sig = math.sqrt(h)
        d = mu + m * sig * z_l[i]
        r = d + j_l[i]
        r = clip if r > clip else (-clip if r < -clip else r)
        u = (r - mu) / m
        h = omega + alpha * u * u + beta * h
        if h > h_max:
            h = h_max
        logp += r
        r_out[i] = r
        s_out[i] = m * sig
        d_out[i] = d
    return np.array(r_out), np.array(s_out), np.array(d_out)


def _ar1(innov: np.ndarray, phi: float, x0: float) -> np.ndarray:
    """:return: ``x_t = phi * x_{t-1} + innov_t`` started from ``x0``"""
    out = [0.0] * len(innov)
    x = x0
    for i, e in enumerate(innov.tolist()):
        x = phi * x + e
        out[i] = x
    return np.array(out)


def _round_to_tick(x: np.ndarray, tick: float) -> np.ndarray:
    """
    Round prices to a tick. For ticks like 0.1 (1 / integer) it divides by the integer, so
    the result is the double nearest to the decimal (46000.3, not 46000.300000000003).
    """
    q = np.round(x / tick)
    inv = 1.0 / tick
    return q / round(inv) if abs(inv - round(inv)) < 1e-9 else q * tick


@dataclass(frozen=True)
class _Draws:
    """Every random number of a market (see :func:`_draw` for the order they are drawn in)."""

    regime: np.ndarray
    z: np.ndarray
    jump: np.ndarray
    jump_at: np.ndarray
    bridge_g: np.ndarray
    wicks: np.ndarray
    vol_noise: np.ndarray
    basis_e: np.ndarray
    fund_e: np.ndarray
    basis_init: float
    fund_init: float


def _draw(
    config: SyntheticMarketConfig,
    n: int,
    n_funding: int,
    steps_per_day: float,
    rng: np.random.Generator,
) -> _Draws:
    """
    Draw everything the market needs from ``rng``, in a fixed order: the order of the draws
    below is what makes a seed give the same market, so never reorder them.

    :param n: number of base steps
    :param n_funding: number of funding times
    """
    regime = _regime_path(config, n, steps_per_day, rng)
    nu = config.student_t_df
    z = rng.standard_t(nu, n) * math.sqrt((nu - 2.0) / nu)  # unit-variance Student-t
    lam = config.jump_intensity_per_year / config.steps_per_year
    jump = rng.laplace(0.0, config.jump_scale, n) * (rng.random(n) < lam)
    jump_at = rng.integers(1, config.substeps + 1, n)
    bridge_g = rng.standard_normal((n, config.substeps))
    wicks = rng.exponential(1.0, (n, 2))
    vol_noise = rng.standard_normal(n)
    basis_e = rng.standard_normal(n)
    fund_e = rng.standard_normal(n_funding)
    basis_init, fund_init = rng.standard_normal(2)
    return _Draws(
        regime=regime,
        z=z,
        jump=jump,
        jump_at=jump_at,
        bridge_g=bridge_g,
        wicks=wicks,
        vol_noise=vol_noise,
        basis_e=basis_e,
        fund_e=fund_e,
        basis_init=basis_init,
        fund_init=fund_init,
    )


def _ohlc(
    config: SyntheticMarketConfig,
    r: np.ndarray,
    sigma: np.ndarray,
    logp: np.ndarray,
    jump_eff: np.ndarray,
    draws: _Draws,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Open, high, low and close of every bar from the intra-bar Brownian bridge
    ``path_k = (k/S) r_diff + B_k + J 1{k >= u}`` plus wicks, rounded to the price tick.

    :param r: log return per bar
    :param sigma: conditional sd per bar
    :param logp: log close per bar
    :param jump_eff: the jump per bar, less what the clip took off
    :return: (open, high, low, close)
    """
    log_open = np.concatenate(([math.log(config.start_price)], logp[:-1]))
    s = config.substeps
    frac = np.arange(1, s + 1) / s
    w = np.cumsum(draws.bridge_g, axis=1) * (sigma / math.sqrt(s))[:, None]
    bridge = w - frac[None, :] * w[:, -1:]
    path = (
        frac[None, :] * (r - jump_eff)[:, None]
        + bridge
        + jump_eff[:, None] * (np.arange(1, s + 1)[None, :] >= draws.jump_at[:, None])
    )
    path[:, -1] = r  # pinned to the close exactly
    wicks = draws.wicks
    hi_rel = np.maximum(path.max(axis=1), 0.0) + config.wick_scale * sigma * wicks[:, 0]
    lo_rel = np.minimum(path.min(axis=1), 0.0) - config.wick_scale * sigma * wicks[:, 1]

    o = np.exp(log_open)
    c = np.exp(logp)
    h = np.maximum(np.exp(log_open + hi_rel), np.maximum(o, c))
    lo = np.minimum(np.exp(log_open + lo_rel), np.minimum(o, c))
    if config.price_tick > 0:
        # Rounding is monotone, so the OHLC ordering survives it.
        o, h, lo, c = (_round_to_tick(x, config.price_tick) for x in (o, h, lo, c))
    return o, h, lo, c


def _volume(
    config: SyntheticMarketConfig,
    start_ms: int,
    step_s: int,
    r: np.ndarray,
    sigma: np.ndarray,
    draws: _Draws,
) -> np.ndarray:
    """
    :return: volume per bar: rises with ``|r| / sigma``, volatility and the UTC hour, lower at
        weekends, set by the regime, lognormal noise; quantised to ``volume_lot``
    """
    n = len(r)
    secs = start_ms // 1000 + np.arange(n, dtype=np.int64) * step_s
    hour = (secs % 86400) / 3600.0
    weekday = (secs // 86400 + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    season = (1.0 + 0.35 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)) * np.where(
        weekday >= 5, 0.7, 1.0
    )
    sigma_bar = math.sqrt(config.garch_omega / (1.0 - config.garch_alpha - config.garch_beta))
    regime_vol = np.array([rp.volume_multiplier for rp in config.regimes])[draws.regime]
    vol = (
        config.volume_base
        * regime_vol
        * season
        * (sigma / sigma_bar) ** config.volume_vol_elasticity
        * (1.0 + config.volume_return_coef * np.abs(r) / sigma)
        * np.exp(config.volume_noise * draws.vol_noise - 0.5 * config.volume_noise**2)
    )
    lot = config.volume_lot
    return np.maximum(np.round(vol / lot), 1.0) * lot


def _mark(
    config: SyntheticMarketConfig,
    dates: pd.Series,
    ohlc: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    draws: _Draws,
) -> tuple[pd.DataFrame, np.ndarray]:
    """
    :param ohlc: the trade candles' (open, high, low, close)
    :return: the mark candles, close * (1 + b_t) with AR(1) basis b, and the basis per bar
    """
    o, h, lo, c = ohlc
    phi = config.mark_basis_ar
    b0 = config.mark_basis_sd * draws.basis_init  # stationary start
    basis = _ar1(config.mark_basis_sd * math.sqrt(1 - phi**2) * draws.basis_e, phi, b0)
    b_open = np.concatenate(([b0], basis[:-1]))
    m_o, m_c = o * (1 + b_open), c * (1 + basis)
    m_h = np.maximum(h * (1 + np.maximum(b_open, basis)), np.maximum(m_o, m_c))
    m_l = np.minimum(lo * (1 + np.minimum(b_open, basis)), np.minimum(m_o, m_c))
    mark = pd.DataFrame(
        {"date": dates, "open": m_o, "high": m_h, "low": m_l, "close": m_c, "volume": 0.0}
    )
    return mark, basis


def _funding(
    config: SyntheticMarketConfig,
    logp: np.ndarray,
    basis: np.ndarray,
    draws: _Draws,
    n_fund_steps: int,
    steps_per_day: float,
) -> np.ndarray:
    """
    :param logp: log close per bar
    :param basis: mark basis per bar
    :param n_fund_steps: base steps between two funding times
    :return: the rate at each funding time: AR(1) noise + regime tilt + momentum + premium,
        clipped to +-``funding_cap``
    """
    n_funding = len(draws.fund_e)
    k = np.arange(n_funding) * n_fund_steps  # step index of each funding time
    log_at = np.concatenate(([math.log(config.start_price)], logp))  # log price at step k
    day = int(steps_per_day)
    momentum = log_at[k] - log_at[np.maximum(k - day, 0)]
    csum = np.concatenate(([0.0], np.cumsum(basis)))
    lo_k = np.maximum(k - n_fund_steps, 0)
    premium = np.where(k > 0, (csum[k] - csum[lo_k]) / np.maximum(k - lo_k, 1), 0.0)
    regime_at = draws.regime[np.maximum(k - 1, 0)]
    tilt = np.array([rp.funding_tilt for rp in config.regimes])[regime_at]
    sd0 = config.funding_noise / math.sqrt(1 - config.funding_ar**2)
    noise = _ar1(config.funding_noise * draws.fund_e, config.funding_ar, sd0 * draws.fund_init)
    return (
        config.funding_mean
        + tilt
        + config.funding_momentum_coef * momentum
        + config.funding_premium_coef * premium
        + noise
    ).clip(-config.funding_cap, config.funding_cap)


def generate_market(config: SyntheticMarketConfig | None = None) -> SyntheticMarket:
    """
    Generate the synthetic market described in the module docstring.

    :param config: parameters; default ``SyntheticMarketConfig()`` (2022-01-01..2024-01-01,
        5m, seed 42)
    :return: candles, mark candles, funding rates and the hidden state, deterministic for a seed
    """
    config = config or SyntheticMarketConfig()
    rng = np.random.Generator(np.random.PCG64(config.seed))
    step_s = timeframe_to_seconds(config.base_timeframe)
    step_ms = step_s * 1000
    start_ms = config.start_ts.value // 10**6
    n = int((config.end_ts.value // 10**6 - start_ms) // step_ms)
    steps_per_day = 86400 / step_s
    n_fund_steps = timeframe_to_seconds(config.funding_interval) // step_s
    n_funding = int(np.ceil(n / n_fund_steps))
    draws = _draw(config, n, n_funding, steps_per_day, rng)

    # log returns: regimes + GARCH(1,1) + Student-t + jumps
    r, sigma, diffusive = _simulate_returns(
        config, draws.regime, draws.z, draws.jump, steps_per_day
    )
    logp = math.log(config.start_price) + np.cumsum(r)
    jump_eff = r - diffusive  # the jump, less what the clip took off
    o, h, lo, c = _ohlc(config, r, sigma, logp, jump_eff, draws)
    vol = _volume(config, start_ms, step_s, r, sigma, draws)
    dates = _ms_dates(start_ms, n, step_ms)
    candles = pd.DataFrame(
        {"date": dates, "open": o, "high": h, "low": lo, "close": c, "volume": vol}
    )
    mark, basis = _mark(config, dates, (o, h, lo, c), draws)
    rate = _funding(config, logp, basis, draws, n_fund_steps, steps_per_day)
    funding = pd.DataFrame(
        {"date": _ms_dates(start_ms, n_funding, n_fund_steps * step_ms), "funding_rate": rate}
    )

    names = np.array(config.regime_names, dtype=object)
    state = pd.DataFrame(
        {
            "date": dates,
            "regime": pd.Categorical(names[draws.regime], categories=list(config.regime_names)),
            "sigma": sigma,
            "jump": jump_eff,
            "basis": basis,
        }
    )
    logger.info(
        "Generated SYNTHETIC market: seed %d, %s .. %s, %d %s candles, %d funding rows",
        config.seed,
        config.start_ts,
        config.end_ts,
        n,
        config.base_timeframe,
        n_funding,
    )
    return SyntheticMarket(config=config, candles=candles, mark=mark, funding=funding, state=state)
