"""The parser of BitBot's own subcommands, assembled from one module per command group."""

from __future__ import annotations

import argparse

from meta_strategy.cli import data, markets, models, replay, research


BITBOT_COMMANDS = frozenset(
    {
        "markets",
        "synth",
        "data",
        "compare",
        "bias-check",
        "tune",
        "models",
        "report",
        "sweep",
        "confirm",
        "paired",
        "replay",
        "replay-fault",
    }
)
"""BitBot's own subcommands; any other goes to Freqtrade."""


def build_parser() -> argparse.ArgumentParser:
    """:return: the parser for BitBot's own subcommands (each sets ``handler``)"""
    parser = argparse.ArgumentParser(
        prog="bitbot",
        description="BitBot: Freqtrade with offline markets, plus BitBot's own commands. "
        "Any Freqtrade subcommand (backtesting, hyperopt, trade, ...) is passed to Freqtrade.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (markets, data, research, models, replay):
        group.add_parsers(sub)
    return parser
