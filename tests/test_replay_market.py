"""The replay's clock, recorded market and settings, on a small hand-made recording."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ccxt
import numpy as np
import pandas as pd
import pytest

from meta_strategy.data import candle_file
from meta_strategy.replay.clock import ClockError, ReplayClock, read_clock_file
from meta_strategy.replay.exchange import check_replay_config, feed_ccxt
from meta_strategy.replay.market import (
    BookModel,
    Faults,
    FaultState,
    RecordedMarket,
    read_faults,
    write_faults,
)
from meta_strategy.replay.session import (
    ReplayError,
    ReplaySettings,
    _out_of_sample_start,
    choose_recorded_pair,
    forced_environment,
    newest_db_time,
    prepare_models,
    replay_overlay,
    run_replay,
)


T0 = datetime(2025, 6, 1, tzinfo=UTC)
PAIR = "BTC/USDT:USDT"


def _candles(start: datetime, periods: int, minutes: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100_000 * np.exp(np.cumsum(rng.normal(0, 0.002, periods)))
    open_ = np.r_[100_000, close[:-1]]
    spread = np.abs(rng.normal(0, 50, periods))
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=periods, freq=f"{minutes}min", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(1, 10, periods),
        }
    )


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Two days of 5m candles, the 1h candles made from them, mark candles and funding."""
    folder = tmp_path / "recording"
    (folder / "futures").mkdir(parents=True)
    five = _candles(T0 - timedelta(days=1), 2 * 288, 5, seed=1)
    hour = (
        five.set_index("date")
        .resample("1h")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    )
    hour = hour.reset_index()
    mark = hour.assign(close=hour["close"] * 1.0001)
    mark["high"] = mark[["high", "close"]].max(axis=1)
    funding = pd.DataFrame(
        {"date": pd.date_range(T0 - timedelta(days=1), periods=6, freq="8h", tz="UTC")}
    ).assign(funding_rate=[1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 6e-4])
    five.to_feather(candle_file(folder, PAIR, "5m"))
    hour.to_feather(candle_file(folder, PAIR, "1h"))
    mark.to_feather(candle_file(folder, PAIR, "1h", "mark"))
    funding.to_feather(candle_file(folder, PAIR, "1h", "funding_rate"))
    return folder


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> int:
        return int(self.now.timestamp() * 1000)


def _market(recording: Path, now: datetime, faults: Faults | None = None) -> RecordedMarket:
    return RecordedMarket(
        recording, PAIR, "BTC/USD:USD", "futures", FixedClock(now), BookModel(), faults
    )


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


# --- the clock ------------------------------------------------------------------------------


def test_clock_runs_the_process_in_virtual_time_at_speed(tmp_path: Path) -> None:
    state = tmp_path / "clock.json"
    clock = ReplayClock(T0, speed=3600, state_file=state, save_interval=0.05)
    clock.install()
    try:
        first = datetime.now(UTC)
        wall, mono = time.time(), time.monotonic()
        time.sleep(0.5)
        elapsed_virtual = time.time() - wall
        elapsed_real = time.monotonic() - mono
    finally:
        clock.uninstall()
    assert abs((first - T0).total_seconds()) < 3600  # within a real second of the start
    # 3600 virtual seconds per real second; monotonic time stays real.
    # Both clocks are read back to back; a busy machine may pause this thread between them.
    assert elapsed_virtual == pytest.approx(3600 * elapsed_real, rel=0.2)
    assert 0.5 <= elapsed_real < 2.0
    assert datetime.now(UTC).year >= 2026  # the real clock is back
    saved = read_clock_file(state)
    assert saved is not None and saved.speed == 3600
    assert saved.virtual_now > first
    assert saved.resume_at() == saved.virtual_now + timedelta(seconds=3600 * 0.05)


@pytest.mark.parametrize("speed", [0, -1, 1e9])
def test_clock_rejects_bad_speed(speed: float) -> None:
    with pytest.raises(ClockError, match="speed"):
        ReplayClock(T0, speed=speed)


def test_clock_rejects_naive_start_and_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(ClockError, match="timezone"):
        ReplayClock(datetime(2025, 6, 1))
    bad = tmp_path / "clock.json"
    bad.write_text("{not json")
    with pytest.raises(ClockError, match="not a replay clock file"):
        read_clock_file(bad)


# --- the recorded market: only what is known at `now` ---------------------------------------


def test_candles_are_closed_ones_plus_the_candle_in_progress_from_closed_5m(
    recording: Path,
) -> None:
    now = T0 + timedelta(hours=5, minutes=17)
    market = _market(recording, now)
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
    market = _market(recording, now)
    since = _ms(T0 - timedelta(hours=2))
    page = market.fetch_ohlcv("BTC/USD:USD", "1h", since=since, limit=4)
    assert [c[0] for c in page] == [since + h * 3_600_000 for h in range(4)]
    four = market.fetch_ohlcv("BTC/USD:USD", "4h")
    # 4h candles from the 1h file: 00:00 and 04:00 closed, 08:00 in progress; none later.
    assert four[-1][0] == _ms(T0 + timedelta(hours=8))
    assert four[-2][0] == _ms(T0 + timedelta(hours=4))
    hour = pd.read_feather(candle_file(recording, PAIR, "1h")).set_index("date")
    block = hour.loc[T0 + timedelta(hours=4) : T0 + timedelta(hours=7)]
    assert four[-2][2] == block["high"].max() and four[-2][4] == block["close"].iloc[-1]


def test_mark_funding_ticker_and_book(recording: Path) -> None:
    now = T0 + timedelta(hours=8, minutes=7)
    market = _market(recording, now)
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


def test_ticker_falls_back_to_coarser_candles_where_fine_ones_end(recording: Path) -> None:
    five = pd.read_feather(candle_file(recording, PAIR, "5m"))
    five.iloc[:100].to_feather(candle_file(recording, PAIR, "5m"))  # 5m ends early
    now = T0 + timedelta(hours=3, minutes=30)
    hour = pd.read_feather(candle_file(recording, PAIR, "1h")).set_index("date")
    assert (
        _market(recording, now).fetch_ticker("BTC/USD:USD")["last"]
        == hour.loc[T0 + timedelta(hours=2), "close"]
    )


def test_unknown_symbol_and_end_of_recording(recording: Path) -> None:
    market = _market(recording, T0 + timedelta(days=3))
    with pytest.raises(ccxt.BadSymbol):
        market.fetch_ohlcv("ETH/USD:USD", "1h")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="no price"):
        market.fetch_ticker("BTC/USD:USD")


def test_faults_exchange_down_and_frozen_candles(recording: Path, tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    now = T0 + timedelta(hours=6, minutes=30)
    market = _market(recording, now, Faults(path))
    assert market.fetch_ohlcv("BTC/USD:USD", "1h")[-1][0] == _ms(T0 + timedelta(hours=6))
    write_faults(path, FaultState(exchange_down=True))
    with pytest.raises(ccxt.NetworkError, match="fault injected"):
        market.fetch_ticker("BTC/USD:USD")
    with pytest.raises(ccxt.NetworkError):
        market.fetch_order_book("BTC/USD:USD")
    write_faults(path, FaultState(candles_frozen_at=T0 + timedelta(hours=2, minutes=10)))
    assert read_faults(path).candles_frozen_at == T0 + timedelta(hours=2, minutes=10)
    assert market.fetch_ohlcv("BTC/USD:USD", "1h")[-1][0] == _ms(T0 + timedelta(hours=2))
    write_faults(path, FaultState())
    assert not path.exists()
    assert market.fetch_ohlcv("BTC/USD:USD", "1h")[-1][0] == _ms(T0 + timedelta(hours=6))
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


def test_ccxt_object_answers_from_the_recording_and_refuses_account_calls(
    recording: Path,
) -> None:
    market = _market(recording, T0 + timedelta(hours=2))
    api = feed_ccxt(ccxt.krakenfutures(), market, sync=True)
    assert api.fetch_l2_order_book("BTC/USD:USD")["asks"]
    assert api.fetch_tickers(["BTC/USD:USD"])["BTC/USD:USD"]["last"] > 0
    with pytest.raises(ccxt.PermissionDenied, match="account call"):
        api.create_order("BTC/USD:USD", "market", "buy", 1)
    with pytest.raises(ccxt.PermissionDenied):
        api.fetch_balance()


# --- settings -------------------------------------------------------------------------------


def test_recorded_pair_choice(recording: Path) -> None:
    assert choose_recorded_pair(recording, "BTC/USD:USD", "futures") == PAIR
    assert choose_recorded_pair(recording, PAIR, "futures") == PAIR
    with pytest.raises(ReplayError, match="no spot pairs"):
        choose_recorded_pair(recording, "BTC/USD", "spot")


def test_overlay_forces_dry_run_without_keys(recording: Path, tmp_path: Path) -> None:
    settings = ReplaySettings(recording=recording, name="x", root=tmp_path, speed=600)
    config = {"freqai": {"enabled": True, "identifier": "meta"}, "internals": {}}
    overlay = replay_overlay(settings, config)
    assert overlay["dry_run"] is True
    assert overlay["exchange"]["key"] == "" and overlay["exchange"]["secret"] == ""
    assert overlay["db_url"].endswith(f"{tmp_path.name}/x/tradesv3.replay.sqlite")
    assert overlay["freqai"]["identifier"] == "replay-x-meta"
    assert overlay["bitbot"]["markets"] == "snapshot"
    assert overlay["internals"]["heartbeat_interval"] == 60 * 600


def test_new_replay_needs_a_start_inside_the_recording(recording: Path, tmp_path: Path) -> None:
    config = ["-c", "user_data/config.json", "-s", "EqualVoteStrategy"]
    with pytest.raises(ReplayError, match="give --start"):
        run_replay(ReplaySettings(recording=recording, root=tmp_path), config)
    late = ReplaySettings(recording=recording, root=tmp_path, start=T0 + timedelta(days=30))
    with pytest.raises(ReplayError, match="outside the recording"):
        run_replay(late, config)
    with pytest.raises(ValueError, match="not a folder"):
        run_replay(ReplaySettings(recording=tmp_path / "nope", start=T0), config)


def test_promoted_model_replays_out_of_sample_by_default(
    recording: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"bitbot": {"model_id": 7, "trained_until": "2025-05-30"}}
    settings = ReplaySettings(recording=recording, root=tmp_path)
    assert _out_of_sample_start(settings, config).start == datetime(2025, 5, 31, tzinfo=UTC)
    early = ReplaySettings(
        recording=recording, root=tmp_path, start=datetime(2025, 5, 1, tzinfo=UTC)
    )
    assert _out_of_sample_start(early, config).start == early.start
    assert "in-sample" in caplog.text


def test_promoted_model_is_copied_never_written(recording: Path, tmp_path: Path) -> None:
    user_data = tmp_path / "user_data"
    promoted = user_data / "models" / "promoted-7"
    (promoted / "sub-train-BTC_1").mkdir(parents=True)
    (promoted / "sub-train-BTC_1" / "model.zip").write_bytes(b"model")
    sub = str(promoted / "sub-train-BTC_1")
    (promoted / "pair_dictionary.json").write_text(json.dumps({"BTC/USD:USD": {"data_path": sub}}))
    config = {
        "user_data_dir": str(user_data),
        "freqai": {"enabled": True, "identifier": "promoted-7"},
        "bitbot": {"model_id": 7},
    }
    settings = ReplaySettings(recording=recording, root=tmp_path / "replays", name="r")
    folder = prepare_models(settings, config)
    assert folder == user_data / "models" / "replay-r-promoted-7"
    assert (folder / "sub-train-BTC_1" / "model.zip").read_bytes() == b"model"
    # FreqAI loads the model from the pair dictionary's data_path: the copy, not the original.
    copied = json.loads((folder / "pair_dictionary.json").read_text())
    assert copied["BTC/USD:USD"]["data_path"] == str(folder / "sub-train-BTC_1")
    assert json.loads((promoted / "pair_dictionary.json").read_text())["BTC/USD:USD"] == {
        "data_path": sub
    }
    assert replay_overlay(settings, config)["freqai"]["identifier"] == "replay-r-promoted-7"
    config["freqai"]["identifier"] = "promoted-8"
    config["bitbot"]["model_id"] = 8
    with pytest.raises(ReplayError, match="promoted model 8"):
        prepare_models(settings, config)


# --- review fixes: safety, resume, slicing, faults ------------------------------------------


@pytest.mark.parametrize("name", ["..", "", "a/b", "-x"])
def test_replay_names_cannot_escape_the_replay_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ReplayError, match="replay name"):
        ReplaySettings(recording=tmp_path, name=name, root=tmp_path)


def test_the_environment_cannot_turn_a_replay_live(tmp_path: Path) -> None:
    settings = ReplaySettings(recording=tmp_path, name="x", root=tmp_path)
    env = forced_environment(settings)
    assert env["FREQTRADE__DRY_RUN"] == "true"
    assert env["FREQTRADE__DB_URL"] == f"sqlite:///{settings.db_path.resolve()}"
    assert env["FREQTRADE__EXCHANGE__KEY"] == env["FREQTRADE__EXCHANGE__SECRET"] == ""
    assert env["FREQTRADE__TELEGRAM__ENABLED"] == "false"
    assert env["BITBOT_MARKETS"] == "snapshot"
    with_telegram = ReplaySettings(recording=tmp_path, name="x", root=tmp_path, telegram=True)
    assert "FREQTRADE__TELEGRAM__ENABLED" not in forced_environment(with_telegram)
    db = settings.db_path
    good = {"dry_run": True, "db_url": f"sqlite:///{db.resolve()}", "exchange": {"key": ""}}
    check_replay_config(good, db)
    for bad, why in (
        ({**good, "dry_run": False}, "dry_run"),
        ({**good, "db_url": "sqlite:///tradesv3.dryrun.sqlite"}, "db_url"),
        ({**good, "exchange": {"key": "k", "secret": "s"}}, "keys"),
    ):
        with pytest.raises(ReplayError, match=why):
            check_replay_config(bad, db)


def test_no_request_leaves_a_replayed_ccxt_object(recording: Path) -> None:
    api = feed_ccxt(ccxt.krakenfutures(), _market(recording, T0), sync=True)
    with pytest.raises(ccxt.PermissionDenied, match="no request leaves a replay"):
        api.load_markets()  # not a replayed call: it reaches the HTTP primitive, which refuses


def test_resume_is_never_before_the_database(tmp_path: Path) -> None:
    db = tmp_path / "trades.sqlite"
    assert newest_db_time(db) is None
    with closing(sqlite3.connect(db)) as con:
        con.execute("CREATE TABLE trades (open_date TEXT, close_date TEXT)")
        con.execute(
            "CREATE TABLE orders (order_date TEXT, order_filled_date TEXT, order_update_date TEXT)"
        )
        con.execute("INSERT INTO trades VALUES ('2025-06-02 10:00:00.000000', NULL)")
        con.execute(
            "INSERT INTO orders VALUES ('2025-06-02 10:00:00', '2025-06-02 11:30:00.5', NULL)"
        )
        con.commit()
    assert newest_db_time(db) == datetime(2025, 6, 2, 11, 30, 0, 500000, tzinfo=UTC)


def test_candle_pages_are_sliced_as_an_exchange_serves_them(recording: Path) -> None:
    now = T0 + timedelta(hours=9, minutes=30)
    market = _market(recording, now)
    whole = market.fetch_ohlcv("BTC/USD:USD", "5m", limit=100_000)
    last = market.fetch_ohlcv("BTC/USD:USD", "5m", limit=10)
    assert last == whole[-10:] and last[-1][0] == _ms(now - timedelta(minutes=0))
    since = whole[50][0]
    assert market.fetch_ohlcv("BTC/USD:USD", "5m", since=since, limit=7) == whole[50:57]
    # A page reaching now ends with the candle in progress, as the whole list does.
    assert market.fetch_ohlcv("BTC/USD:USD", "5m", since=whole[-3][0], limit=7) == whole[-3:]


def test_a_broken_faults_file_keeps_the_faults_in_force(recording: Path, tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    faults = Faults(path)
    write_faults(path, FaultState(exchange_down=True))
    assert faults.state().exchange_down
    path.write_text('{"exchange_down": "false"}')  # a string, not a boolean
    assert faults.state().exchange_down  # kept, and logged
    with pytest.raises(ValueError, match="true or false"):
        read_faults(path)


def test_book_levels_stay_a_tick_apart_when_the_tick_is_coarse() -> None:
    bids, asks = BookModel(spread_bps=2, step_bps=0.1, levels=5, tick=10.0).book(100_000.0)
    assert [p for p, _ in bids] == [99_990.0, 99_980.0, 99_970.0, 99_960.0, 99_950.0]
    assert [p for p, _ in asks] == [100_010.0, 100_020.0, 100_030.0, 100_040.0, 100_050.0]
