"""
Markets snapshots: exchange market definitions and leverage tiers stored in a file.

Freqtrade loads an exchange's markets (and, for futures, its leverage tiers) over the network at
start-up. A snapshot lets every Freqtrade command run offline, and pins the market definitions a
backtest was run with. A snapshot holds exactly what ccxt produces online:

* ``markets``: ``{symbol: market}`` as returned by ``ccxt.Exchange.fetch_markets()``;
* ``leverage_tiers``: ``{symbol: [tier, ...]}`` as returned by ``fetch_leverage_tiers()``.

Snapshots are made in one of two ways, both through ccxt's own parsers:

* online, ``bitbot markets snapshot --exchange krakenfutures --pairs BTC/USD:USD`` asks the
  exchange (:func:`fetch_snapshot`);
* offline, ``bitbot markets build --raw FILE`` feeds raw API responses saved in a file (for
  example the exchange's documented sample response) to ccxt's parsers
  (:func:`build_snapshot_from_raw`).

:func:`install_offline_markets` patches Freqtrade's ``Exchange`` so that markets and leverage
tiers come from the snapshot when one is configured, or when the exchange cannot be reached.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ccxt

from meta_strategy.freqtrade_bridge import MarketsAndTiers, PreflightError, patch_exchange_markets
from meta_strategy.paths import MARKETS_DIR, under_user_data


logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
ENV_SNAPSHOT = "BITBOT_MARKETS_SNAPSHOT"
"""Environment variable: path of a snapshot to use, whatever the config says."""
ENV_MODE = "BITBOT_MARKETS"
"""Environment variable: ``auto`` (default), ``snapshot`` or ``live``."""

MARKETS_MODES = ("auto", "snapshot", "live")

# The raw-API methods each exchange's fetch_markets calls (Kraken's fetch_leverage_tiers calls
# the same one; Binance's brackets default to Freqtrade's copy). A raw file maps these names to
# the response bodies that ccxt's parsers receive.
RAW_MARKET_METHODS: dict[str, tuple[str, ...]] = {
    "krakenfutures": ("publicGetInstruments",),
    "binance": ("fapiPublicGetExchangeInfo",),
}


class SnapshotError(PreflightError, ValueError):
    """A markets snapshot is missing, corrupt, or does not fit the configuration."""

    label = "markets error"


@dataclass(frozen=True)
class MarketsSnapshot:
    """Market definitions and leverage tiers of one exchange, as ccxt parses them."""

    exchange: str
    markets: dict[str, dict[str, Any]]
    leverage_tiers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    created: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """:return: the JSON document written to disk."""
        return {
            "format": SNAPSHOT_FORMAT,
            "exchange": self.exchange,
            "created": self.created,
            "source": self.source,
            "notes": list(self.notes),
            "refresh": (
                f"bitbot markets snapshot --exchange {self.exchange} "
                f"--pairs {' '.join(sorted(self.markets))}"
            ),
            "ccxt_version": ccxt.__version__,
            "markets": self.markets,
            "leverage_tiers": self.leverage_tiers,
        }


def default_snapshot_path(exchange: str, user_data_dir: Path | str | None = None) -> Path:
    """
    :param exchange: ccxt exchange id
    :param user_data_dir: Freqtrade's user_data directory (default: ``user_data``)
    :return: where ``bitbot markets snapshot`` saves and the offline fallback looks
    """
    return under_user_data(MARKETS_DIR, user_data_dir) / f"{exchange}.json"


def save_snapshot(snapshot: MarketsSnapshot, path: Path) -> Path:
    """
    Write a snapshot as indented JSON.

    :param snapshot: the snapshot
    :param path: target file; parent folders are created
    :return: the path written
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot.to_json(), indent=2, sort_keys=False) + "\n")
    logger.info(
        "Saved markets snapshot of %s (%d markets) to %s",
        snapshot.exchange,
        len(snapshot.markets),
        path,
    )
    return path


def load_snapshot(path: Path, exchange: str | None = None) -> MarketsSnapshot:
    """
    Read and check a snapshot file.

    :param path: snapshot file
    :param exchange: when given, the snapshot must be of this exchange
    :return: the snapshot
    :raises SnapshotError: missing or corrupt file, wrong exchange, malformed markets
    """
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(
            f"Markets snapshot {path} not found. While online, create it with "
            f"`bitbot markets snapshot --exchange {exchange or '<exchange>'} --pairs <pairs>`."
        )
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SnapshotError(f"Markets snapshot {path} is not valid JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("markets"), dict):
        raise SnapshotError(f"Markets snapshot {path} has no 'markets' object.")
    if doc.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"Markets snapshot {path} has format {doc.get('format')!r}; "
            f"this version of BitBot reads format {SNAPSHOT_FORMAT}."
        )
    snap_exchange = doc.get("exchange")
    if exchange is not None and snap_exchange != exchange:
        raise SnapshotError(
            f"Markets snapshot {path} is for exchange {snap_exchange!r}, "
            f"but the configuration uses {exchange!r}."
        )
    for symbol, market in doc["markets"].items():
        missing = [
            k for k in ("id", "symbol", "base", "quote", "precision", "limits") if k not in market
        ]
        if missing:
            raise SnapshotError(
                f"Markets snapshot {path}: market {symbol!r} lacks {', '.join(missing)}."
            )
    tiers = doc.get("leverage_tiers") or {}
    if not isinstance(tiers, dict):
        raise SnapshotError(f"Markets snapshot {path}: 'leverage_tiers' must be an object.")
    return MarketsSnapshot(
        exchange=snap_exchange,
        markets=doc["markets"],
        leverage_tiers=tiers,
        created=doc.get("created", ""),
        source=doc.get("source", ""),
        notes=tuple(doc.get("notes", ())),
    )


def _make_exchange(exchange: str, trading_mode: str) -> ccxt.Exchange:
    if not hasattr(ccxt, exchange):
        raise SnapshotError(f"Exchange {exchange!r} is not known to ccxt {ccxt.__version__}.")
    options: dict[str, Any] = {}
    if trading_mode == "futures":
        options["defaultType"] = "swap"
        if exchange == "binance":
            options["fetchMarkets"] = {"types": ["linear"]}
    return getattr(ccxt, exchange)({"options": options, "timeout": 20_000})


def _select(markets: dict[str, dict], pairs: Iterable[str], exchange: str) -> dict[str, dict]:
    pairs = list(pairs)
    if not pairs:
        return markets
    unknown = [p for p in pairs if p not in markets]
    if unknown:
        close = sorted(s for s in markets if s.split("/")[0] in {p.split("/")[0] for p in unknown})
        raise SnapshotError(
            f"Unknown pair(s) on {exchange}: {', '.join(unknown)}. "
            f"Markets with the same base: {', '.join(close[:10]) or 'none'}."
        )
    return {p: markets[p] for p in pairs}


def _snapshot_from_exchange(
    api: ccxt.Exchange, pairs: Iterable[str], source: str, notes: Iterable[str] = ()
) -> MarketsSnapshot:
    markets = {m["symbol"]: m for m in api.fetch_markets()}
    api.set_markets(list(markets.values()))
    selected = _select(markets, pairs, api.id)
    tiers: dict[str, list[dict]] = {}
    if any(m.get("contract") for m in selected.values()) and api.has.get("fetchLeverageTiers"):
        all_tiers = api.fetch_leverage_tiers(list(selected))
        tiers = {s: all_tiers[s] for s in selected if s in all_tiers}
    return MarketsSnapshot(
        exchange=api.id,
        markets=selected,
        leverage_tiers=tiers,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        notes=tuple(notes),
    )


def fetch_snapshot(
    exchange: str,
    pairs: Iterable[str],
    trading_mode: str = "futures",
    *,
    api_key: str | None = None,
    secret: str | None = None,
) -> MarketsSnapshot:
    """
    Ask the exchange for its markets and leverage tiers (needs network).

    Binance's leverage brackets are a private endpoint: pass keys (from the environment) or the
    snapshot falls back to the tiers Freqtrade ships for Binance.

    :param exchange: ccxt exchange id
    :param pairs: unified symbols to keep (all markets when empty)
    :param trading_mode: "futures" or "spot"
    :return: the snapshot
    """
    api = _make_exchange(exchange, trading_mode)
    if api_key:
        api.apiKey, api.secret = api_key, secret
    notes = [f"Fetched live from {exchange} with ccxt {ccxt.__version__}."]
    if exchange == "binance" and not api_key and trading_mode == "futures":
        api.fapiPrivateGetLeverageBracket = _freqtrade_binance_brackets  # type: ignore[method-assign]
        notes.append(
            "Leverage tiers: the copy Freqtrade ships (binance_leverage_tiers.json), "
            "because Binance serves them only to authenticated users."
        )
    return _snapshot_from_exchange(api, pairs, source=f"live {exchange} API", notes=notes)


def _freqtrade_binance_brackets(params: dict | None = None) -> list[dict]:
    """Raw ``/fapi/v1/leverageBracket`` body rebuilt from the tiers Freqtrade ships."""
    import freqtrade.exchange as ft_exchange

    path = Path(ft_exchange.__file__).parent / "binance_leverage_tiers.json"
    tiers = json.loads(path.read_text())
    out = []
    for symbol, tier_list in tiers.items():
        # Perpetuals only: "BTC/USDT:USDT" -> "BTCUSDT"; dated contracts ("...-260925") differ.
        if tier_list and "-" not in symbol:
            raw_symbol = symbol.replace("/", "").split(":")[0]
            out.append({"symbol": raw_symbol, "brackets": [t["info"] for t in tier_list]})
    return out


def build_snapshot_from_raw(
    exchange: str,
    raw: dict[str, Any],
    pairs: Iterable[str],
    trading_mode: str = "futures",
    source: str = "",
    notes: Iterable[str] = (),
) -> MarketsSnapshot:
    """
    Build a snapshot offline by feeding raw API responses to ccxt's own parsers.

    ``raw`` maps the ccxt raw-API method name (``publicGetInstruments`` for Kraken futures,
    ``fapiPublicGetExchangeInfo`` and ``fapiPrivateGetLeverageBracket`` for Binance USDⓈ-M)
    to the response body the exchange returns. Nothing goes over the network: the methods are
    replaced on the ccxt instance, so ``fetch_markets`` and ``fetch_leverage_tiers`` parse
    exactly what they would parse online.

    :param exchange: ccxt exchange id
    :param raw: method name -> response body
    :param pairs: unified symbols to keep
    :param trading_mode: "futures" or "spot"
    :param source: where the raw responses come from (written into the snapshot)
    :param notes: further provenance notes
    :return: the snapshot
    """
    api = _make_exchange(exchange, trading_mode)
    needed = set(RAW_MARKET_METHODS.get(exchange, ()))
    missing = sorted(needed - set(raw))
    if missing:
        raise SnapshotError(f"Raw responses for {exchange} lack {', '.join(missing)}.")

    def _replay(name: str) -> Callable[..., Any]:
        def call(params: dict | None = None, *args: Any, **kwargs: Any) -> Any:
            return raw[name]

        return call

    for name in raw:
        setattr(api, name, _replay(name))
    if exchange == "binance" and "fapiPrivateGetLeverageBracket" not in raw:
        api.fapiPrivateGetLeverageBracket = _freqtrade_binance_brackets  # type: ignore[method-assign]

    def _offline(*args: Any, **kwargs: Any) -> Any:
        raise SnapshotError(f"build_snapshot_from_raw: {exchange} needed a response not in raw.")

    api.fetch = _offline  # type: ignore[method-assign]
    return _snapshot_from_exchange(api, pairs, source=source, notes=notes)


# --------------------------------------------------------------------------------------------
# Freqtrade integration
# --------------------------------------------------------------------------------------------


def markets_mode(config: dict[str, Any], env: dict[str, str] | None = None) -> str:
    """
    How markets are obtained: ``snapshot`` (file only), ``live`` (network only) or ``auto``
    (network, falling back to the snapshot when the exchange cannot be reached).

    Precedence: ``$BITBOT_MARKETS``, then ``$BITBOT_MARKETS_SNAPSHOT`` (implies ``snapshot``),
    then ``bitbot.markets``, then ``bitbot.markets_snapshot`` (implies ``snapshot``).

    :param config: Freqtrade configuration
    :param env: environment (``os.environ`` by default)
    :return: the mode
    :raises SnapshotError: unknown mode
    """
    env = os.environ if env is None else env
    section = config.get("bitbot", {}) or {}
    if env.get(ENV_MODE):
        mode = env[ENV_MODE]
    elif env.get(ENV_SNAPSHOT):
        mode = "snapshot"  # The environment beats the config file.
    elif section.get("markets"):
        mode = section["markets"]
    else:
        mode = "snapshot" if section.get("markets_snapshot") else "auto"
    if mode not in MARKETS_MODES:
        raise SnapshotError(
            f"bitbot.markets / ${ENV_MODE} is {mode!r}; expected one of {', '.join(MARKETS_MODES)}."
        )
    return mode


def snapshot_path(config: dict[str, Any], env: dict[str, str] | None = None) -> Path:
    """
    :param config: Freqtrade configuration
    :param env: environment (``os.environ`` by default)
    :return: the snapshot file for this configuration's exchange
    """
    env = os.environ if env is None else env
    section = config.get("bitbot", {}) or {}
    configured = env.get(ENV_SNAPSHOT) or section.get("markets_snapshot")
    if configured:
        return Path(configured)
    return default_snapshot_path(config["exchange"]["name"].lower(), config.get("user_data_dir"))


def configured_markets(config: dict[str, Any], exchange: str) -> MarketsAndTiers | None:
    """
    :param config: Freqtrade configuration
    :param exchange: ccxt id of the exchange Freqtrade builds
    :return: the snapshot's markets and leverage tiers when the markets mode is ``snapshot``,
        None when Freqtrade should ask the exchange
    :raises SnapshotError: unknown mode, or the configured snapshot is missing or corrupt
    """
    if markets_mode(config) != "snapshot":
        return None
    return _from_snapshot(snapshot_path(config), exchange, "snapshot configured")


def markets_when_unreachable(
    config: dict[str, Any], exchange: str, error: Exception
) -> MarketsAndTiers:
    """
    :param config: Freqtrade configuration
    :param exchange: ccxt id of the exchange that cannot be reached
    :param error: Freqtrade's error (its cause is ccxt's network error)
    :return: the snapshot's markets and leverage tiers (markets mode ``auto``)
    :raises Exception: ``error`` again in markets mode ``live``
    :raises SnapshotError: there is no snapshot, or it is corrupt
    """
    if markets_mode(config) == "live":
        raise error
    path = snapshot_path(config)
    if not path.is_file():
        raise SnapshotError(
            f"{exchange} cannot be reached ({error.__cause__.__class__.__name__}) and there is "
            f"no markets snapshot at {path}. While online, run `bitbot markets snapshot "
            f"--exchange {exchange} --pairs <pairs>`, or point bitbot.markets_snapshot / "
            f"${ENV_SNAPSHOT} at a snapshot file."
        )
    return _from_snapshot(path, exchange, f"{exchange} unreachable")


def _from_snapshot(path: Path, exchange: str, reason: str) -> MarketsAndTiers:
    try:
        snap = load_snapshot(path, exchange=exchange)
    except SnapshotError as e:
        raise SnapshotError(f"{reason}: {e}") from e
    logger.info(
        "Markets of %s from snapshot %s (%s; created %s, %s)",
        exchange,
        path,
        reason,
        snap.created or "unknown",
        snap.source,
    )
    return list(snap.markets.values()), snap.leverage_tiers


def install_offline_markets() -> None:
    """
    Let every Freqtrade ``Exchange`` of this process take its markets and leverage tiers from a
    snapshot when one is configured (:func:`configured_markets`) or when the exchange cannot be
    reached (:func:`markets_when_unreachable`); the patch itself is
    :func:`meta_strategy.freqtrade_bridge.patch_exchange_markets` (idempotent).
    """
    patch_exchange_markets(configured_markets, markets_when_unreachable)
