"""
The pre-flight check of a data folder before Freqtrade runs (:func:`validate_datadir`): every
file a run will read exists and is sound, and what each holds (:class:`DataReport`: rows, range,
gaps, partial cover of the timerange).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meta_strategy.config_keys import check_known_keys
from meta_strategy.data.candles import (
    dates_ms,
    find_gaps,
    gaps_ms,
    load_candles,
    load_funding,
    ms_timestamp,
)
from meta_strategy.data.files import (
    DATA_FORMAT,
    FUNDING_TIMEFRAME,
    MARK_TIMEFRAME,
    SYNTHETIC_MARKER,
    DataError,
    candle_file,
    detect_datasets,
    is_synthetic_datadir,
    parse_candle_filename,
)
from meta_strategy.data.timeframes import parse_timerange, timeframe_sort_key, timeframe_to_seconds
from meta_strategy.freqtrade_bridge import PreflightError


logger = logging.getLogger(__name__)


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
        date_ms = dates_ms(df["date"])
        if step is None:
            step_ms = timeframe_to_seconds(timeframe) * 1000
            if candle_type == "funding_rate" and len(date_ms) > 1:
                diffs, counts = np.unique(np.diff(date_ms), return_counts=True)
                step_ms = int(diffs[np.argmax(counts)])
        else:
            step_ms = int(step / pd.Timedelta(milliseconds=1))
        gaps = gaps_ms(date_ms, step_ms)
        missing_ms = np.array([b - a - step_ms for a, b in gaps], dtype=np.int64)
        largest_gap = pd.Timedelta(0)
        largest_start: pd.Timestamp | None = None
        if len(gaps):
            k = int(np.argmax(missing_ms))
            largest_gap = pd.Timedelta(milliseconds=int(missing_ms[k]))
            largest_start = ms_timestamp(gaps[k][0] + step_ms)
        return cls(
            path=Path(path),
            pair=pair,
            candle_type=candle_type,
            timeframe=timeframe,
            rows=len(df),
            first=ms_timestamp(int(date_ms[0])) if len(date_ms) else pd.NaT,
            last=ms_timestamp(int(date_ms[-1])) if len(date_ms) else pd.NaT,
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


class DataConfigError(PreflightError, ValueError):
    """A bad ``bitbot.data`` setting."""

    label = "bad config"


@dataclass(frozen=True)
class DataPolicy:
    """
    What the pre-flight of a Freqtrade command refuses beyond missing or broken files
    (``bitbot.data`` in the config).

    :param max_gap_candles: the longest run of missing candles allowed inside the timerange
        (None: no limit)
    :param allow_partial_timerange: run when a file covers only part of the timerange
    """

    max_gap_candles: int | None = None
    allow_partial_timerange: bool = True

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DataPolicy:
        """
        :param config: Freqtrade configuration
        :return: ``bitbot.data`` (``max_gap_candles`` 3 and ``allow_partial_timerange`` false
            when unset)
        :raises DataConfigError: an unknown key or a bad value
        """
        section = (config.get("bitbot") or {}).get("data") or {}
        check_known_keys(
            section, ("max_gap_candles", "allow_partial_timerange"), "bitbot.data", DataConfigError
        )
        gap = section.get("max_gap_candles", 3)
        if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0:
            raise DataConfigError(
                f"bitbot.data.max_gap_candles must be a whole number >= 0, got {gap!r}."
            )
        partial = section.get("allow_partial_timerange", False)
        if not isinstance(partial, bool):
            raise DataConfigError(
                f"bitbot.data.allow_partial_timerange must be true or false, got {partial!r}."
            )
        return cls(max_gap_candles=gap, allow_partial_timerange=partial)


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


def _check_folder(datadir: Path, trading_mode: str) -> None:
    """
    :raises ValueError: unknown trading mode
    :raises DataError: the data folder does not exist
    """
    if trading_mode not in ("futures", "spot", "margin"):
        raise ValueError(f"Unknown trading mode {trading_mode!r}; expected 'futures' or 'spot'.")
    if not datadir.is_dir():
        raise DataError(
            datadir,
            f"Data folder {datadir} does not exist. Pass --datadir or set BITBOT_DATA to a "
            "folder with Freqtrade feather files (e.g. ../shared/data/binance), download with "
            "`bitbot download-data`, or write a SYNTHETIC market with `bitbot synth`.",
        )


def _warn_if_synthetic(datadir: Path) -> bool:
    """:return: the folder carries the SYNTHETIC marker (then said loudly in the log)"""
    synthetic = is_synthetic_datadir(datadir)
    if synthetic:
        logger.warning(
            "!!! %s holds a SYNTHETIC market (see %s). Results on it say nothing about real "
            "markets. !!!",
            datadir,
            datadir / SYNTHETIC_MARKER,
        )
    return synthetic


def _pair_frames(
    datadir: Path,
    pair: str,
    timeframes: Iterable[str],
    trading_mode: str,
    mark_timeframe: str,
    funding_timeframe: str,
) -> Iterator[tuple[pd.DataFrame, Path, str, str]]:
    """
    Load, one at a time and in the order checked, every file a run reads for one pair: its
    candles per timeframe, then in futures mode its mark candles and funding rates.

    :return: (frame, path, timeframe, candle type) per file
    :raises DataError: a missing or broken file, with a hint how to get it
    """
    futures = trading_mode == "futures"
    ctype = "futures" if futures else "spot"
    for tf in sorted(set(timeframes), key=timeframe_sort_key):
        path = candle_file(datadir, pair, tf, ctype)
        what = f"{'Futures' if futures else 'Spot'} candles for {pair} {tf} are missing. "
        df = load_candles(path, hint=_missing_hint(datadir, pair, tf, trading_mode, what))
        yield df, path, tf, ctype
    if not futures:
        return
    for timeframe, candle_type, load, why in (
        (
            mark_timeframe,
            "mark",
            load_candles,
            f"Mark candles for {pair} {mark_timeframe} are missing; Freqtrade needs them (with "
            "the funding rates) to charge funding fees in futures backtests. ",
        ),
        (
            funding_timeframe,
            "funding_rate",
            load_funding,
            f"Funding rates for {pair} are missing; Freqtrade needs them (with the mark "
            "candles) to charge funding fees in futures backtests. ",
        ),
    ):
        path = candle_file(datadir, pair, timeframe, candle_type)
        df = load(path, hint=_missing_hint(datadir, pair, timeframe, "futures", why))
        yield df, path, timeframe, candle_type


def _check_gaps(
    df: pd.DataFrame,
    path: Path,
    tf: str,
    max_gap_candles: int,
    start: pd.Timestamp | None,
    stop: pd.Timestamp | None,
) -> None:
    """
    :raises DataError: a gap of more than ``max_gap_candles`` missing candles inside the
        timerange (Freqtrade would forward-fill it), with its dates
    """
    step = pd.Timedelta(seconds=timeframe_to_seconds(tf))
    for before, after in find_gaps(df, tf):
        missing = int((after - before) / step) - 1
        inside = (stop is None or before < stop) and (start is None or after > start)
        if missing > max_gap_candles and inside:
            raise DataError(
                path,
                f"{path} has {missing} missing {tf} candles between {before:%Y-%m-%d %H:%M} and "
                f"{after:%Y-%m-%d %H:%M} UTC, more than bitbot.data.max_gap_candles "
                f"({max_gap_candles}); Freqtrade would fill them with flat candles. Download the "
                "missing period, pick a timerange without it, or raise the limit.",
            )


def _checked_report(
    df: pd.DataFrame,
    path: Path,
    tf: str,
    ctype: str,
    *,
    synthetic: bool,
    timerange: str | None,
    start: pd.Timestamp | None,
    stop: pd.Timestamp | None,
    policy: DataPolicy,
) -> DataReport:
    """
    :return: the file's report, with a warning when it covers only part of the timerange
        (logged, as are its gaps)
    :raises DataError: the file covers none of the timerange, or (by ``policy``) only part of
        it, or has a gap longer than allowed
    """
    report = DataReport.from_frame(df, path, tf, ctype, synthetic=synthetic)
    if policy.max_gap_candles is not None and ctype != "funding_rate":
        _check_gaps(df, path, tf, policy.max_gap_candles, start, stop)
    if timerange:
        warning = _coverage_warning(report, start, stop, timerange)
        if warning and not policy.allow_partial_timerange:
            raise DataError(
                path,
                f"{path} {warning}: the backtest would silently run a shorter period. Pick a "
                "timerange inside the data, download the rest, or set "
                "bitbot.data.allow_partial_timerange.",
            )
        if warning:
            logger.warning("%s %s", path, warning)
            report = DataReport.from_frame(
                df, path, tf, ctype, synthetic=synthetic, warnings=(warning,)
            )
    if report.gaps:
        logger.info("%s: %d gap(s), %d missing row(s)", path, report.gaps, report.missing)
    return report


def validate_datadir(
    datadir: Path,
    pairs: Iterable[str],
    timeframes: Iterable[str],
    trading_mode: str = "futures",
    timerange: str | None = None,
    *,
    mark_timeframe: str = MARK_TIMEFRAME,
    funding_timeframe: str = FUNDING_TIMEFRAME,
    policy: DataPolicy | None = None,
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
    :param policy: what stops a run beyond broken files (default: nothing more, as
        ``bitbot data check`` reports; the pre-flight of a Freqtrade command passes the
        config's :class:`DataPolicy`)
    :return: one report per file, in the order checked
    :raises DataError: on the first missing or broken file, naming it and the problem
    :raises ValueError: unknown trading mode or malformed timerange
    """
    datadir = Path(datadir)
    _check_folder(datadir, trading_mode)
    start, stop = parse_timerange(timerange) if timerange else (None, None)
    synthetic = _warn_if_synthetic(datadir)
    reports: list[DataReport] = []
    for pair in pairs:
        frames = _pair_frames(
            datadir, pair, timeframes, trading_mode, mark_timeframe, funding_timeframe
        )
        for df, path, tf, ctype in frames:
            report = _checked_report(
                df,
                path,
                tf,
                ctype,
                synthetic=synthetic,
                timerange=timerange,
                start=start,
                stop=stop,
                policy=policy or DataPolicy(),
            )
            reports.append(report)
    return reports
