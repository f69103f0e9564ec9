"""
What a research report runs: the typed settings (:class:`ReportSettings`) and the list of
Freqtrade backtests that follow from them (:func:`build_plan`).

Every run is a plain ``freqtrade backtesting`` over the same period, data, fee, leverage and
funding; the FreqAI runs (the meta-learner per algorithm and seed, and the supervised stacker)
are walk-forwards whose every model is trained strictly before the window it trades. Every fill
of every run, and of the meta-learner's training environment, pays the config's ``fee`` plus
``bitbot.slippage_bps`` (:mod:`meta_strategy.rl.costs`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from meta_strategy.paths import FREQAI_OVERLAY, SIGNAL_STRATEGIES, STACKER_OVERLAY, VOTE_STRATEGIES
from meta_strategy.rl.algorithms import ALGORITHMS, UnknownAlgorithmError, algorithm_overlay


logger = logging.getLogger(__name__)


class ReportSettingsError(ValueError):
    """Settings of a report that cannot be run."""


PERIODS: dict[str, str] = {
    "validation": "20210101-20240101",
    "test": "20240101-20251117",
    "fresh": "20251117-",
}
"""The research protocol's periods (Freqtrade timeranges): choose designs and parameters on
``validation`` (2021-01-01 to 2023-12-31, walk-forward), confirm once on ``test`` (2024-01-01 to
2025-11-16, the end of the data the designs were chosen with); ``fresh`` is every candle after
that (none in this repository's data): a second confirmation, once, of a design frozen before
those candles existed."""
CONFIRMATION_PERIODS = ("test", "fresh")
"""Periods that confirm a frozen design: each look at them is counted and shown."""


def period_of(timerange: str) -> str:
    """:return: the protocol period a timerange is, or ``custom``"""
    return next((name for name, tr in PERIODS.items() if tr == timerange), "custom")


def shipped_digest(overlay: str | Path = FREQAI_OVERLAY) -> str | None:
    """
    :param overlay: the shipped FreqAI overlay (``user_data/config.freqai.json``)
    :return: a digest of its bytes: a report records it, so that what "the shipped bot" meant
        stays known after the shipped default changes (None when it cannot be read)
    """
    try:
        return hashlib.sha256(Path(overlay).read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def shipped_meta_settings(overlay: str | Path = FREQAI_OVERLAY) -> dict[str, Any]:
    """
    :param overlay: the shipped FreqAI overlay (``user_data/config.freqai.json``)
    :return: the meta-learner settings dry-run and live use: algorithm, seeds (the shipped seed
        and the next two), training and traded window, cycles and network
    :raises ReportSettingsError: the overlay cannot be read or lacks a setting
    """
    try:
        freqai = json.loads(Path(overlay).read_text())["freqai"]
        rl_config = freqai["rl_config"]
        seed = int(rl_config.get("seed", 42))
        return {
            "algorithms": (str(rl_config["model_type"]),),
            "seeds": (seed, seed + 1, seed + 2),
            "train_period_days": int(freqai["train_period_days"]),
            "backtest_period_days": int(freqai["backtest_period_days"]),
            "train_cycles": int(rl_config["train_cycles"]),
            "net_arch": tuple(int(x) for x in rl_config["net_arch"]),
        }
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ReportSettingsError(f"cannot read the shipped settings from {overlay}: {e!r}") from e


@dataclass(frozen=True)
class ReportSettings:
    """
    Settings of one research report. The defaults are the shipped meta-learner's
    (``config.freqai.json``, :func:`shipped_meta_settings`) over the validation period.

    :param name: report folder name under ``user_data/reports``
    :param timerange: Freqtrade timerange of the out-of-sample period (:data:`PERIODS`)
    :param algorithms: RL algorithms of the meta-learner (presets in
        :mod:`meta_strategy.rl.algorithms`); the first is the shipped one
    :param seeds: seeds per algorithm
    :param train_period_days: training window of every walk-forward model
    :param backtest_period_days: out-of-sample window traded by each model
    :param train_cycles: passes of the RL agent over its training window
    :param net_arch: hidden layers of the RL policy
    :param quick: CI-sized agents (tiny networks, one pass); figures are for plumbing only
    :param extra_seeds: seeds of the algorithms other than the first (fewer is cheaper)
    :param overlays: config files merged last into every run (e.g. ``bitbot.sizing``: the same
        sizing for every strategy, so the comparison stays like for like)
    :param meta_overlays: config files merged last into the meta-learner's runs only (e.g. a
        decision clock or an action mode); each file's content is part of the runs' keys, so
        every variant is its own configuration in the ledger
    :param deployed_overlays: config files merged last into the as-deployed runs only (e.g. a
        risk setting): they trade the models already trained, so the training runs (and their
        keys) are unchanged
    :param deployed_all_seeds: an as-deployed run for every seed of the headline algorithm
        (not only the first), and the rule strategies and votes as deployed too (risk on, the
        same ``deployed_overlays``), to compare like for like
    """

    name: str = "validation"
    timerange: str = PERIODS["validation"]
    algorithms: tuple[str, ...] = ("PPO",)
    seeds: tuple[int, ...] = (42, 43, 44)
    train_period_days: int = 180
    backtest_period_days: int = 30
    train_cycles: int = 10
    net_arch: tuple[int, ...] = (64, 64)
    quick: bool = False
    extra_seeds: tuple[int, ...] | None = None
    overlays: tuple[str, ...] = ()
    meta_overlays: tuple[str, ...] = ()
    deployed_overlays: tuple[str, ...] = ()
    deployed_all_seeds: bool = False

    def __post_init__(self) -> None:
        for path in (*self.overlays, *self.meta_overlays, *self.deployed_overlays):
            # readable JSON, and nothing the report would silently set over it
            _refuse_report_keys(Path(path), _result_relevant(Path(path)))
        unknown = [a for a in self.algorithms if a not in ALGORITHMS]
        if unknown:
            raise ReportSettingsError(
                f"unknown algorithm(s) {unknown}; choose from {', '.join(ALGORITHMS)}"
            )
        if not self.seeds or not self.algorithms:
            raise ReportSettingsError("at least one algorithm and one seed are needed")
        for key in ("algorithms", "seeds"):
            values = getattr(self, key)
            if len(set(values)) != len(values):
                raise ReportSettingsError(f"{key} are listed twice: {list(values)}")
        for key in ("train_period_days", "backtest_period_days", "train_cycles"):
            if getattr(self, key) < 1:
                raise ReportSettingsError(f"{key} must be >= 1, got {getattr(self, key)}")

    @classmethod
    def for_period(cls, period: str, overlay: str | Path = FREQAI_OVERLAY) -> ReportSettings:
        """
        :param period: ``validation``, ``test`` or ``fresh`` (:data:`PERIODS`)
        :param overlay: the shipped FreqAI overlay
        :return: the shipped meta-learner's settings over that period
        :raises ReportSettingsError: an unknown period
        """
        if period not in PERIODS:
            raise ReportSettingsError(
                f"unknown period {period!r}; choose from {', '.join(PERIODS)} "
                "(or give --timerange for another one)"
            )
        return cls(name=period, timerange=PERIODS[period], **shipped_meta_settings(overlay))

    @classmethod
    def quick_settings(cls, timerange: str) -> ReportSettings:
        """:return: the CI variant: every algorithm once, tiny agents, short windows"""
        return cls(
            name="quick",
            timerange=timerange,
            algorithms=ALGORITHMS,
            seeds=(1,),
            train_period_days=30,
            backtest_period_days=15,
            train_cycles=1,
            net_arch=(16, 16),
            quick=True,
        )

    @property
    def period(self) -> str:
        """:return: ``validation``, ``test``, ``fresh`` or ``custom``"""
        return period_of(self.timerange)

    def seeds_of(self, algorithm: str) -> tuple[int, ...]:
        """:return: the seeds run for ``algorithm`` (fewer for the non-shipped ones if asked)"""
        if algorithm == self.algorithms[0] or self.extra_seeds is None:
            return self.seeds
        return self.extra_seeds

    def differences_from_shipped(self, overlay: str | Path = FREQAI_OVERLAY) -> list[str]:
        """
        :return: how the shipped algorithm's runs differ from what dry-run and live run
            (``config.freqai.json``), one phrase each; empty when they are the shipped bot
        """
        shipped = shipped_meta_settings(overlay)
        out = [
            f"{key} {getattr(self, key)} (shipped: {shipped[key]})"
            for key in ("train_period_days", "backtest_period_days", "train_cycles", "net_arch")
            if getattr(self, key) != shipped[key]
        ]
        if self.algorithms[0] != shipped["algorithms"][0]:
            out.insert(0, f"algorithm {self.algorithms[0]} (shipped: {shipped['algorithms'][0]})")
        if self.quick:
            out.insert(0, "quick: tiny agents and training parameters, for plumbing only")
        out += [f"every run with {path}" for path in self.overlays]
        out += [f"the meta-learner with {path}" for path in self.meta_overlays]
        out += [f"as deployed with {path}" for path in self.deployed_overlays]
        return out

    def meta_is_shipped(self, overlay: str | Path = FREQAI_OVERLAY) -> bool:
        """
        :return: whether the meta-learner's own runs are the shipped bot's: nothing of
            :meth:`differences_from_shipped` but the as-deployed runs' overlays (a shared
            ``--overlay``, e.g. a volatility target, changes the meta-learner's runs too)
        """
        deployed = {f"as deployed with {path}" for path in self.deployed_overlays}
        return all(d in deployed for d in self.differences_from_shipped(overlay))


@dataclass(frozen=True)
class RunSpec:
    """
    One Freqtrade backtest of the report.

    :param name: run name (folder name)
    :param kind: ``rl`` (MetaStrategy + MetaPPO), ``stacker`` or ``rules`` (plain strategies)
    :param strategies: strategy classes backtested together
    :param configs: config files, merged in order
    :param overlay: extra config written next to the results and merged last
    :param algorithm: RL algorithm (``rl`` runs)
    :param seed: RL seed (``rl`` runs)
    :param models_of: name of the run whose FreqAI models this run trades (it runs after that
        one, with its identifier, and trains nothing)
    """

    name: str
    kind: str
    strategies: tuple[str, ...]
    configs: tuple[str, ...]
    overlay: dict[str, Any] = field(default_factory=dict)
    algorithm: str | None = None
    seed: int | None = None
    models_of: str | None = None

    def _without_seed(self) -> dict[str, Any]:
        spec = asdict(self)
        spec.pop("name")
        spec.pop("seed")
        spec["overlay"].get("freqai", {}).get("rl_config", {}).pop("seed", None)
        return spec

    def key(
        self,
        settings: ReportSettings,
        data_signature: str,
        inputs: Mapping[str, str],
        *,
        seedless: bool = False,
    ) -> str:
        """
        :param settings: the report settings
        :param data_signature: the data files the run reads
        :param inputs: code, parameter files and library versions
            (:func:`~meta_strategy.research.report.inputs.run_inputs`)
        :param seedless: leave the run's name and seed out: the key of its *configuration*,
            which every seed of it shares (what the trials of the deflated Sharpe count)
        :return: hash of everything that decides the run's result: the spec, the content of its
            config files (without sections such as ``api_server`` that do not change a
            backtest), the settings that apply to it, the data, and the inputs
        """
        parts = {
            "spec": asdict(self) if not seedless else self._without_seed(),
            "configs": [_result_relevant(Path(c)) for c in self.configs],
            "timerange": settings.timerange,
            "data": data_signature,
            "inputs": dict(inputs),
        }
        blob = json.dumps(parts, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


NOT_IN_BACKTESTS = frozenset(
    {
        "api_server",
        "telegram",
        "webhook",
        "discord",
        "bot_name",
        "initial_state",
        "internals",
        "db_url",
        "producer",
        "external_message_consumer",
        "strategy_path",
    }
)
"""Config sections that do not change a backtest's result (left out of a run's key)."""


def _result_relevant(path: Path) -> dict[str, Any]:
    """:return: the config file's content without the sections in :data:`NOT_IN_BACKTESTS`"""
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ReportSettingsError(f"cannot read config {path}: {e}") from e
    return {k: v for k, v in config.items() if k not in NOT_IN_BACKTESTS}


REPORT_SET_KEYS: dict[tuple[str, ...], str] = {
    ("freqai", "train_period_days"): "--train-days",
    ("freqai", "backtest_period_days"): "--window-days",
    ("freqai", "identifier"): "nothing: the report names each run's models from its key",
    ("freqai", "rl_config", "train_cycles"): "--train-cycles",
    ("freqai", "rl_config", "net_arch"): "user_data/config.freqai.json (the report reads it there)",
    ("freqai", "rl_config", "seed"): "--seeds",
    ("freqai", "rl_config", "model_type"): "--algorithms",
}
"""Keys every meta-learner run's own overlay sets after the report's overlays
(:func:`_window_overlay`, :func:`rl_overlay`), with the option that sets them instead."""


def _refuse_report_keys(path: Path, config: dict[str, Any]) -> None:
    """
    :raises ReportSettingsError: the overlay sets a key the report sets after it (its value would
        be silently replaced), naming the key and the option to use
    """
    for keys, option in REPORT_SET_KEYS.items():
        section: Any = config
        for key in keys:
            if not isinstance(section, dict) or key not in section:
                break
            section = section[key]
        else:
            raise ReportSettingsError(
                f"{path}: {'.'.join(keys)} is set by the report itself, after every overlay, "
                f"so this value would be ignored; use {option}"
            )


def _window_overlay(settings: ReportSettings) -> dict[str, Any]:
    return {
        "freqai": {
            "activate_tensorboard": True,  # training curves for the report
            "save_backtest_models": True,  # every window's model, for the model registry
            "train_period_days": settings.train_period_days,
            "backtest_period_days": settings.backtest_period_days,
        }
    }


def rl_overlay(settings: ReportSettings, algorithm: str, seed: int) -> dict[str, Any]:
    """
    :return: the FreqAI overlay of one meta-learner run (algorithm preset, seed and agent size;
        the report's runs set the identifier from the run's key)
    """
    try:
        overlay = algorithm_overlay(algorithm, seed)
    except UnknownAlgorithmError as e:
        raise ReportSettingsError(str(e)) from e
    freqai = overlay["freqai"]
    freqai["rl_config"].update(
        {"train_cycles": settings.train_cycles, "net_arch": list(settings.net_arch)}
    )
    if algorithm == shipped_meta_settings()["algorithms"][0] and not settings.quick:
        # the shipped algorithm trains with the shipped parameters, not the preset
        del freqai["model_training_parameters"]
        del freqai["rl_config"]["policy_type"]
        del freqai["rl_config"]["policy_kwargs"]
    if settings.quick:
        small = {"n_steps": 256, "batch_size": 64, "n_epochs": 2, "learning_starts": 200}
        params = freqai["model_training_parameters"]
        freqai["model_training_parameters"] = {
            k: (small.get(k, v) if k in params else v) for k, v in params.items()
        }
    return overlay


def build_plan(settings: ReportSettings, base_configs: tuple[str, ...]) -> list[RunSpec]:
    """
    :param settings: the report settings
    :param base_configs: exchange configs (``config.json`` and, on the Binance proxy, its
        overlay)
    :return: the runs: rule strategies (POC and votes, one backtest), the volatility-targeted
        baselines (:data:`VOL_TARGETED`), the stacker, and one meta-learner run per algorithm
        and seed
    """
    shared = tuple(settings.overlays)
    runs = [
        RunSpec("rules", "rules", SIGNAL_STRATEGIES + VOTE_STRATEGIES, (*base_configs, *shared)),
        RunSpec(
            VOL_TARGETED,
            "rules",
            VOL_TARGETED_STRATEGIES,
            (*base_configs, *shared),
            overlay={"bitbot": {"sizing": dict(VOL_TARGET)}},
        ),
        RunSpec(
            "stacker",
            "stacker",
            ("StackerStrategy",),
            (*base_configs, STACKER_OVERLAY, *shared),
            overlay=_window_overlay(settings),
        ),
    ]
    for algorithm in settings.algorithms:
        for seed in settings.seeds_of(algorithm):
            overlay = rl_overlay(settings, algorithm, seed)
            overlay["freqai"].update(_window_overlay(settings)["freqai"])
            runs.append(
                RunSpec(
                    f"meta-{algorithm.lower()}-s{seed}",
                    "rl",
                    ("MetaStrategy",),
                    (*base_configs, FREQAI_OVERLAY, *shared, *settings.meta_overlays),
                    overlay=overlay,
                    algorithm=algorithm,
                    seed=seed,
                )
            )
    headline = [r for r in runs if r.kind == "rl" and r.algorithm == settings.algorithms[0]]
    deployed = settings.deployed_overlays
    for i, shipped in enumerate(headline if settings.deployed_all_seeds else headline[:1]):
        runs.append(as_deployed(shipped, deployed, AS_DEPLOYED if i == 0 else None))
    if settings.deployed_all_seeds:
        rules = runs[0]
        runs.append(
            RunSpec(
                RULES_AS_DEPLOYED,
                "rules",
                rules.strategies,
                (*rules.configs, *deployed),
                overlay=_risk_applied({}),
            )
        )
    return runs


VOL_TARGETED = "rules-vol-targeted"
"""The stronger baselines of issue 14: the best rule strategy and the votes sized to a target
volatility (:data:`VOL_TARGET`), beside their full-stake runs; their results are named
``<strategy>-vol-targeted``."""
VOL_TARGETED_SUFFIX = "-vol-targeted"
VOL_TARGETED_STRATEGIES = (
    "VolatilitySystem",
    "EqualVoteStrategy",
    "PortfolioStrategy",
    "FollowTheLeaderStrategy",
    "WinnersPortfolioStrategy",
)
VOL_TARGET = {"target_volatility": 0.4, "volatility_days": 30, "max_scale": 1.0}
"""``bitbot.sizing`` of the volatility-targeted baselines: 40 % a year over 30 days, never more
than the full stake (Moskowitz, Ooi & Pedersen 2012)."""
AS_DEPLOYED = "meta-as-deployed"
"""The run of the shipped default as dry-run and live trade it: the risk controls on (the first
seed; the others' are ``meta-as-deployed-s<seed>``)."""
RULES_AS_DEPLOYED = "rules-as-deployed"
"""The rule strategies and votes as dry-run and live trade them: the risk controls on."""


def _risk_applied(overlay: dict[str, Any]) -> dict[str, Any]:
    """:return: a copy of ``overlay`` with ``bitbot.risk`` applied in backtests"""
    out = json.loads(json.dumps(overlay))
    out.setdefault("bitbot", {}).setdefault("risk", {})["apply_in_backtests"] = True
    return out


def as_deployed(
    shipped: RunSpec, overlays: tuple[str, ...] = (), name: str | None = AS_DEPLOYED
) -> RunSpec:
    """
    :param shipped: a seed of the shipped algorithm
    :param overlays: config files merged after its own (``deployed_overlays``)
    :param name: the run's name (None: ``meta-as-deployed-s<seed>``)
    :return: the same configuration with ``bitbot.risk`` applied in the backtest, trading the
        models ``shipped`` trained (so it differs from it only by the risk controls)
    """
    return RunSpec(
        name or f"{AS_DEPLOYED}-s{shipped.seed}",
        "rl",
        shipped.strategies,
        (*shipped.configs, *overlays),
        overlay=_risk_applied(shipped.overlay),
        algorithm=shipped.algorithm,
        seed=shipped.seed,
        models_of=shipped.name,
    )
