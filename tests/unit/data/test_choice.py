"""The data ``make backtest`` runs on (meta_strategy.data.choice): real, downloaded or synthetic."""

from __future__ import annotations

from pathlib import Path

from meta_strategy.data.choice import resolve_backtest_data
from meta_strategy.paths import BINANCE_OVERLAY, KRAKEN_CONFIG


def _never_online() -> bool:
    return False


def test_resolution_prefers_bitbot_data(binance_datadir: Path, tmp_path: Path) -> None:
    choice = resolve_backtest_data({"BITBOT_DATA": str(binance_datadir)}, tmp_path, _never_online)
    assert choice.pair == "BTC/USDT:USDT" and not choice.synthetic
    assert choice.configs == (KRAKEN_CONFIG, BINANCE_OVERLAY)
    assert choice.timerange == "20220101-"


def test_resolution_falls_back_to_synthetic_offline(tmp_path: Path) -> None:
    choice = resolve_backtest_data({}, tmp_path, _never_online)
    assert choice.synthetic and choice.pair == "BTC/USD:USD"
    assert choice.configs == (KRAKEN_CONFIG,)
    online = resolve_backtest_data({}, tmp_path, lambda: True)
    assert online.download and not online.synthetic


def test_resolution_uses_downloaded_kraken_data(tmp_path: Path) -> None:
    path = tmp_path / "data" / "krakenfutures" / "futures" / "BTC_USD_USD-1h-futures.feather"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    choice = resolve_backtest_data({}, tmp_path, _never_online)
    assert choice.datadir == tmp_path / "data" / "krakenfutures" and not choice.download
