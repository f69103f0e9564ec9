"""One cost per fill: the fee plus ``bitbot.slippage_bps``, folded once, read by the environment."""

from __future__ import annotations

import pytest

from meta_strategy.rl.costs import (
    CostConfigError,
    CostModel,
    cost_per_fill,
    fold_slippage,
    stake_fraction,
)


def test_fold_adds_the_slippage_to_the_fee_once() -> None:
    config = {"fee": 0.0005, "bitbot": {"slippage_bps": 2.0}}
    fold_slippage(config)
    assert config["fee"] == pytest.approx(0.0007)
    assert config["bitbot"]["fee_without_slippage"] == 0.0005
    fold_slippage(config)  # a second load of the same config changes nothing
    assert config["fee"] == pytest.approx(0.0007)


def test_the_environment_pays_what_the_backtest_pays_folded_or_not() -> None:
    raw = {"fee": 0.0005, "bitbot": {"slippage_bps": 2.0}}
    folded = {"fee": 0.0005, "bitbot": {"slippage_bps": 2.0}}
    fold_slippage(folded)
    assert cost_per_fill(raw) == pytest.approx(0.0007) == cost_per_fill(folded)
    # the environment charges the config's fee, as the backtester of that config does
    assert CostModel.from_config(folded).fee == pytest.approx(folded["fee"]) == 0.0007
    assert CostModel.from_config(raw).fee == pytest.approx(0.0005)  # plain freqtrade


def test_a_slippage_without_a_fee_is_refused() -> None:
    with pytest.raises(CostConfigError, match="sets no 'fee'"):
        fold_slippage({"bitbot": {"slippage_bps": 2.0}})
    with pytest.raises(CostConfigError, match="sets no 'fee'"):
        fold_slippage({"runmode": "backtest"})  # a simulation needs an explicit fee
    fold_slippage({"runmode": "util_exchange"})  # e.g. download-data: nothing to fold


@pytest.mark.parametrize("bad", [-1.0, 100.0, "2", True])
def test_bad_slippage_names_the_setting(bad: object) -> None:
    with pytest.raises(CostConfigError, match=r"bitbot\.slippage_bps"):
        cost_per_fill({"fee": 0.0005, "bitbot": {"slippage_bps": bad}})


def test_old_slippage_keys_in_rl_config_say_where_slippage_went() -> None:
    config = {"fee": 0.0005, "freqai": {"rl_config": {"costs": {"slippage_bps": 2.0}}}}
    with pytest.raises(CostConfigError, match=r"bitbot\.slippage_bps"):
        CostModel.from_config(config)
    with pytest.raises(CostConfigError, match=r"costs has unknown key\(s\) 'fundin' \(did you"):
        CostModel.from_config({"fee": 0.0005, "freqai": {"rl_config": {"costs": {"fundin": 1}}}})


def test_no_fee_is_an_error() -> None:
    with pytest.raises(CostConfigError, match="'fee' explicitly"):
        CostModel.from_config({})


def test_stake_fraction_follows_freqtrade() -> None:
    assert stake_fraction({"stake_amount": "unlimited"}) == 0.99
    assert stake_fraction({"stake_amount": "unlimited", "tradable_balance_ratio": 1.0}) == 1.0
    assert stake_fraction({"stake_amount": 100}) == 1.0
    with pytest.raises(ValueError, match="stake_fraction"):
        CostModel(stake_fraction=0.0)
