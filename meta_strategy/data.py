"""
Finding, checking and describing candle files in Freqtrade's feather layout.

Freqtrade 2026.9 names its files (``IDataHandler._pair_data_filename``)::

    <datadir>/<pair_s>-<tf>.feather                          spot
    <datadir>/futures/<pair_s>-<tf>-<candle_type>.feather    futures, mark, funding_rate

where ``pair_s`` is the pair with ``/``, ``:`` (and a few other characters) replaced by ``_``.
OHLCV files hold ``date`` (datetime64[ms, UTC]), ``open``, ``high``, ``low``, ``close`` and
``volume`` (float64). Funding-rate files hold ``date`` and ``funding_rate``
(``freqtrade/candle_columns.py``); the legacy layout with the rate in ``open`` is still read.

Freqtrade itself is lenient: a missing or broken file becomes an empty dataframe and a log
line, and the backtest then runs on less data than asked for. :func:`validate_datadir` is the
pre-flight run before Freqtrade starts. It stops on the first problem with a :class:`DataError`
whose message names the file and says what is wrong with it. Gaps are not an error (Freqtrade
fills them with flat candles on load); they are counted in a :class:`DataReport`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


logger = logging.getLogger(__name__)

OHLCV_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")
FUNDING_COLUMNS: tuple[str, ...] = ("date", "funding_rate")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
ENV_DATADIR = "BITBOT_DATA"
SYNTHETIC_MARKER = "SYNTHETIC.json"
DATA_FORMAT = "feather"
#: A funding rate above this (per funding event) is a unit error, e.g. percent stored as fraction.
MAX_ABS_FUNDING_RATE = 0.05
#: Timeframe of the mark and funding-rate files Freqtrade 2026.9 reads for futures
#: (``mark_ohlcv_timeframe`` / ``funding_fee_timeframe`` in ``exchange.py``).
FUNDING_TIMEFRAME = "1h"
MARK_TIMEFRAME = "1h"

_TIMEFRAME_RE = re.compile(r"^(\d+)([smhdwMy])$")
_UNIT_SECONDS = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "M": 2592000,  # 30 days, as ccxt.Exchange.parse_timeframe
    "y": 31536000,  # 365 days, as ccxt
}
# The pattern Freqtrade uses to list data files (IDataHandler._OHLCV_REGEX).
_FILENAME_RE = re.compile(r"^([\w-]+)\-(\d+[a-zA-Z]{1,2})\-?([a-zA-Z_]*)?(?=\.)")


class DataError(ValueError):
    """
    A data file is missing, unreadable or inconsistent.

    The message always names the file (or folder) and the problem.
    :ivar path: the file or folder the problem is about
    :ivar problem: the description of the problem
    """

    def __init__(self, path: Path | str, problem: str) -> None:
        """
        :param path: the file or folder the problem is about
        :param problem: what is wrong; the path is prefixed unless the text already names it
        """
        self.path = Path(path)
        self.problem = problem
        message = problem if str(path) in problem else f"{path}: {problem}"
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# Names and paths
# --------------------------------------------------------------------------------------------


def timeframe_to_seconds(timeframe: str) -> int:
    """
    Length of a timeframe such as ``5m``, ``1h``, ``1d`` or ``1w``.

    Same units as ``ccxt.Exchange.parse_timeframe`` (``M`` = 30 days, ``y`` = 365 days),
    without importing ccxt.
    :param timeframe: timeframe string
    :return: seconds per candle
    :raises ValueError: the timeframe is not understood
    """
    match = _TIMEFRAME_RE.match(timeframe.strip())
    if not match or int(match[1]) <= 0:
        raise ValueError(f"Unknown timeframe {timeframe!r}; expected e.g. '5m', '1h', '1d'.")
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def pair_to_filename(pair: str) -> str:
    """
    Pair as it appears in Freqtrade file names (``freqtrade.misc.pair_to_filename``).

    :param pair: e.g. ``BTC/USD:USD``
    :return: e.g. ``BTC_USD_USD``
    """
    for ch in ("/", " ", ".", "@", "$", "+", ":"):
        pair = pair.replace(ch, "_")
    return pair


def filename_to_pair(pair_s: str) -> str:
    """
    Pair from a file-name stem (``IDataHandler.rebuild_pair_from_filename``).

    :param pair_s: e.g. ``BTC_USDT_USDT``
    :return: e.g. ``BTC/USDT:USDT`` (first ``_`` -> ``/``, second -> ``:``)
    """
    return pair_s.replace("_", "/", 1).replace("_", ":", 1)


def candle_file(datadir: Path, pair: str, timeframe: str, candle_type: str = "futures") -> Path:
    """
    Where Freqtrade keeps (and looks for) one candle file.

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


def parse_candle_filename(name: str) -> tuple[str, str, str] | None:
    """
    Pair, timeframe and candle type from a data file name, as Freqtrade's ``list-data``.

    :param name: file name, e.g. ``BTC_USDT_USDT-1h-mark.feather``
    :return: ``(pair, timeframe, candle_type)``, candle type ``spot`` when the name has none;
        None for names that are not candle files (e.g. ``BTC_USDT-trades.feather``)
    """
    match = _FILENAME_RE.search(name)
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


def timeframe_sort_key(timeframe: str) -> int:
    """
    :param timeframe: timeframe string
    :return: its length in seconds, or a large number for unknown timeframes (sorts them last)
    """
    try:
        return timeframe_to_seconds(timeframe)
    except ValueError:
        return 1 << 62


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
    :return: True when the folder holds the marker written by ``meta_strategy.synthetic``
    """
    return (Path(datadir) / SYNTHETIC_MARKER).is_file()


def parse_timerange(text: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """
    Parse a Freqtrade ``--timerange`` (``START-STOP``, either side may be empty).

    Each side is ``YYYYMMDD``, ``YYYYMMDDTHHMM``, ``YYYYMMDDTHHMMSS``, epoch seconds or epoch
    milliseconds, as ``freqtrade.configuration.TimeRange.parse_timerange``.
    :param text: e.g. ``20230101-20240101``, ``20230101-``, ``-20240101``
    :return: (start, stop) as UTC timestamps; None for an open side
    :raises ValueError: the syntax is wrong or start is after stop
    """
    parts = text.strip().split("-")
    if len(parts) != 2 or not any(parts):
        raise ValueError(f"Incorrect syntax for timerange {text!r}; expected YYYYMMDD-YYYYMMDD.")

    def _part(value: str) -> pd.Timestamp | None:
        if not value:
            return None
        for fmt in ("%Y%m%d", "%Y%m%dT%H%M", "%Y%m%dT%H%M%S"):
            try:
                return pd.to_datetime(value, format=fmt, utc=True)
            except ValueError:
                continue
        if value.isdigit() and len(value) in (10, 13):
            unit = "s" if len(value) == 10 else "ms"
            return pd.to_datetime(int(value), unit=unit, utc=True)
        raise ValueError(f"Incorrect syntax for timerange {text!r}: cannot read {value!r}.")

    start, stop = _part(parts[0]), _part(parts[1])
    if start is not None and stop is not None and start > stop:
        raise ValueError(f"Start date is after stop date in timerange {text!r}.")
    return start, stop


# --------------------------------------------------------------------------------------------
# Reports and gaps
# --------------------------------------------------------------------------------------------


def _date_ms(dates: pd.Series) -> np.ndarray:
    """:return: dates as int64 milliseconds since the epoch"""
    return np.asarray(pd.DatetimeIndex(dates).as_unit("ms").asi8, dtype=np.int64)


def _gaps_ms(date_ms: np.ndarray, step_ms: int) -> list[tuple[int, int]]:
    """:return: (before, after) pairs of consecutive dates further apart than step_ms"""
    if len(date_ms) < 2:
        return []
    idx = np.flatnonzero(np.diff(date_ms) > step_ms)
    return [(int(date_ms[i]), int(date_ms[i + 1])) for i in idx]


def _ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def format_timedelta(delta: pd.Timedelta) -> str:
    """
    :param delta: a duration
    :return: compact text: ``8h``, ``33h``, ``15m``, ``2d``, ``90s``
    """
    secs = int(delta / pd.Timedelta(seconds=1))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size and secs % size == 0 and (unit != "d" or secs >= 2 * 86400):
            return f"{secs // size}{unit}"
    return f"{secs}s"


def find_gaps(df: pd.DataFrame, timeframe: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """
    Missing candles: every place where consecutive dates are more than one timeframe apart.

    :param df: frame with a sorted ``date`` column
    :param timeframe: the candle timeframe, e.g. ``5m``
    :return: ``(last candle before the gap, first candle after it)`` for each gap; the number
        of missing candles in a gap is ``(after - before) / timeframe - 1``
    """
    step_ms = timeframe_to_seconds(timeframe) * 1000
    return [(_ts(a), _ts(b)) for a, b in _gaps_ms(_date_ms(df["date"]), step_ms)]


@dataclass(frozen=True)
class DataReport:
    """
    What one checked file holds.

    :ivar path: the file
    :ivar pair: pair, from the file name (None when the name does not follow Freqtrade's)
    :ivar candle_type: ``spot``, ``futures``, ``mark``, ``funding_rate``
    :ivar timeframe: timeframe in the file name
    :ivar rows: number of rows
    :ivar first: first date
    :ivar last: last date (the candle's open time)
    :ivar step: spacing used to look for gaps: the timeframe for candles, the most common
        spacing for funding rates (Binance pays every 8h into a "1h" file, Kraken every 1h)
    :ivar gaps: number of gaps
    :ivar missing: rows missing in all gaps together
    :ivar largest_gap: longest missing stretch (``after - before - step``), zero when none
    :ivar largest_gap_start: first missing date of the longest gap, None when none
    :ivar synthetic: the folder carries the SYNTHETIC marker
    :ivar warnings: things worth knowing that are not errors (partial timerange cover, ...)
    """

    path: Path
    pair: str | None
    candle_type: str
    timeframe: str
    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    step: pd.Timedelta
    gaps: int
    missing: int
    largest_gap: pd.Timedelta
    largest_gap_start: pd.Timestamp | None
    synthetic: bool = False
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        path: Path,
        timeframe: str | None = None,
        candle_type: str | None = None,
        *,
        step: pd.Timedelta | None = None,
        synthetic: bool = False,
        warnings: Sequence[str] = (),
    ) -> DataReport:
        """
        Describe a frame that passed :func:`load_candles` / :func:`load_funding`.

        :param df: the loaded frame (sorted, unique dates)
        :param path: the file it came from; pair, timeframe and candle type default to what
            its name says
        :param timeframe: timeframe, when the name does not tell
        :param candle_type: candle type, when the name does not tell
        :param step: spacing expected between rows; default: the timeframe, or for funding
            rates the most common spacing in the file
        :param synthetic: the folder is synthetic
        :param warnings: warnings to attach
        :return: the report
        """
        parsed = parse_candle_filename(Path(path).name)
        pair = parsed[0] if parsed else None
        timeframe = timeframe or (parsed[1] if parsed else None)
        if timeframe is None:
            raise ValueError(f"{path}: timeframe not given and not in the file name")
        candle_type = candle_type or (parsed[2] if parsed else "futures")
        date_ms = _date_ms(df["date"])
        if step is None:
            step_ms = timeframe_to_seconds(timeframe) * 1000
            if candle_type == "funding_rate" and len(date_ms) > 1:
                diffs, counts = np.unique(np.diff(date_ms), return_counts=True)
                step_ms = int(diffs[np.argmax(counts)])
        else:
            step_ms = int(step / pd.Timedelta(milliseconds=1))
        gaps = _gaps_ms(date_ms, step_ms)
        missing_ms = np.array([b - a - step_ms for a, b in gaps], dtype=np.int64)
        largest_gap = pd.Timedelta(0)
        largest_start: pd.Timestamp | None = None
        if len(gaps):
            k = int(np.argmax(missing_ms))
            largest_gap = pd.Timedelta(milliseconds=int(missing_ms[k]))
            largest_start = _ts(gaps[k][0] + step_ms)
        return cls(
            path=Path(path),
            pair=pair,
            candle_type=candle_type,
            timeframe=timeframe,
            rows=len(df),
            first=_ts(int(date_ms[0])) if len(date_ms) else pd.NaT,
            last=_ts(int(date_ms[-1])) if len(date_ms) else pd.NaT,
            step=pd.Timedelta(milliseconds=step_ms),
            gaps=len(gaps),
            missing=int((missing_ms // step_ms).sum()) if len(gaps) else 0,
            largest_gap=largest_gap,
            largest_gap_start=largest_start,
            synthetic=synthetic,
            warnings=tuple(warnings),
        )

    def __str__(self) -> str:
        """:return: one line per report (plus one per warning), for ``bitbot data check``"""
        what = f"{self.pair or '?'} {self.timeframe} {self.candle_type}"
        gaps = "no gaps"
        if self.gaps:
            gaps = (
                f"{self.gaps} gap(s), {self.missing} missing, largest "
                f"{format_timedelta(self.largest_gap)} "
                f"from {self.largest_gap_start:%Y-%m-%d %H:%M}"
            )
        tf_step = pd.Timedelta(seconds=timeframe_sort_key(self.timeframe))
        step = "" if self.step == tf_step else f" every {format_timedelta(self.step)}"
        tag = " [SYNTHETIC]" if self.synthetic else ""
        line = (
            f"{what:<32} {self.rows:>9,} rows{step}  {self.first:%Y-%m-%d %H:%M} .. "
            f"{self.last:%Y-%m-%d %H:%M} UTC  {gaps}{tag}  ({self.path})"
        )
        return "\n".join([line, *(f"    warning: {w}" for w in self.warnings)])


# --------------------------------------------------------------------------------------------
# Loading with checks
# --------------------------------------------------------------------------------------------

_DEFAULT_HINT = (
    "Download with `bitbot download-data --trading-mode futures --pairs <PAIR> "
    "--timeframes <TF> --data-format-ohlcv feather` or set BITBOT_DATA (or --datadir) to a "
    "folder that has it; `bitbot synth` writes a SYNTHETIC market for offline use."
)


def _read_feather(path: Path, hint: str | None) -> pd.DataFrame:
    """:return: the file's frame; DataError when absent or not a feather file"""
    path = Path(path)
    if not path.exists():
        other = sorted(p.name for p in path.parent.glob(f"{path.stem}.*") if p != path)
        also = f" Found {', '.join(other)} instead: BitBot reads feather only." if other else ""
        raise DataError(
            path, f"{path.name} not found. Expected at {path}.{also} {hint or _DEFAULT_HINT}"
        )
    if not path.is_file():
        raise DataError(path, f"{path} is not a file.")
    import pyarrow as pa
    import pyarrow.feather as feather

    try:
        table = feather.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise DataError(path, f"{path} is not a valid feather file: {e}") from e
    try:
        return table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as e:
        raise DataError(path, f"{path} could not be converted to a dataframe: {e}") from e


def _check_columns(df: pd.DataFrame, path: Path, required: Sequence[str]) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            path,
            f"{path} is missing column(s) {', '.join(missing)}. Expected columns: "
            f"{', '.join(required)}; found: {', '.join(map(str, df.columns)) or 'none'}.",
        )


def _check_dates(df: pd.DataFrame, path: Path) -> None:
    """Date column: UTC datetime, no NaT, strictly increasing."""
    dtype = df["date"].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype) or str(dtype.tz) not in ("UTC", "utc"):
        raise DataError(
            path,
            f"{path}: column 'date' has dtype {dtype}; expected datetime64[ms, UTC] "
            "(timezone-aware UTC datetimes, as Freqtrade writes them).",
        )
    nat = df["date"].isna()
    if nat.any():
        raise DataError(
            path,
            f"{path}: column 'date' has {int(nat.sum())} empty (NaT) value(s), "
            f"first at row {int(np.argmax(nat.to_numpy()))}.",
        )
    date_ms = _date_ms(df["date"])
    if len(date_ms) < 2:
        return
    diff = np.diff(date_ms)
    bad = np.flatnonzero(diff <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        if diff[i - 1] == 0:
            n_dup = int((diff == 0).sum())
            raise DataError(
                path,
                f"{path} has duplicate dates: {_ts(int(date_ms[i]))} appears more than once "
                f"({n_dup} duplicate row(s) in all).",
            )
        raise DataError(
            path,
            f"{path}: dates are not in ascending order (non-monotonic): {_ts(int(date_ms[i]))} "
            f"at row {i} follows {_ts(int(date_ms[i - 1]))}.",
        )


def _first_bad(df: pd.DataFrame, mask: np.ndarray) -> str:
    i = int(np.argmax(mask))
    return f"{df['date'].iloc[i]} (row {i})"


def _check_values(df: pd.DataFrame, path: Path, columns: Sequence[str]) -> None:
    """NaN / non-finite values in value columns."""
    for col in columns:
        if not pd.api.types.is_numeric_dtype(df[col].dtype):
            raise DataError(
                path, f"{path}: column {col!r} has dtype {df[col].dtype}; expected float64."
            )
        values = df[col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            kind = "NaN" if np.isnan(values[bad]).all() else "NaN or infinite"
            raise DataError(
                path,
                f"{path} has {int(bad.sum())} {kind} value(s) in {col!r}; first at "
                f"{_first_bad(df, bad)}.",
            )


def _check_ohlc(df: pd.DataFrame, path: Path) -> None:
    """Positive prices, high >= low, open/close inside [low, high], volume >= 0."""
    o, h, l, c = (df[col].to_numpy(dtype=np.float64) for col in PRICE_COLUMNS)  # noqa: E741
    for col, values in zip(PRICE_COLUMNS, (o, h, l, c), strict=True):
        bad = values <= 0
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                path,
                f"{path} has {int(bad.sum())} non-positive price(s) in {col!r}; first at "
                f"{_first_bad(df, bad)}: {values[i]}.",
            )
    bad = h < l
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            path,
            f"{path}: high < low in {int(bad.sum())} candle(s); first at {_first_bad(df, bad)}: "
            f"high {h[i]} < low {l[i]}.",
        )
    bad = (h < np.maximum(o, c)) | (l > np.minimum(o, c))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            path,
            f"{path}: inconsistent OHLC (open/close outside [low, high]) in {int(bad.sum())} "
            f"candle(s); first at {_first_bad(df, bad)}: open {o[i]} high {h[i]} low {l[i]} "
            f"close {c[i]}.",
        )
    if "volume" in df.columns:
        v = df["volume"].to_numpy(dtype=np.float64)
        bad = v < 0
        if bad.any():
            raise DataError(
                path,
                f"{path} has {int(bad.sum())} negative volume(s); first at "
                f"{_first_bad(df, bad)}: {v[int(np.argmax(bad))]}.",
            )


def load_candles(
    path: Path,
    *,
    require_columns: Sequence[str] = OHLCV_COLUMNS,
    hint: str | None = None,
) -> pd.DataFrame:
    """
    Read one OHLCV feather file and check it; gaps are allowed.

    Checks, in order: the file exists; it is a feather file; the required columns are there;
    ``date`` is a UTC datetime, without NaT, strictly increasing (no duplicates); the value
    columns are numeric and finite; prices are > 0; ``low <= min(open, close)`` and
    ``max(open, close) <= high``; volume >= 0.
    :param path: the file
    :param require_columns: columns that must be present
    :param hint: what to do when the file is missing (default: download / BITBOT_DATA advice)
    :return: the frame as stored (date datetime64[ms, UTC], float64 values)
    :raises DataError: on the first problem, naming the file, the problem and where it is
    """
    path = Path(path)
    df = _read_feather(path, hint)
    _check_columns(df, path, require_columns)
    if len(df) == 0:
        raise DataError(path, f"{path} has no rows.")
    if "date" in require_columns:
        _check_dates(df, path)
    values = [c for c in require_columns if c != "date"]
    _check_values(df, path, values)
    if all(c in require_columns for c in PRICE_COLUMNS):
        _check_ohlc(df, path)
    return df


def load_funding(path: Path, *, hint: str | None = None) -> pd.DataFrame:
    """
    Read one funding-rate feather file and check it.

    Accepts Freqtrade 2026.9's layout (``date``, ``funding_rate``) and the legacy OHLCV layout
    with the rate in ``open``, as Freqtrade does; returns ``date``, ``funding_rate``.
    Checks: exists, feather, columns, UTC dates strictly increasing, finite rates, and
    ``|rate| <= 0.05`` per event (larger means a unit error, e.g. percent).
    :param path: the file
    :param hint: what to do when the file is missing
    :return: frame with ``date`` and ``funding_rate``
    :raises DataError: on the first problem
    """
    path = Path(path)
    df = _read_feather(path, hint)
    if "funding_rate" not in df.columns and {"date", "open"}.issubset(df.columns):
        logger.debug("%s: legacy funding layout, reading the rate from 'open'", path)
        df = df.rename(columns={"open": "funding_rate"})
    _check_columns(df, path, FUNDING_COLUMNS)
    df = df.loc[:, list(FUNDING_COLUMNS)]
    if len(df) == 0:
        raise DataError(path, f"{path} has no rows.")
    _check_dates(df, path)
    _check_values(df, path, ["funding_rate"])
    rate = df["funding_rate"].to_numpy(dtype=np.float64)
    bad = np.abs(rate) > MAX_ABS_FUNDING_RATE
    if bad.any():
        raise DataError(
            path,
            f"{path} has {int(bad.sum())} implausible funding rate(s) (|rate| > "
            f"{MAX_ABS_FUNDING_RATE} per event; percent stored instead of a fraction?); first "
            f"at {_first_bad(df, bad)}: {rate[int(np.argmax(bad))]}.",
        )
    return df


# --------------------------------------------------------------------------------------------
# Pre-flight
# --------------------------------------------------------------------------------------------


def _coverage_warning(
    report: DataReport,
    start: pd.Timestamp | None,
    stop: pd.Timestamp | None,
    timerange: str,
) -> str | None:
    """
    :return: a warning when the file covers only part of the timerange
    :raises DataError: the file covers none of it
    """
    end = report.last + report.step  # the last row covers [last, last + step)
    available = f"{report.first:%Y-%m-%d %H:%M} .. {report.last:%Y-%m-%d %H:%M} UTC"
    if (stop is not None and report.first >= stop) or (start is not None and end <= start):
        raise DataError(
            report.path,
            f"{report.path} does not cover any of the timerange {timerange}: it has data from "
            f"{available}. Pick a timerange inside that, or download the missing period.",
        )
    parts = []
    if start is not None and report.first > start:
        parts.append(f"starts at {report.first:%Y-%m-%d %H:%M}, after {start:%Y-%m-%d %H:%M}")
    if stop is not None and end < stop:
        parts.append(f"ends at {report.last:%Y-%m-%d %H:%M}, before {stop:%Y-%m-%d %H:%M}")
    if parts:
        return f"covers only part of timerange {timerange}: " + "; ".join(parts)
    return None


def _available(datadir: Path) -> str:
    found = detect_datasets(datadir)
    if not found:
        return f"{datadir} holds no {DATA_FORMAT} candle files."
    listed = ", ".join(f"{p} {tf} {ct}" for p, tf, ct in found[:12])
    more = f" and {len(found) - 12} more" if len(found) > 12 else ""
    return f"Available in {datadir}: {listed}{more}."


def _missing_hint(datadir: Path, pair: str, timeframe: str, trading_mode: str, why: str) -> str:
    mode = f" --trading-mode {trading_mode}" if trading_mode != "spot" else ""
    return (
        f"{why}{_available(datadir)} Download with `bitbot download-data{mode} --pairs {pair} "
        f"--timeframes {timeframe} --data-format-ohlcv feather --datadir {datadir}` or set "
        f"BITBOT_DATA (or --datadir) to a folder that has it."
    )


def validate_datadir(
    datadir: Path,
    pairs: Iterable[str],
    timeframes: Iterable[str],
    trading_mode: str = "futures",
    timerange: str | None = None,
    *,
    mark_timeframe: str = MARK_TIMEFRAME,
    funding_timeframe: str = FUNDING_TIMEFRAME,
) -> list[DataReport]:
    """
    Pre-flight before Freqtrade runs: every file the run will read exists and is sound.

    For each pair: the candles at each timeframe (``futures`` candles in futures mode, spot
    files otherwise) and, in futures mode, the mark candles and funding rates Freqtrade needs
    to charge funding fees (``mark_ohlcv_timeframe`` / ``funding_fee_timeframe``, both "1h").
    With a timerange, every file must cover at least part of it; partial cover is a warning in
    the report.
    :param datadir: data folder
    :param pairs: pairs, e.g. ``["BTC/USD:USD"]``
    :param timeframes: candle timeframes, e.g. ``["5m", "1h"]``
    :param trading_mode: ``futures`` or ``spot`` (``margin`` reads spot files)
    :param timerange: Freqtrade ``--timerange``, e.g. ``20230101-20240101``; either side optional
    :param mark_timeframe: timeframe of the mark candles
    :param funding_timeframe: timeframe of the funding-rate file
    :return: one report per file, in the order checked
    :raises DataError: on the first missing or broken file, naming it and the problem
    :raises ValueError: unknown trading mode or malformed timerange
    """
    datadir = Path(datadir)
    if trading_mode not in ("futures", "spot", "margin"):
        raise ValueError(f"Unknown trading mode {trading_mode!r}; expected 'futures' or 'spot'.")
    if not datadir.is_dir():
        raise DataError(
            datadir,
            f"Data folder {datadir} does not exist. Pass --datadir or set BITBOT_DATA to a "
            "folder with Freqtrade feather files (e.g. ../shared/data/binance), download with "
            "`bitbot download-data`, or write a SYNTHETIC market with `bitbot synth`.",
        )
    start, stop = parse_timerange(timerange) if timerange else (None, None)
    synthetic = is_synthetic_datadir(datadir)
    if synthetic:
        logger.warning(
            "!!! %s holds a SYNTHETIC market (see %s). Results on it say nothing about real "
            "markets. !!!",
            datadir,
            datadir / SYNTHETIC_MARKER,
        )
    futures = trading_mode == "futures"
    reports: list[DataReport] = []

    def _finish(df: pd.DataFrame, path: Path, tf: str, ctype: str) -> None:
        report = DataReport.from_frame(df, path, tf, ctype, synthetic=synthetic)
        if timerange:
            warning = _coverage_warning(report, start, stop, timerange)
            if warning:
                logger.warning("%s %s", path, warning)
                report = DataReport.from_frame(
                    df, path, tf, ctype, synthetic=synthetic, warnings=(warning,)
                )
        if report.gaps:
            logger.info("%s: %d gap(s), %d missing row(s)", path, report.gaps, report.missing)
        reports.append(report)

    for pair in pairs:
        ctype = "futures" if futures else "spot"
        for tf in sorted(set(timeframes), key=timeframe_sort_key):
            path = candle_file(datadir, pair, tf, ctype)
            what = f"{'Futures' if futures else 'Spot'} candles for {pair} {tf} are missing. "
            df = load_candles(path, hint=_missing_hint(datadir, pair, tf, trading_mode, what))
            _finish(df, path, tf, ctype)
        if not futures:
            continue
        path = candle_file(datadir, pair, mark_timeframe, "mark")
        why = (
            f"Mark candles for {pair} {mark_timeframe} are missing; Freqtrade needs them (with "
            "the funding rates) to charge funding fees in futures backtests. "
        )
        df = load_candles(path, hint=_missing_hint(datadir, pair, mark_timeframe, "futures", why))
        _finish(df, path, mark_timeframe, "mark")
        path = candle_file(datadir, pair, funding_timeframe, "funding_rate")
        why = (
            f"Funding rates for {pair} are missing; Freqtrade needs them (with the mark "
            "candles) to charge funding fees in futures backtests. "
        )
        df = load_funding(
            path, hint=_missing_hint(datadir, pair, funding_timeframe, "futures", why)
        )
        _finish(df, path, funding_timeframe, "funding_rate")
    return reports


def read_synthetic_marker(datadir: Path) -> dict[str, object] | None:
    """
    :param datadir: data folder
    :return: the content of the SYNTHETIC marker, or None when the folder is not synthetic
    """
    marker = Path(datadir) / SYNTHETIC_MARKER
    if not marker.is_file():
        return None
    return dict(json.loads(marker.read_text()))
