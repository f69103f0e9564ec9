"""
Where Freqtrade keeps candle files, and what their names say.

Freqtrade 2026.9 names its files (``IDataHandler._pair_data_filename``)::

    <datadir>/<pair_s>-<tf>.feather                          spot
    <datadir>/futures/<pair_s>-<tf>-<candle_type>.feather    futures, mark, funding_rate

where ``pair_s`` is the pair with ``/``, ``:`` (and a few other characters) replaced by ``_``
(``freqtrade.misc.pair_to_filename``). OHLCV files hold ``date`` (datetime64[ms, UTC]), ``open``,
``high``, ``low``, ``close`` and ``volume`` (float64). Funding-rate files hold ``date`` and
``funding_rate`` (``freqtrade/candle_columns.py``); the legacy layout with the rate in ``open``
is still read. :class:`DataError` is the error every data check raises: its message names the
file and the problem.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from freqtrade.misc import pair_to_filename

from meta_strategy.data.timeframes import timeframe_sort_key
from meta_strategy.freqtrade_bridge import PreflightError
from meta_strategy.paths import ENV_DATADIR


logger = logging.getLogger(__name__)

OHLCV_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")

FUNDING_COLUMNS: tuple[str, ...] = ("date", "funding_rate")

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")

SYNTHETIC_MARKER = "SYNTHETIC.json"

DATA_FORMAT = "feather"


#: Timeframe of the mark and funding-rate files Freqtrade 2026.9 reads for futures
#: (``mark_ohlcv_timeframe`` / ``funding_fee_timeframe`` in ``exchange.py``).
FUNDING_TIMEFRAME = "1h"

MARK_TIMEFRAME = "1h"
CANDLE_FILE_PATTERN = re.compile(r"^([\w-]+)\-(\d+[a-zA-Z]{1,2})\-?([a-zA-Z_]*)?(?=\.)")
"""Freqtrade's pattern of candle file names (``IDataHandler._OHLCV_REGEX``; a test compares)."""


class DataError(PreflightError, ValueError):
    """
    A data file is missing, unreadable or inconsistent.

    The message always names the file (or folder) and the problem.
    :ivar path: the file or folder the problem is about
    :ivar problem: the description of the problem
    """

    label = "data error"

    def __init__(self, path: Path | str, problem: str) -> None:
        """
        :param path: the file or folder the problem is about
        :param problem: what is wrong; the path is prefixed unless the text already names it
        """
        self.path = Path(path)
        self.problem = problem
        message = problem if str(path) in problem else f"{path}: {problem}"
        super().__init__(message)


def candle_file(datadir: Path, pair: str, timeframe: str, candle_type: str = "futures") -> Path:
    """
    Where Freqtrade keeps (and looks for) one candle file, as its data handlers'
    ``_pair_data_filename`` (with Freqtrade's ``pair_to_filename``; a test compares the two).

    :param datadir: data folder, e.g. ``../shared/data/binance``
    :param pair: e.g. ``BTC/USD:USD``
    :param timeframe: e.g. ``1h`` (``1M`` is written ``1Mo`` as in Freqtrade)
    :param candle_type: ``spot`` (or ``""``), ``futures``, ``mark``, ``funding_rate``, ...
    :return: ``<datadir>/<pair_s>-<tf>.feather`` for spot,
        ``<datadir>/futures/<pair_s>-<tf>-<candle_type>.feather`` otherwise
    """
    datadir = Path(datadir)
    tf = timeframe.replace("M", "Mo")
    pair_s = pair_to_filename(pair)
    if candle_type in ("", "spot"):
        return datadir / f"{pair_s}-{tf}.{DATA_FORMAT}"
    return datadir / "futures" / f"{pair_s}-{tf}-{candle_type}.{DATA_FORMAT}"


def filename_to_pair(pair_s: str) -> str:
    """
    Pair from a file-name stem, as ``IDataHandler.rebuild_pair_from_filename``.

    :param pair_s: e.g. ``BTC_USDT_USDT``
    :return: e.g. ``BTC/USDT:USDT`` (first ``_`` -> ``/``, second -> ``:``)
    """
    return pair_s.replace("_", "/", 1).replace("_", ":", 1)


def parse_candle_filename(name: str) -> tuple[str, str, str] | None:
    """
    Pair, timeframe and candle type from a data file name, as Freqtrade's ``list-data``
    (``IDataHandler.ohlcv_get_available_data``, with its pattern :data:`CANDLE_FILE_PATTERN`).

    :param name: file name, e.g. ``BTC_USDT_USDT-1h-mark.feather``
    :return: ``(pair, timeframe, candle_type)``, candle type ``spot`` when the name has none;
        None for names that are not candle files (e.g. ``BTC_USDT-trades.feather``)
    """
    match = CANDLE_FILE_PATTERN.search(name)
    if not match:
        return None
    timeframe = re.sub("1mo", "1M", match[2], flags=re.IGNORECASE)
    return filename_to_pair(match[1]), timeframe, match[3] or "spot"


def detect_datasets(datadir: Path, ext: str = DATA_FORMAT) -> list[tuple[str, str, str]]:
    """
    Every candle file in a data folder (spot files and ``futures/``), from the file names.

    :param datadir: data folder
    :param ext: file extension to look for
    :return: sorted ``(pair, timeframe, candle_type)``; candle type ``spot`` for spot files
    """
    datadir = Path(datadir)
    found: set[tuple[str, str, str]] = set()
    for folder, futures in ((datadir, False), (datadir / "futures", True)):
        if not folder.is_dir():
            continue
        for path in folder.glob(f"*.{ext}"):
            parsed = parse_candle_filename(path.name)
            if parsed is None:
                continue
            if (parsed[2] != "spot") != futures:
                continue  # e.g. a futures-named file in the spot folder: Freqtrade ignores it
            found.add(parsed)
    return sorted(found, key=lambda t: (t[0], t[2], timeframe_sort_key(t[1])))


def resolve_datadir(cli_datadir: str | None, env: Mapping[str, str] = os.environ) -> Path | None:
    """
    The data folder to use: ``--datadir`` beats ``$BITBOT_DATA``.

    :param cli_datadir: value of ``--datadir`` (None or empty when not given)
    :param env: environment to read ``BITBOT_DATA`` from
    :return: the folder (``~`` expanded), or None when neither is set
    """
    if cli_datadir:
        return Path(cli_datadir).expanduser()
    from_env = env.get(ENV_DATADIR, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return None


def is_synthetic_datadir(datadir: Path) -> bool:
    """
    :param datadir: data folder
    :return: True when the folder holds the marker written by ``meta_strategy.data.synthetic``
    """
    return (Path(datadir) / SYNTHETIC_MARKER).is_file()


def read_synthetic_marker(datadir: Path) -> dict[str, object] | None:
    """
    :param datadir: data folder
    :return: the content of the SYNTHETIC marker, or None when the folder is not synthetic
    """
    marker = Path(datadir) / SYNTHETIC_MARKER
    if not marker.is_file():
        return None
    return dict(json.loads(marker.read_text()))
