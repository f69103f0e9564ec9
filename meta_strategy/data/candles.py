"""
Reading one candle or funding-rate file and checking it, and finding its gaps.

Freqtrade itself is lenient: a missing or broken file becomes an empty dataframe and a log
line, and the backtest then runs on less data than asked for. :func:`load_candles` and
:func:`load_funding` stop on the first problem with a :class:`~meta_strategy.data.files.DataError`
whose message names the file and says what is wrong with it, and where. Gaps are not an error
(Freqtrade fills them with flat candles on load): :func:`find_gaps` lists them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from meta_strategy.data.files import FUNDING_COLUMNS, OHLCV_COLUMNS, PRICE_COLUMNS, DataError
from meta_strategy.data.timeframes import timeframe_to_seconds


logger = logging.getLogger(__name__)

#: A funding rate above this (per funding event) is a unit error, e.g. percent stored as fraction.
MAX_ABS_FUNDING_RATE = 0.05


def dates_ms(dates: pd.Series) -> np.ndarray:
    """:return: dates as int64 milliseconds since the epoch"""
    return np.asarray(pd.DatetimeIndex(dates).as_unit("ms").asi8, dtype=np.int64)


def gaps_ms(date_ms: np.ndarray, step_ms: int) -> list[tuple[int, int]]:
    """:return: (before, after) pairs of consecutive dates further apart than step_ms"""
    if len(date_ms) < 2:
        return []
    idx = np.flatnonzero(np.diff(date_ms) > step_ms)
    return [(int(date_ms[i]), int(date_ms[i + 1])) for i in idx]


def ms_timestamp(ms: int) -> pd.Timestamp:
    """:return: epoch milliseconds as a UTC timestamp"""
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def find_gaps(df: pd.DataFrame, timeframe: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """
    Missing candles: every place where consecutive dates are more than one timeframe apart.

    :param df: frame with a sorted ``date`` column
    :param timeframe: the candle timeframe, e.g. ``5m``
    :return: ``(last candle before the gap, first candle after it)`` for each gap; the number
        of missing candles in a gap is ``(after - before) / timeframe - 1``
    """
    step_ms = timeframe_to_seconds(timeframe) * 1000
    return [(ms_timestamp(a), ms_timestamp(b)) for a, b in gaps_ms(dates_ms(df["date"]), step_ms)]


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
    date_ms = dates_ms(df["date"])
    if len(date_ms) < 2:
        return
    diff = np.diff(date_ms)
    bad = np.flatnonzero(diff <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        at, before = ms_timestamp(int(date_ms[i])), ms_timestamp(int(date_ms[i - 1]))
        if diff[i - 1] == 0:
            n_dup = int((diff == 0).sum())
            raise DataError(
                path,
                f"{path} has duplicate dates: {at} appears more than once "
                f"({n_dup} duplicate row(s) in all).",
            )
        raise DataError(
            path,
            f"{path}: dates are not in ascending order (non-monotonic): {at} "
            f"at row {i} follows {before}.",
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


def align_funding(candle_dates: pd.Series, funding: pd.DataFrame) -> pd.Series:
    """
    :param candle_dates: candle open times
    :param funding: funding-rate candles as Freqtrade gives them (``date`` and ``funding_rate``,
        or the legacy layout with the rate in ``open``)
    :return: per candle, the rate charged at its open (0 where no event), on
        ``candle_dates.index``
    """
    column = "funding_rate" if "funding_rate" in funding else "open"
    rates = funding.set_index("date")[column]
    return candle_dates.map(rates).fillna(0.0).astype(float)
