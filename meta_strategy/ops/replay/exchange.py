"""
Freqtrade's exchange, fed by a :class:`~meta_strategy.ops.replay.market.RecordedMarket`.

:func:`install_replay_exchange` patches ``Exchange._init_ccxt`` so that the ccxt objects
Freqtrade builds (the synchronous ``_api`` and the asynchronous ``_api_async``) answer the
market-data calls from the recording. Everything above ccxt is Freqtrade's own code, unchanged:
candle refresh and the dropping of the candle in progress, dry-run order fills against the
order book, funding fees from mark candles and funding rates, the REST API, Telegram.

Account calls (balances, positions, orders) are never made in dry-run; if one is, it raises,
so a replay can never reach a real account. Markets and leverage tiers still come from the
markets snapshot (:mod:`meta_strategy.data.markets`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import ccxt

from meta_strategy.freqtrade_bridge import patch_exchange_ccxt
from meta_strategy.ops.replay.errors import ReplayError
from meta_strategy.ops.replay.market import RecordedMarket


logger = logging.getLogger(__name__)

MARKET_DATA_CALLS = {
    "fetch_ohlcv": "fetch_ohlcv",
    "fetch_funding_rate_history": "fetch_funding_rate_history",
    "fetch_funding_rate": "fetch_funding_rate",
    "fetch_ticker": "fetch_ticker",
    "fetch_tickers": "fetch_tickers",
    "fetch_bids_asks": "fetch_tickers",
    "fetch_order_book": "fetch_order_book",
    "fetch_l2_order_book": "fetch_order_book",
    "fetch_time": "fetch_time",
}
ACCOUNT_CALLS = (
    "create_order",
    "cancel_order",
    "edit_order",
    "fetch_balance",
    "fetch_positions",
    "fetch_order",
    "fetch_orders",
    "fetch_open_orders",
    "fetch_closed_orders",
    "fetch_my_trades",
    "set_leverage",
    "set_margin_mode",
)


def _async(call: Any) -> Any:
    async def method(*args: Any, **kwargs: Any) -> Any:
        return call(*args, **kwargs)

    return method


def _refuse(name: str, sync: bool) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise ccxt.PermissionDenied(
            f"replay: {name} is an account call; a replay runs in dry-run only and never "
            f"reaches an exchange account"
        )

    async def afail(*args: Any, **kwargs: Any) -> Any:
        return fail()

    return fail if sync else afail


def _no_network(sync: bool) -> Any:
    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ccxt.PermissionDenied(f"replay: no request leaves a replay ({url})")

    async def afetch(url: str, *args: Any, **kwargs: Any) -> Any:
        return fetch(url)

    return fetch if sync else afetch


def feed_ccxt(api: ccxt.Exchange, market: RecordedMarket, sync: bool) -> ccxt.Exchange:
    """
    Route one ccxt object's market-data calls to the recording, refuse account calls, and cut
    the object's HTTP primitive (``fetch``), so that no call this module does not know about
    can reach the exchange either.

    :param api: the ccxt object (sync or async)
    :param market: the recording
    :param sync: whether ``api`` is the synchronous one
    :return: ``api``, patched in place
    """
    for name, target in MARKET_DATA_CALLS.items():
        call = getattr(market, target)
        setattr(api, name, call if sync else _async(call))
    for name in ACCOUNT_CALLS:
        setattr(api, name, _refuse(name, sync))
    api.fetch = _no_network(sync)
    api.has = {**api.has, "fetchBidsAsks": False, "fetchTickers": True, "fetchL2OrderBook": True}
    return api


def check_replay_config(config: dict[str, Any], db_path: Path) -> None:
    """
    :param config: the configuration Freqtrade runs with
    :param db_path: the replay's trade database
    :raises ReplayError: not dry-run, another database, or exchange keys
    """
    problems = []
    if config.get("dry_run") is not True:
        problems.append("dry_run is not true")
    if config.get("db_url") != f"sqlite:///{db_path.resolve()}":
        problems.append(f"db_url is {config.get('db_url')!r}, not the replay's {db_path}")
    exchange = config.get("exchange") or {}
    if any(exchange.get(k) for k in ("key", "secret", "password", "uid")):
        problems.append("exchange keys are set")
    if problems:
        raise ReplayError("refusing to replay: " + "; ".join(problems))


def install_replay_exchange(market: RecordedMarket, db_path: Path) -> None:
    """
    Make every Freqtrade ``Exchange`` built from now on in this process trade on ``market``
    (:func:`meta_strategy.freqtrade_bridge.patch_exchange_ccxt`), after checking that it runs
    in dry-run on the replay's database without exchange keys.

    :param market: the recording to serve
    :param db_path: the replay's trade database
    """

    def feed(exchange: Any, api: ccxt.Exchange, sync: bool) -> ccxt.Exchange:
        check_replay_config(exchange._config, db_path)
        return feed_ccxt(api, market, sync)

    patch_exchange_ccxt(feed)
    logger.info("Replay: %s is served from %s.", market.pair, market.recording)
