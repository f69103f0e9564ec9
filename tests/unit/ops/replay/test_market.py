"""
The recorded market of ``bitbot replay`` (meta_strategy.ops.replay.market): only what is known
at ``now``, on a small hand-made recording.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ccxt
import pandas as pd
import pytest

from meta_strategy.data.files import candle_file
from meta_strategy.ops.replay.faults import Faults, FaultState, read_faults, write_faults
from meta_strategy.ops.replay.market import BookModel, RecordedMarket
from tests.helpers.recording import PAIR, T0, FixedClock, ms, recorded_market


# --- the recorded market: only what is known at `now` ---------------------------------------


def test_candles_are_closed_ones_plus_the_candle_in_progress_from_closed_5m(
    recording: Path,
) -> None:
    now = T0 + timedelta(hours=5, minutes=17)
    market = recorded_market(recording, now)
    candles = market.fetch_ohlcv("BTC/USD:USD", "1h", limit=3)
    dates = [datetime.fromtimestamp(c[0] / 1000, UTC) for c in candles]
    assert dates == [T0 + timedelta(hours=h) for h in (3, 4, 5)]
    # The last one is in progress: built from the three 5m candles closed by 05:17, not the
    # recorded 05:00 candle (which holds the rest of the hour).
    five = pd.read_feather(candle_file(recording, PAIR, "5m")).set_index("date")
    inside = five.loc[T0 + timedelta(hours=5) : T0 + timedelta(hours=5, minutes=10)]
    assert len(inside) == 3
    _, o, h, low, c, v = candles[-1]
    assert (o, c) == (inside["open"].iloc[0], inside["close"].iloc[-1])
    assert h == inside["high"].max() and low == inside["low"].min()
    assert v == pytest.approx(inside["volume"].sum())
    hour = pd.read_feather(candle_file(recording, PAIR, "1h")).set_index("date")
    assert candles[1][4] == hour.loc[T0 + timedelta(hours=4), "close"]  # closed: as recorded


def test_candles_since_limit_and_resampled_timeframes(recording: Path) -> None:
    now = T0 + timedelta(hours=9, minutes=30)
    market = recorded_market(recording, now)
    since = ms(T0 - timedelta(hours=2))
    page = market.fetch_ohlcv("BTC/USD:USD", "1h", since=since, limit=4)
    assert [c[0] for c in page] == [since + h * 3_600_000 for h in range(4)]
    four = market.fetch_ohlcv("BTC/USD:USD", "4h")
    # 4h candles from the 1h file: 00:00 and 04:00 closed, 08:00 in progress; none later.
    assert four[-1][0] == ms(T0 + timedelta(hours=8))
    assert four[-2][0] == ms(T0 + timedelta(hours=4))
    hour = pd.read_feather(candle_file(recording, PAIR, "1h")).set_index("date")
    block = hour.loc[T0 + timedelta(hours=4) : T0 + timedelta(hours=7)]
    assert four[-2][2] == block["high"].max() and four[-2][4] == block["close"].iloc[-1]


def test_mark_funding_ticker_and_book(recording: Path) -> None:
    now = T0 + timedelta(hours=8, minutes=7)
    market = recorded_market(recording, now)
    mark = market.fetch_ohlcv("BTC/USD:USD", "1h", params={"price": "mark"})
    marks = pd.read_feather(candle_file(recording, PAIR, "1h", "mark")).set_index("date")
    assert mark[-2][4] == marks.loc[T0 + timedelta(hours=7), "close"]
    funding = market.fetch_funding_rate_history("BTC/USD:USD")
    assert [f["fundingRate"] for f in funding] == [1e-4, 2e-4, 3e-4, 4e-4, 5e-4]  # to 08:00
    assert market.fetch_funding_rate("BTC/USD:USD")["fundingRate"] == 5e-4
    five = pd.read_feather(candle_file(recording, PAIR, "5m")).set_index("date")
    last = five.loc[T0 + timedelta(hours=8), "close"]  # the 08:00-08:05 candle closed at 08:05
    ticker = market.fetch_ticker("BTC/USD:USD")
    assert ticker["last"] == last
    assert ticker["bid"] == pytest.approx(last * (1 - 1e-4))
    assert ticker["ask"] == pytest.approx(last * (1 + 1e-4))
    book = market.fetch_order_book("BTC/USD:USD", limit=5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] == ticker["bid"] and book["asks"][0][0] == ticker["ask"]
    assert [a for _, a in book["asks"]] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(b[0] > c[0] for b, c in zip(book["bids"], book["bids"][1:], strict=False))


def test_index_candles_are_the_recorded_index_or_else_the_spot_pair(recording: Path) -> None:
    """The reference price (candle type ``index``) a Kraken futures bot fetches."""
    now = T0 + timedelta(hours=8, minutes=7)
    with pytest.raises(ccxt.BadRequest, match="no index price timeframe"):
        recorded_market(recording, now).fetch_ohlcv("BTC/USD:USD", "1h", params={"price": "index"})
    hour = pd.read_feather(candle_file(recording, PAIR, "1h"))
    spot = hour.copy()
    spot[["open", "high", "low", "close"]] *= 0.9995
    spot.to_feather(candle_file(recording, "BTC/USDT", "1h", "spot"))
    served = recorded_market(recording, now).fetch_ohlcv(
        "BTC/USD:USD", "1h", params={"price": "index"}
    )
    closes = spot.set_index("date")["close"]
    assert served[-2][0] == ms(T0 + timedelta(hours=7))  # the last closed one, then 08:00
    assert served[-2][4] == closes.loc[T0 + timedelta(hours=7)]
    assert served[-1][0] == ms(T0 + timedelta(hours=8))
    assert served[-1][4] == spot.set_index("date").loc[T0 + timedelta(hours=8), "open"]
    index = hour.copy()
    index[["open", "high", "low", "close"]] *= 1.0005
    index.to_feather(candle_file(recording, PAIR, "1h", "index"))
    served = recorded_market(recording, now).fetch_ohlcv(
        "BTC/USD:USD", "4h", params={"price": "index"}
    )
    assert served[-2][4] == index.set_index("date").loc[T0 + timedelta(hours=7), "close"]
    with pytest.raises(ccxt.BadRequest, match="'last'"):
        recorded_market(recording, now).fetch_ohlcv("BTC/USD:USD", "1h", params={"price": "last"})


def test_ticker_falls_back_to_coarser_candles_where_fine_ones_end(recording: Path) -> None:
    five = pd.read_feather(candle_file(recording, PAIR, "5m"))
    five.iloc[:100].to_feather(candle_file(recording, PAIR, "5m"))  # 5m ends early
    now = T0 + timedelta(hours=3, minutes=30)
    hour = pd.read_feather(candle_file(recording, PAIR, "1h")).set_index("date")
    assert (
        recorded_market(recording, now).fetch_ticker("BTC/USD:USD")["last"]
        == hour.loc[T0 + timedelta(hours=2), "close"]
    )


def test_unknown_symbol_and_end_of_recording(recording: Path) -> None:
    market = recorded_market(recording, T0 + timedelta(days=3))
    with pytest.raises(ccxt.BadSymbol):
        market.fetch_ohlcv("ETH/USD:USD", "1h")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="no price"):
        market.fetch_ticker("BTC/USD:USD")


def test_faults_exchange_down_and_frozen_candles(recording: Path, tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    now = T0 + timedelta(hours=6, minutes=30)
    market = recorded_market(recording, now, Faults(path))
    assert market.fetch_ohlcv("BTC/USD:USD", "1h")[-1][0] == ms(T0 + timedelta(hours=6))
    write_faults(path, FaultState(exchange_down=True))
    with pytest.raises(ccxt.NetworkError, match="fault injected"):
        market.fetch_ticker("BTC/USD:USD")
    with pytest.raises(ccxt.NetworkError):
        market.fetch_order_book("BTC/USD:USD")
    write_faults(path, FaultState(candles_frozen_at=T0 + timedelta(hours=2, minutes=10)))
    assert read_faults(path).candles_frozen_at == T0 + timedelta(hours=2, minutes=10)
    assert market.fetch_ohlcv("BTC/USD:USD", "1h")[-1][0] == ms(T0 + timedelta(hours=2))
    write_faults(path, FaultState())
    assert not path.exists()
    assert market.fetch_ohlcv("BTC/USD:USD", "1h")[-1][0] == ms(T0 + timedelta(hours=6))
    path.write_text(json.dumps({"exchange_dwon": True}))
    with pytest.raises(ValueError, match="unknown keys"):
        read_faults(path)


def test_recording_without_the_pair_is_a_clear_error(recording: Path) -> None:
    with pytest.raises(ValueError, match="No futures candles of ETH/USDT:USDT"):
        RecordedMarket(recording, "ETH/USDT:USDT", "ETH/USD:USD", "futures", FixedClock(T0))


def test_book_model_validation() -> None:
    with pytest.raises(ValueError, match="order book model"):
        BookModel(levels=0)
    with pytest.raises(ValueError, match="order book model"):
        BookModel(tick=0.0)


def test_book_prices_sit_on_the_tick_grid() -> None:
    """Freqtrade rounds order prices to the tick; a book off the grid would never fill them."""
    bids, asks = BookModel(spread_bps=2, tick=1.0).book(105_606.16)
    assert all(p == int(p) for p, _ in bids + asks)
    assert bids[0][0] == 105_595.0 and asks[0][0] == 105_617.0  # 105606.16 -+ 1 bp, outward
    tight_bids, tight_asks = BookModel(spread_bps=0, tick=1.0).book(100.0)
    assert tight_asks[0][0] - tight_bids[0][0] == 1.0  # never a crossed or empty spread


def test_candle_pages_are_sliced_as_an_exchange_serves_them(recording: Path) -> None:
    now = T0 + timedelta(hours=9, minutes=30)
    market = recorded_market(recording, now)
    whole = market.fetch_ohlcv("BTC/USD:USD", "5m", limit=100_000)
    last = market.fetch_ohlcv("BTC/USD:USD", "5m", limit=10)
    assert last == whole[-10:] and last[-1][0] == ms(now - timedelta(minutes=0))
    since = whole[50][0]
    assert market.fetch_ohlcv("BTC/USD:USD", "5m", since=since, limit=7) == whole[50:57]
    # A page reaching now ends with the candle in progress, as the whole list does.
    assert market.fetch_ohlcv("BTC/USD:USD", "5m", since=whole[-3][0], limit=7) == whole[-3:]


def test_book_levels_stay_a_tick_apart_when_the_tick_is_coarse() -> None:
    bids, asks = BookModel(spread_bps=2, step_bps=0.1, levels=5, tick=10.0).book(100_000.0)
    assert [p for p, _ in bids] == [99_990.0, 99_980.0, 99_970.0, 99_960.0, 99_950.0]
    assert [p for p, _ in asks] == [100_010.0, 100_020.0, 100_030.0, 100_040.0, 100_050.0]
