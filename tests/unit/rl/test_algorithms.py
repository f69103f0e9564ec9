"""Training parameters per algorithm, and the exchange's amount step."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from stable_baselines3 import DQN, PPO

from meta_strategy.rl.algorithms import accepted_parameters
from meta_strategy.rl.costs import exchange_amount_step


def test_parameters_the_algorithm_does_not_take_are_dropped_with_a_warning(caplog) -> None:
    params = {"learning_rate": 3e-4, "n_epochs": 4, "batch_size": 64}
    assert accepted_parameters(PPO, params, "PPO") == params
    with caplog.at_level(logging.WARNING):
        kept = accepted_parameters(DQN, params, "DQN")
    assert kept == {"learning_rate": 3e-4, "batch_size": 64}
    assert "DQN does not take ['n_epochs']" in caplog.text


def _exchange(precision, mode, contract=1.0):
    return SimpleNamespace(
        get_precision_amount=lambda pair: precision,
        get_contract_size=lambda pair: contract,
        precisionMode=mode,
    )


def test_the_amount_step_from_the_markets() -> None:
    from ccxt import DECIMAL_PLACES, TICK_SIZE

    assert exchange_amount_step(_exchange(0.001, TICK_SIZE), "BTC/USDT:USDT") == 0.001
    assert exchange_amount_step(_exchange(3, DECIMAL_PLACES), "BTC/USDT:USDT") == pytest.approx(
        0.001
    )
    assert exchange_amount_step(_exchange(1.0, TICK_SIZE, 0.0001), "BTC/USD:USD") == 0.0001
    assert exchange_amount_step(_exchange(None, TICK_SIZE), "BTC/USD:USD") == 0.0
    assert exchange_amount_step(None, "BTC/USD:USD") == 0.0, "no exchange: no rounding"
