"""
Freqtrade's exchange, fed by a :class:`~meta_strategy.replay.market.RecordedMarket`.

:func:`install_replay_exchange` patches ``Exchange._init_ccxt`` so that the ccxt objects
Freqtrade builds (the synchronous ``_api`` and the asynchronous ``_api_async``) answer the
market-data calls from the recording. Everything above ccxt is Freqtrade's own code, unchanged:
candle refresh and the dropping of the candle in progress, dry-run order fills against the
order book, funding fees from mark candles and funding rates, the REST API, Telegram.

Account calls (balances, positions, orders) are never made in dry-run; if one is, it raises,
so a replay can never reach a real account. Markets and leverage tiers still come from the
markets snapshot (:mod:`meta_strategy.markets`).
"""

from __future__ import annotations

import logging
from typing import Any

import ccxt

from meta_strategy.replay.market import RecordedMarket


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

_market: RecordedMarket | None = None


def _sync(call: Any) -> Any:
    def method(*args: Any, **kwargs: Any) -> Any:
        return call(*args, **kwargs)

    return method


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


def feed_ccxt(api: ccxt.Exchange, market: RecordedMarket, sync: bool) -> ccxt.Exchange:
    """
    Route one ccxt object's market-data calls to the recording and refuse account calls.

    :param api: the ccxt object (sync or async)
    :param market: the recording
    :param sync: whether ``api`` is the synchronous one
    :return: ``api``, patched in place
    """
    wrap = _sync if sync else _async
    for name, target in MARKET_DATA_CALLS.items():
        setattr(api, name, wrap(getattr(market, target)))
    for name in ACCOUNT_CALLS:
        setattr(api, name, _refuse(name, sync))
    api.has = {**api.has, "fetchBidsAsks": False, "fetchTickers": True, "fetchL2OrderBook": True}
    return api


def install_replay_exchange(market: RecordedMarket) -> None:
    """
    Make every Freqtrade ``Exchange`` built from now on in this process trade on ``market``.

    :param market: the recording to serve
    """
    global _market
    from freqtrade.exchange.exchange import Exchange

    if _market is None:
        original = Exchange._init_ccxt

        def _init_ccxt(self: Exchange, exchange_config: dict, sync: bool, *args: Any) -> Any:
            api = original(self, exchange_config, sync, *args)
            assert _market is not None
            return feed_ccxt(api, _market, sync)

        Exchange._init_ccxt = _init_ccxt  # type: ignore[method-assign]
    _market = market
    logger.info("Replay: %s is served from %s.", market.pair, market.recording)
