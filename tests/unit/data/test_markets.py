"""Markets snapshots: built through ccxt's parsers, loaded with clear errors, used by Freqtrade."""

from __future__ import annotations

import json
from pathlib import Path

import ccxt
import pytest
from freqtrade.exceptions import OperationalException

from meta_strategy.data import markets
from tests.helpers.freqtrade import REPO
from tests.helpers.markets import SHIPPED, raw_responses


def test_kraken_snapshot_is_ccxts_own_parse_of_the_documented_instrument() -> None:
    snap = markets.build_snapshot_from_raw(
        "krakenfutures", raw_responses("krakenfutures"), ["BTC/USD:USD"]
    )
    market = snap.markets["BTC/USD:USD"]
    assert market["id"] == "PF_XBTUSD"
    assert market["linear"] and market["swap"] and market["settle"] == "USD"
    assert market["precision"] == {"amount": 0.0001, "price": 1.0}
    tiers = snap.leverage_tiers["BTC/USD:USD"]
    # Kraken: initial margin 2 % up to 500k notional -> 50x; 50 % above 30M -> 2x.
    assert [t["maxLeverage"] for t in tiers] == pytest.approx([50, 25, 10, 5, 10 / 3, 2])
    assert [t["maintenanceMarginRate"] for t in tiers] == [0.01, 0.02, 0.05, 0.1, 0.15, 0.25]
    assert [t["minNotional"] for t in tiers] == [0, 5e5, 2e6, 5e6, 1e7, 3e7]


def test_shipped_snapshots_equal_a_fresh_build() -> None:
    """The files in user_data/markets are reproducible from their raw sources."""
    for exchange, pair in (("krakenfutures", "BTC/USD:USD"), ("binance", "BTC/USDT:USDT")):
        shipped = markets.load_snapshot(SHIPPED / f"{exchange}.json", exchange=exchange)
        fresh = markets.build_snapshot_from_raw(exchange, raw_responses(exchange), [pair])
        assert json.loads(json.dumps(fresh.markets)) == shipped.markets
        assert json.loads(json.dumps(fresh.leverage_tiers)) == shipped.leverage_tiers
        assert "refresh" in json.loads((SHIPPED / f"{exchange}.json").read_text())
        assert shipped.source, "a snapshot must say where its figures come from"


def test_binance_snapshot_uses_freqtrades_tiers() -> None:
    snap = markets.load_snapshot(SHIPPED / "binance.json", exchange="binance")
    market = snap.markets["BTC/USDT:USDT"]
    assert market["id"] == "BTCUSDT"
    assert market["limits"]["cost"]["min"] == 100.0
    assert snap.leverage_tiers["BTC/USDT:USDT"][0]["maxLeverage"] == 150.0


def test_unknown_pair_is_named() -> None:
    with pytest.raises(markets.SnapshotError, match=r"Unknown pair\(s\) on krakenfutures: DOGE"):
        markets.build_snapshot_from_raw(
            "krakenfutures", raw_responses("krakenfutures"), ["DOGE/USD:USD"]
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("{not json", "is not valid JSON"),
        ('{"format": 1}', "has no 'markets' object"),
        ('{"format": 99, "markets": {}}', "has format 99"),
        ('{"format": 1, "exchange": "binance", "markets": {}}', "is for exchange 'binance'"),
        (
            '{"format": 1, "exchange": "krakenfutures", "markets": {"X/Y": {"id": "x"}}}',
            "market 'X/Y' lacks symbol",
        ),
    ],
)
def test_bad_snapshot_files_give_clear_errors(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "krakenfutures.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(markets.SnapshotError, match=message) as info:
        markets.load_snapshot(path, exchange="krakenfutures")
    assert str(path) in str(info.value)


def test_markets_mode_resolution() -> None:
    assert markets.markets_mode({}, env={}) == "auto"
    assert markets.markets_mode({"bitbot": {"markets_snapshot": "x.json"}}, env={}) == "snapshot"
    assert markets.markets_mode({}, env={markets.ENV_SNAPSHOT: "x.json"}) == "snapshot"
    assert markets.markets_mode({"bitbot": {"markets": "live"}}, env={}) == "live"
    with pytest.raises(markets.SnapshotError, match="expected one of auto, snapshot, live"):
        markets.markets_mode({"bitbot": {"markets": "sometimes"}}, env={})
    config = {"exchange": {"name": "krakenfutures"}, "user_data_dir": "ud"}
    assert markets.snapshot_path(config, env={}) == Path("ud/markets/krakenfutures.json")


def _exchange_config(tmp_path: Path, **bitbot: str) -> dict:
    from freqtrade.configuration import Configuration

    config = Configuration.from_files([str(REPO / "user_data" / "config.json")])
    config["user_data_dir"] = tmp_path
    config["datadir"] = tmp_path / "data"
    config["bitbot"] = {**config.get("bitbot", {}), **bitbot}
    return config


def _load_exchange(config: dict):
    from freqtrade.resolvers import ExchangeResolver

    markets.install_offline_markets()
    return ExchangeResolver.load_exchange(config, load_leverage_tiers=True)


def test_freqtrade_uses_configured_snapshot(tmp_path: Path) -> None:
    config = _exchange_config(
        tmp_path, markets_snapshot=str(SHIPPED / "krakenfutures.json"), markets="snapshot"
    )
    exchange = _load_exchange(config)
    assert list(exchange.markets) == ["BTC/USD:USD"]
    assert exchange.get_max_leverage("BTC/USD:USD", 1_000) == 50.0
    # Freqtrade picks the tier by stake: 50k at 25x is 1.25M notional, inside 500k..2M.
    assert exchange.get_max_leverage("BTC/USD:USD", 50_000) == 25.0
    assert exchange.get_maintenance_ratio_and_amt("BTC/USD:USD", 10_000)[0] == 0.01
    exchange.close()


def _unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(self, *args, **kwargs):
        raise ccxt.NetworkError("simulated: no route to host")

    monkeypatch.setattr(ccxt.async_support.Exchange, "load_markets", fail)
    monkeypatch.setattr(ccxt.pro.Exchange, "load_markets", fail, raising=False)


def test_freqtrade_falls_back_to_snapshot_when_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unreachable(monkeypatch)
    (tmp_path / "markets").mkdir()
    (tmp_path / "markets" / "krakenfutures.json").write_text(
        (SHIPPED / "krakenfutures.json").read_text()
    )
    exchange = _load_exchange(_exchange_config(tmp_path, markets="auto"))
    assert "BTC/USD:USD" in exchange.markets
    assert exchange._leverage_tiers["BTC/USD:USD"][0]["maxLeverage"] == 50.0
    exchange.close()


def test_missing_snapshot_while_offline_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unreachable(monkeypatch)
    with pytest.raises(OperationalException, match="cannot be reached") as info:
        _load_exchange(_exchange_config(tmp_path, markets="auto"))
    assert "bitbot markets snapshot --exchange krakenfutures" in str(info.value)
    assert str(tmp_path / "markets" / "krakenfutures.json") in str(info.value)


def test_live_mode_does_not_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unreachable(monkeypatch)
    (tmp_path / "markets").mkdir()
    (tmp_path / "markets" / "krakenfutures.json").write_text(
        (SHIPPED / "krakenfutures.json").read_text()
    )
    with pytest.raises(OperationalException):
        _load_exchange(_exchange_config(tmp_path, markets="live"))


def test_environment_snapshot_beats_config_mode() -> None:
    config = {"bitbot": {"markets": "auto"}}
    assert markets.markets_mode(config, env={markets.ENV_SNAPSHOT: "x.json"}) == "snapshot"
    assert (
        markets.markets_mode(config, env={markets.ENV_MODE: "live", markets.ENV_SNAPSHOT: "x.json"})
        == "live"
    )


def test_installing_offline_markets_twice_patches_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The patch marks its replacements (``_bitbot_patch``) and is not wrapped a second time."""
    from freqtrade.exchange.exchange import Exchange

    names = ("_api_reload_markets", "fill_leverage_tiers", "check_time_offset")
    for name in names:  # undone after the test
        monkeypatch.setattr(Exchange, name, getattr(Exchange, name))
    markets.install_offline_markets()
    patched = {name: getattr(Exchange, name) for name in names}
    assert all(getattr(f, "_bitbot_patch", False) for f in patched.values()), patched
    markets.install_offline_markets()
    assert {name: getattr(Exchange, name) for name in names} == patched
