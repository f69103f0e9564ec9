"""
The futures trading environment the meta-learner trains in, and how it is trained.

* :mod:`~meta_strategy.rl.costs`: fees, slippage, funding, leverage, liquidation (one typed
  :class:`~meta_strategy.rl.costs.CostModel`);
* :mod:`~meta_strategy.rl.rewards`: pluggable reward functions;
* :mod:`~meta_strategy.rl.env`: :class:`~meta_strategy.rl.env.FuturesTradingEnv`, a
  ``gymnasium.Env`` whose action is a target exposure and whose observation includes the
  agent's own position;
* :mod:`~meta_strategy.rl.algorithms`: training parameters that fit each stable-baselines3
  algorithm.
"""
