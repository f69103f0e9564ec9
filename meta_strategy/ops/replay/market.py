"""
A recorded market, served as an exchange would serve it at the replay clock's time.

:class:`RecordedMarket` answers the ccxt calls Freqtrade makes in dry-run (candles, mark
candles, funding-rate history, tickers, order books) from a Freqtrade data folder, using only
what was known at the virtual time ``now``:

* **candles**: every candle with ``open + timeframe <= now`` is closed and served as recorded;
  the candle in progress is served as an exchange does, built from the closed candles of the
  finest recorded timeframe inside it (just its open when none has closed yet). Timeframes that
  are not recorded are aggregated from the finest one that divides them;
* **mark candles** the same way from the ``mark`` file, **index candles** (the reference price,
  :mod:`meta_strategy.data.reference`) from the ``index`` files or else the spot pair's;
  **funding** events with ``date <= now``;
* **ticker**: the last price is the close of the latest closed candle of the finest timeframe
  recorded at that time (5m where the recording has it, else 15m, else 1h); bid and ask sit half
  a spread either side;
* **order book**: synthetic, :class:`BookModel` levels around that bid and ask, so Freqtrade's
  dry-run fills (which walk the book) pay a spread and slippage that grows with size.

Faults can be injected while a replay runs (:mod:`~meta_strategy.ops.replay.faults`: the
exchange down, or the candle feed frozen), to rehearse what the bot does when they happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pandas as pd

from meta_strategy.data.candles import load_candles, load_funding
from meta_strategy.data.files import candle_file, detect_datasets
from meta_strategy.data.reference import spot_pair
from meta_strategy.data.timeframes import resample_ohlcv, timeframe_to_seconds
from meta_strategy.ops.replay.errors import ReplayDataError
from meta_strategy.ops.replay.faults import Faults, FaultState


logger = logging.getLogger(__name__)

DEFAULT_CANDLE_LIMIT = 1000


@dataclass(frozen=True)
class BookModel:
    """
    The synthetic order book: ``levels`` price levels a side, ``step_bps`` apart, starting half
    of ``spread_bps`` from the last price, on the market's price grid (``tick``: bids rounded
    down, asks up, as an exchange only quotes ticks); level ``i`` (0 = best) holds
    ``level_amount * (1 + i)`` contracts.
    """

    spread_bps: float = 2.0
    step_bps: float = 1.0
    levels: int = 25
    level_amount: float = 1.0
    tick: float | None = None

    def __post_init__(self) -> None:
        bad_tick = self.tick is not None and not self.tick > 0
        if (
            self.spread_bps < 0
            or self.step_bps <= 0
            or self.levels < 1
            or self.level_amount <= 0
            or bad_tick
        ):
            raise ValueError(
                f"Bad order book model {asdict(self)}: spread_bps >= 0, step_bps > 0, "
                f"levels >= 1, level_amount > 0 and tick > 0 (or None) expected."
            )

    def book(self, last: float) -> tuple[list[list[float]], list[list[float]]]:
        """
        :param last: the last traded price
        :return: ``(bids, asks)``, best first, as ``[price, amount]``
        """
        half = self.spread_bps / 2e4
        step = self.step_bps / 1e4
        i = np.arange(self.levels)
        amounts = self.level_amount * (1.0 + i)
        bids = last * (1.0 - half - step * i)
        asks = last * (1.0 + half + step * i)
        if self.tick:
            bids = np.floor(bids / self.tick + 1e-9) * self.tick
            asks = np.ceil(asks / self.tick - 1e-9) * self.tick
            asks[0] = max(asks[0], bids[0] + self.tick)
            # At least one tick between levels, even where step_bps is finer than the tick.
            bids = np.minimum.accumulate(bids + self.tick * i) - self.tick * i
            asks = np.maximum.accumulate(asks - self.tick * i) + self.tick * i
        return (
            [[float(p), float(a)] for p, a in zip(bids, amounts, strict=True)],
            [[float(p), float(a)] for p, a in zip(asks, amounts, strict=True)],
        )


class _Series:
    """One recorded candle series, indexed by open time in ms."""

    def __init__(self, frame: pd.DataFrame, timeframe: str) -> None:
        self.timeframe = timeframe
        self.tf_ms = timeframe_to_seconds(timeframe) * 1000
        self.frame = frame.reset_index(drop=True)
        self.open_ms = pd.DatetimeIndex(frame["date"]).as_unit("ms").asi8.astype(np.int64)
        self.values = frame[["open", "high", "low", "close", "volume"]].to_numpy(np.float64)

    def closed_until(self, now_ms: int) -> int:
        """:return: the number of candles closed at ``now_ms`` (index of the first open one)"""
        return int(np.searchsorted(self.open_ms, now_ms - self.tf_ms, side="right"))

    def covers(self, now_ms: int) -> bool:
        """:return: whether the recording of this series has the candle closing last by now"""
        n = self.closed_until(now_ms)
        return n > 0 and now_ms - (self.open_ms[n - 1] + self.tf_ms) < self.tf_ms


class RecordedMarket:
    """
    One pair of a recording, served at the replay clock's time.

    :param recording: a Freqtrade data folder (feather), e.g. ``../shared/data/binance``
    :param recorded_pair: the pair in the recording, e.g. ``BTC/USDT:USDT``
    :param pair: the pair the bot trades, e.g. ``BTC/USD:USD`` (the recording stands in for it)
    :param trading_mode: ``futures`` or ``spot``
    :param now_ms: the replay clock (ms since the epoch)
    :param book: the synthetic order book
    :param faults: injected faults
    :raises ReplayDataError: the recording has no candles for the pair, or a file is broken
    """

    def __init__(
        self,
        recording: Path,
        recorded_pair: str,
        pair: str,
        trading_mode: str,
        now_ms: Callable[[], int],
        book: BookModel | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.recording = Path(recording)
        self.recorded_pair = recorded_pair
        self.pair = pair
        self.now_ms = now_ms
        self.book_model = book or BookModel()
        self.faults = faults or Faults(None)
        candle_type = "futures" if trading_mode == "futures" else "spot"
        found = [d for d in detect_datasets(self.recording) if d[0] == recorded_pair]
        self.candles = {
            tf: _Series(load_candles(candle_file(self.recording, recorded_pair, tf, ct)), tf)
            for _, tf, ct in found
            if ct == candle_type
        }
        if not self.candles:
            have = sorted({f"{p} ({ct})" for p, _, ct in detect_datasets(self.recording)})
            raise ReplayDataError(
                self.recording,
                f"No {candle_type} candles of {recorded_pair} in {self.recording} (it has: "
                f"{', '.join(have) or 'no candle files'}). Pick another --recorded-pair or "
                f"--recording.",
            )
        self.mark = {
            tf: _Series(load_candles(candle_file(self.recording, recorded_pair, tf, "mark")), tf)
            for _, tf, ct in found
            if ct == "mark"
        }
        self.index = self._index_candles(recorded_pair, found) if trading_mode == "futures" else {}
        funding_tf = next((tf for _, tf, ct in found if ct == "funding_rate"), None)
        self.funding: pd.DataFrame | None = None
        self.funding_ms = np.empty(0, dtype=np.int64)
        if trading_mode == "futures" and funding_tf is not None:
            path = candle_file(self.recording, recorded_pair, funding_tf, "funding_rate")
            self.funding = load_funding(path)
            self.funding_ms = pd.DatetimeIndex(self.funding["date"]).as_unit("ms").asi8
        self._finest_first = sorted(self.candles.values(), key=lambda s: s.tf_ms)
        self._resampled: dict[tuple[str, str], _Series] = {}
        first = min(s.open_ms[0] for s in self.candles.values())
        last = max(s.open_ms[-1] + s.tf_ms for s in self.candles.values())
        self.first_ms, self.last_ms = int(first), int(last)
        self._end_reported = False
        logger.info(
            "Replay market: %s recorded as %s in %s, %s to %s; timeframes %s%s%s%s.",
            pair,
            recorded_pair,
            self.recording,
            format_ms(self.first_ms),
            format_ms(self.last_ms),
            ", ".join(self.candles),
            f"; mark {', '.join(self.mark)}" if self.mark else "; no mark candles",
            f"; index {', '.join(self.index)}" if self.index else "; no index candles",
            f"; funding {len(self.funding_ms)} events" if self.funding is not None else "",
        )

    def _index_candles(
        self, recorded_pair: str, found: list[tuple[str, str, str]]
    ) -> dict[str, _Series]:
        """
        The index candles served for ``params={"price": "index"}``: the recording's own
        (``index`` files of the recorded pair), else its spot pair's candles (a recording of
        an exchange whose research data has the spot market, e.g. Binance; an index is a spot
        price). See :mod:`meta_strategy.data.reference`.
        """
        index = {
            tf: candle_file(self.recording, recorded_pair, tf, "index")
            for _, tf, ct in found
            if ct == "index"
        }
        if not index:
            spot = spot_pair(recorded_pair)
            index = {
                tf: candle_file(self.recording, spot, tf, "spot")
                for pair, tf, ct in detect_datasets(self.recording)
                if pair == spot and ct == "spot"
            }
        return {tf: _Series(load_candles(path), tf) for tf, path in index.items()}

    # ------------------------------------------------------------------ helpers

    def _check(self, symbol: str | None = None) -> FaultState:
        faults = self.faults.state()
        if faults.exchange_down:
            raise ccxt.NetworkError("replay: exchange down (fault injected)")
        if symbol is not None and symbol != self.pair:
            raise ccxt.BadSymbol(f"replay: {symbol} is not replayed (only {self.pair})")
        return faults

    def _candle_now(self, faults: FaultState) -> int:
        """:return: the time up to which market data exists (now, or the freeze, or the end)"""
        now = self.now_ms()
        if now >= self.last_ms and not self._end_reported:
            self._end_reported = True
            logger.error(
                "Replay: the recording %s ends %s: no new candles from now on, so safe mode "
                "(candles late) takes the bot flat. Stop it (Ctrl-C), or start over with --fresh.",
                self.recording,
                format_ms(self.last_ms),
            )
        if faults.candles_frozen_at is not None:
            now = min(now, int(faults.candles_frozen_at.timestamp() * 1000))
        return now

    def _recorded(self, price: str) -> dict[str, _Series]:
        """:return: the recorded series of a ccxt price type (``trade``, ``mark``, ``index``)"""
        return {"mark": self.mark, "index": self.index}.get(price, self.candles)

    def _series(self, timeframe: str, price: str = "trade") -> _Series:
        recorded = self._recorded(price)
        if timeframe in recorded:
            return recorded[timeframe]
        key = (price, timeframe)
        if key not in self._resampled:
            tf_ms = timeframe_to_seconds(timeframe) * 1000
            sources = [s for s in recorded.values() if tf_ms % s.tf_ms == 0]
            if not sources:
                raise ccxt.BadRequest(
                    f"replay: no {price} price timeframe in {self.recording} "
                    f"divides {timeframe} (recorded: {', '.join(recorded) or 'none'})"
                )
            # The coarsest source that divides it reaches furthest back in the recording.
            source = max(sources, key=lambda s: s.tf_ms)
            frame = resample_ohlcv(source.frame, timeframe, source.timeframe)
            self._resampled[key] = _Series(frame, timeframe)
        return self._resampled[key]

    def _partial(self, series: _Series, open_ms: int, now_ms: int, price: str) -> list[float]:
        """The candle in progress at ``now_ms`` from the finest closed candles inside it."""
        i = int(np.searchsorted(series.open_ms, open_ms))
        recorded_open = float(series.values[i, 0])
        finer = [s for s in self._recorded(price).values() if s.tf_ms < series.tf_ms]
        for fine in sorted(finer, key=lambda s: s.tf_ms):
            lo = int(np.searchsorted(fine.open_ms, open_ms))
            hi = fine.closed_until(now_ms)
            if hi > lo:
                v = fine.values[lo:hi]
                return [
                    float(open_ms),
                    recorded_open,
                    float(max(v[:, 1].max(), recorded_open)),
                    float(min(v[:, 2].min(), recorded_open)),
                    float(v[-1, 3]),
                    float(v[:, 4].sum()),
                ]
        return [float(open_ms), recorded_open, recorded_open, recorded_open, recorded_open, 0.0]

    # ------------------------------------------------------------------ ccxt calls

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1h",
        since: int | None = None,
        limit: int | None = None,
        params: dict | None = None,
    ) -> list[list[float]]:
        """ccxt ``fetch_ohlcv``: trade candles; mark or index candles with
        ``params={"price": "mark"}`` / ``{"price": "index"}``."""
        faults = self._check(symbol)
        price = (params or {}).get("price", "trade")
        if price not in ("trade", "mark", "index"):
            raise ccxt.BadRequest(f"replay: no {price!r} price candles (trade, mark or index)")
        series = self._series(timeframe, price)
        now = self._candle_now(faults)
        limit = limit or DEFAULT_CANDLE_LIMIT
        closed = series.closed_until(now)
        in_progress = closed < len(series.open_ms) and series.open_ms[closed] <= now
        if since is not None:  # the first `limit` candles from `since` on
            lo = int(np.searchsorted(series.open_ms, since))
            hi = min(closed, lo + limit)
            in_progress = in_progress and hi == closed and hi - lo < limit
        else:  # the last `limit` candles
            hi = closed
            lo = max(0, hi + int(in_progress) - limit)
        out = [
            [float(t), *map(float, v)]
            for t, v in zip(series.open_ms[lo:hi], series.values[lo:hi], strict=True)
        ]
        if in_progress:
            out.append(self._partial(series, int(series.open_ms[closed]), now, price))
        return out

    def fetch_funding_rate_history(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict | None = None,
    ) -> list[dict[str, Any]]:
        """ccxt ``fetch_funding_rate_history``: funding events up to now."""
        self._check(symbol)
        if self.funding is None:
            return []
        now = self.now_ms()
        hi = int(np.searchsorted(self.funding_ms, now, side="right"))
        lo = int(np.searchsorted(self.funding_ms, since)) if since is not None else 0
        limit = limit or DEFAULT_CANDLE_LIMIT
        if since is None:
            lo = max(lo, hi - limit)
        hi = min(hi, lo + limit)
        rates = self.funding["funding_rate"].to_numpy()
        return [
            {
                "info": {},
                "symbol": self.pair,
                "fundingRate": float(rates[i]),
                "timestamp": int(self.funding_ms[i]),
                "datetime": format_ms(int(self.funding_ms[i])),
            }
            for i in range(lo, hi)
        ]

    def fetch_funding_rate(self, symbol: str, params: dict | None = None) -> dict[str, Any]:
        """ccxt ``fetch_funding_rate``: the latest known rate."""
        events = self.fetch_funding_rate_history(symbol, limit=1)
        rate = events[-1]["fundingRate"] if events else None
        return {"info": {}, "symbol": self.pair, "fundingRate": rate, "timestamp": self.now_ms()}

    def last_price(self) -> float:
        """:return: the close of the latest closed candle of the finest timeframe recorded now"""
        faults = self._check()
        now = self._candle_now(faults)
        for series in self._finest_first:
            if series.covers(now):
                return float(series.values[series.closed_until(now) - 1, 3])
        raise ccxt.ExchangeNotAvailable(
            f"replay: no price at {format_ms(now)}; the recording {self.recording} covers "
            f"{format_ms(self.first_ms)} to {format_ms(self.last_ms)}"
        )

    def _mark_price(self, now: int, last: float) -> float:
        for series in sorted(self.mark.values(), key=lambda s: s.tf_ms):
            if series.covers(now):
                return float(series.values[series.closed_until(now) - 1, 3])
        return last

    def fetch_ticker(self, symbol: str, params: dict | None = None) -> dict[str, Any]:
        """ccxt ``fetch_ticker``."""
        faults = self._check(symbol)
        last = self.last_price()
        now = self._candle_now(faults)
        (bid, bid_amount), (ask, ask_amount) = (side[0] for side in self.book_model.book(last))
        coarsest = self._finest_first[-1]
        n = coarsest.closed_until(now)
        volume = coarsest.values[max(0, n - 86_400_000 // coarsest.tf_ms) : n, 4].sum()
        return {
            "symbol": self.pair,
            "timestamp": now,
            "datetime": format_ms(now),
            "last": last,
            "close": last,
            "bid": bid,
            "bidVolume": bid_amount,
            "ask": ask,
            "askVolume": ask_amount,
            "baseVolume": float(volume),
            "quoteVolume": float(volume * last),
            "markPrice": self._mark_price(now, last),
            "info": {},
        }

    def fetch_tickers(
        self, symbols: list[str] | None = None, params: dict | None = None
    ) -> dict[str, dict[str, Any]]:
        """ccxt ``fetch_tickers`` (and ``fetch_bids_asks``)."""
        self._check()
        if symbols and self.pair not in symbols:
            return {}
        return {self.pair: self.fetch_ticker(self.pair)}

    def fetch_order_book(
        self, symbol: str, limit: int | None = None, params: dict | None = None
    ) -> dict[str, Any]:
        """ccxt ``fetch_order_book`` / ``fetch_l2_order_book``: the synthetic book."""
        self._check(symbol)
        bids, asks = self.book_model.book(self.last_price())
        if limit:
            bids, asks = bids[:limit], asks[:limit]
        now = self.now_ms()
        return {
            "symbol": self.pair,
            "bids": bids,
            "asks": asks,
            "timestamp": now,
            "datetime": format_ms(now),
            "nonce": None,
        }

    def fetch_time(self, params: dict | None = None) -> int:
        """ccxt ``fetch_time``."""
        self._check()
        return self.now_ms()


def format_ms(ms: int) -> str:
    """:return: ``ms`` (since the Unix epoch) as ``YYYY-MM-DD HH:MM``, UTC"""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
