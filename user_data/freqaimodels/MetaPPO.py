"""
MetaPPO: the meta-learner. A FreqAI ``ReinforcementLearner`` that trades the futures
environment of ``meta_strategy.rl`` (fees, funding, slippage, leverage, liquidation; action =
target exposure; the agent's own exposure in the observation).

What it changes in FreqAI's reinforcement learner:

* training uses :class:`~meta_strategy.rl.env.FuturesTradingEnv` with costs from the config
  (``fee``, ``bitbot.leverage``, ``freqai.rl_config.costs``) and the reward named in
  ``freqai.rl_config.model_reward_parameters.reward``;
* prediction walks the window candle by candle and feeds the chosen exposure back into the
  next observation (:func:`~meta_strategy.rl.env.build_observation`, the same code as training);
  in dry-run / live the last candle sees the exposure of the open trade;
* with a decision clock (``freqai.rl_config.decision_clock``, :mod:`meta_strategy.rl.clock`)
  the agent decides only on the candles the strategy marks (``%-raw_decision``) and holds its
  exposure in between, in training (the environment repeats the action) and in prediction;
* everything is seeded (``freqai.rl_config.seed``): the same config and data give the same model
  and the same trades;
* with ``freqai.continual_learning`` each walk-forward window's agent starts from the previous
  window's (a warm start: it keeps what it learnt and adapts to the new window) instead of from
  scratch;
* PPO by default; A2C, DQN and the sb3-contrib models FreqAI supports are chosen with
  ``freqai.rl_config.model_type`` (RecurrentPPO with ``policy_type: MlpLstmPolicy``: its LSTM
  state is carried through the prediction walk). ``meta_strategy.rl.algorithms`` has training
  parameters that fit each algorithm; parameters the chosen one does not take are dropped with a
  warning, and ``rl_config.policy_kwargs`` reaches the policy (e.g. ``lstm_hidden_size``);
* with ``freqai.rl_config.train_with_stops`` the training environment trails the risk layer's
  stop as the deployed bot does; with ``synthetic_pretraining`` each new agent first trains on
  a generated market (:mod:`meta_strategy.rl.pretraining`), with ``behaviour_cloning`` it
  learns to take a simple combiner's actions (:mod:`meta_strategy.rl.imitation`), then it
  trains on the window;
* with ``freqai.rl_config.predictors`` (:mod:`meta_strategy.rl.predictors`) a LightGBM and a
  GRU forecast of the next day's return, fitted on each window's training data (out of fold on
  the candles the agent trains on), join the agent's observation; the fitted predictors are
  saved next to the agent's file;
* with ``freqai.activate_tensorboard`` each window's losses, training-episode rewards and
  held-out evaluation rewards are logged under ``<models>/<identifier>/tensorboard``.
"""

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch as th
from datasieve.pipeline import Pipeline
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.freqai.prediction_models.ReinforcementLearner import ReinforcementLearner
from freqtrade.persistence import Trade
from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.utils import set_random_seed

from meta_strategy.rl.actions import ActionMode, choice_columns, level_choices
from meta_strategy.rl.algorithms import accepted_parameters
from meta_strategy.rl.columns import market_frame, observed_columns
from meta_strategy.rl.costs import CostModel, exchange_amount_step
from meta_strategy.rl.ensemble import AgentEnsemble, EnsembleConfig
from meta_strategy.rl.env import FuturesTradingEnv, MarketArrays, build_observation, exposure_levels
from meta_strategy.rl.errors import check_rl_config_keys
from meta_strategy.rl.imitation import CloningConfig, clone_behaviour, cloning_set
from meta_strategy.rl.predictors import PredictorStack, predictors_path, with_forecasts
from meta_strategy.rl.pretraining import PretrainingConfig, pretraining_inputs
from meta_strategy.rl.rewards import make_reward
from meta_strategy.rl.vector import evaluation_interval, n_envs_of, seed_envs, training_envs
from meta_strategy.trading.exposure import EXPOSURE_TAG


logger = logging.getLogger(__name__)


class MetaPPO(ReinforcementLearner):
    """FreqAI reinforcement learner over the BitBot futures environment."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_rl_config_keys(self.rl_config)
        self.seed = int(self.rl_config.get("seed", 42))
        self.levels = exposure_levels(int(self.rl_config.get("exposure_levels", 3)))
        self.costs = CostModel.from_config(self.config)
        # a bad reward stops the bot at start-up, not every training (which FreqAI would skip)
        make_reward(self.rl_config.get("model_reward_parameters", {}))
        self.action_mode = ActionMode.from_rl_config(self.rl_config)
        self.ensemble = EnsembleConfig.from_rl_config(self.rl_config)
        self.n_envs = n_envs_of(self.rl_config)
        self.predictors = PredictorStack.from_rl_config(self.rl_config, self.seed)
        self.cloning = CloningConfig.from_rl_config(self.rl_config)
        self.pretraining = PretrainingConfig.from_rl_config(self.rl_config)
        self._strategy: Any = None
        """the strategy FreqAI serves (it computes the features of the pre-training market)"""
        self._synthetic: dict[str, pd.DataFrame] = {}
        """pair -> the strategy's columns on the pre-training market (the same every window)"""
        self.pretrain_env: Any = None
        self._cloning_set: tuple[np.ndarray, np.ndarray] | None = None
        """the training window's decisions as the teacher takes them (behaviour_cloning)"""
        self._stacks: dict[str, tuple[str, PredictorStack]] = {}
        """pair -> (model file name, the fitted predictors of that window's agent)"""
        self._carry_exposure: dict[str, float] = {}
        self._carry_action: dict[str, int] = {}
        self._decisions: dict[str, np.ndarray] = {}
        """pair -> the decision candles of the window being predicted (drop_ohlc_from_df)"""
        self._choices: dict[str, np.ndarray] = {}
        """pair -> the choice matrix of the window being predicted (drop_ohlc_from_df)"""
        self._agents: dict[str, Any] = {}
        """pair -> the last agent trained, for continual learning (FreqAI keeps backtest models
        in memory only with save_backtest_models)"""

    # ---------------------------------------------------------------- data preparation

    def build_ohlc_price_dataframes(
        self, data_dictionary: dict, pair: str, dk: FreqaiDataKitchen
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """
        Take the raw prices and funding rates out of the features (the agent does not see them;
        the environment trades on them).

        :return: train and test market frames (open, high, low, close, funding_rate); the test
            frame is empty with ``test_size`` 0 (no held-out split, no checkpoint choice)
        """
        test = data_dictionary["test_features"]
        frames = [
            market_frame(data_dictionary["train_features"]),
            market_frame(test) if len(test.columns) else pd.DataFrame(),
        ]
        self.drop_ohlc_from_df(data_dictionary["train_features"], dk)
        self.drop_ohlc_from_df(data_dictionary["test_features"], dk)
        return frames[0], frames[1]

    def drop_ohlc_from_df(self, df: pd.DataFrame, dk: FreqaiDataKitchen) -> pd.DataFrame:
        """
        Drop the raw market columns from the observation, always. They stay in
        ``dk.training_features_list``: that is the list of what the strategy furnishes, which
        FreqAI compares when it reuses a trained model. The decision candles are kept for the
        prediction walk (FreqAI drops them here, before it normalises the features).
        """
        if "%-raw_decision" in df:
            self._decisions[dk.pair] = df["%-raw_decision"].to_numpy(dtype=np.float64) > 0.5
        choices = choice_columns(df.columns)
        if choices:
            self._choices[dk.pair] = df[choices].to_numpy(dtype=np.float64)
        observed = set(observed_columns(df.columns))
        df.drop([c for c in df if c not in observed], axis=1, inplace=True)
        return df

    def define_data_pipeline(self, threads: int = -1) -> Pipeline:
        """
        FreqAI's feature pipeline; with ``continual_learning`` without its removal of constant
        features: a warm start needs the same observation in every window, and a strategy that
        stayed flat through one window would otherwise drop its features there.
        """
        pipeline = super().define_data_pipeline(threads)
        if self.continual_learning:
            steps = [(name, step) for name, step in pipeline.steps if name != "const"]
            pipeline = Pipeline(steps)
        return pipeline

    # ---------------------------------------------------------------- environments and training

    def _make_env(
        self,
        features: pd.DataFrame,
        prices: pd.DataFrame,
        episode_length: int | None,
        costs: CostModel,
    ) -> FuturesTradingEnv:
        wallet = self.config.get("dry_run_wallet", 1.0)
        return FuturesTradingEnv(
            features.to_numpy(dtype=np.float32),
            MarketArrays.from_frame(prices),
            costs=costs,
            reward=make_reward(self.rl_config.get("model_reward_parameters", {})),
            levels=self.levels,
            episode_length=episode_length,
            # the bot's wallet, so that amounts truncate to the exchange's step as they will
            initial_equity=float(wallet) if isinstance(wallet, int | float) else 1.0,
            decisions=prices["decision"].to_numpy(dtype=np.float64) > 0.5,
            choices=self._choice_matrix(prices),
            benchmark=prices["%-raw_benchmark"].to_numpy() if "%-raw_benchmark" in prices else None,
            scales=prices["%-raw_scale"].to_numpy() if "%-raw_scale" in prices else None,
            stops=prices["%-raw_stop"].to_numpy() if "%-raw_stop" in prices else None,
        )

    def _choice_matrix(self, frame: pd.DataFrame) -> np.ndarray | None:
        """:return: the action mode's choice matrix from the strategy's columns (None: the
        target mode's levels)"""
        columns = choice_columns(frame.columns)
        if not columns:
            if self.action_mode.mode != "target":
                raise ValueError(
                    f"MetaPPO: action_mode {self.action_mode.mode!r} needs the strategy's "
                    "choice columns (%-raw_choice_<n>); the MetaStrategy furnishes them"
                )
            return None
        return frame[columns].to_numpy(dtype=np.float64)

    def set_train_and_eval_environments(
        self,
        data_dictionary: dict[str, pd.DataFrame],
        prices_train: pd.DataFrame,
        prices_test: pd.DataFrame,
        dk: FreqaiDataKitchen,
    ) -> None:
        """
        Training env (optionally random episode starts; ``n_envs`` copies stepped together, see
        :mod:`meta_strategy.rl.vector`) and a held-out evaluation env.
        """
        episode_length = self.rl_config.get("episode_length")
        exchange = getattr(self.data_provider, "_exchange", None)
        costs = replace(self.costs, amount_step=exchange_amount_step(exchange, dk.pair))
        train_features = data_dictionary["train_features"]
        if self.predictors.models:  # the forecasts join the observation
            stack = replace(self.predictors, fitted=[])
            logger.info("MetaPPO: stacked predictors %s", stack)
            train_features, data_dictionary["test_features"] = stack.forecast_window(
                train_features, data_dictionary["test_features"], prices_train["close"]
            )
            stack.save(predictors_path(Path(dk.data_path) / f"{dk.model_filename}_model.zip"))
            self._stacks[dk.pair] = (dk.model_filename, stack)
        self._cloning_set = None
        if self.cloning.teacher is not None:
            choices = self._choice_matrix(prices_train)
            if choices is None:
                choices = level_choices(self.levels, len(prices_train))
            self._cloning_set = cloning_set(
                train_features.to_numpy(dtype=np.float32),
                choices,
                prices_train["%-raw_teacher"].to_numpy(dtype=np.float64),
                prices_train["decision"].to_numpy(dtype=np.float64) > 0.5,
            )
        self.train_env = training_envs(
            lambda: self._make_env(train_features, prices_train, episode_length, costs),
            self.n_envs,
        )
        seed_envs(self.train_env, self.seed)
        self.pretrain_env, self.pretrain_timesteps = None, 0
        if self.pretraining.active:
            self.pretrain_env, self.pretrain_timesteps = self._pretraining_envs(
                dk, costs, episode_length
            )
        self.eval_env = None
        if len(data_dictionary["test_features"]) > 1:
            self.eval_env = Monitor(
                self._make_env(data_dictionary["test_features"], prices_test, None, costs)
            )
            self.eval_env.reset(seed=self.seed)

    def start(self, dataframe: pd.DataFrame, metadata: dict, strategy: Any) -> pd.DataFrame:
        """FreqAI's entry point; keeps the strategy for the pre-training market's features."""
        self._strategy = strategy
        return super().start(dataframe, metadata, strategy)

    def _pretraining_envs(
        self, dk: FreqaiDataKitchen, costs: CostModel, episode_length: int | None
    ) -> tuple[Any, int]:
        """
        :return: training environments on the generated market (:mod:`meta_strategy.rl.
            pretraining`), its features scaled by this window's fitted pipeline, and the
            pre-training's timesteps
        :raises RLConfigError: the strategy cannot compute its features there (named)
        """
        if dk.pair not in self._synthetic:  # the same market and features every window
            self._synthetic[dk.pair] = self.pretraining.strategy_frame(self._strategy, dk.pair)
        features, prices = pretraining_inputs(
            self._synthetic[dk.pair], list(dk.training_features_list), dk.feature_pipeline
        )
        stack = self.stack_of(dk)
        if stack is not None:  # the window's predictors forecast the generated market too
            features = pd.DataFrame(with_forecasts(features, stack.predict(features.to_numpy())))
        envs = training_envs(
            lambda: self._make_env(features, prices, episode_length, costs), self.n_envs
        )
        return envs, self.pretraining.timesteps(len(prices))

    def stack_of(self, dk: FreqaiDataKitchen) -> PredictorStack | None:
        """
        :return: the predictors of the agent in use (fitted in this process, or loaded from
            the file next to its model); None without predictors
        :raises RLConfigError: their file is missing or unreadable (named)
        """
        if not self.predictors.models:
            return None
        model_name, stack = self._stacks.get(dk.pair, ("", None))
        if stack is None or model_name != dk.model_filename:
            model_file = Path(dk.data_path) / f"{dk.model_filename}_model.zip"
            stack = PredictorStack.load(predictors_path(model_file))
            self._stacks[dk.pair] = (dk.model_filename, stack)
        return stack

    def fit(self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, **kwargs: Any) -> Any:
        """
        Train the agent for ``train_cycles`` passes over the training window, seeded; with
        ``rl_config.ensemble`` one agent per member (seeds ``seed``, ``seed + 1``, ...).

        :return: the best model on the held-out split when there is one, else the final model
            (an :class:`~meta_strategy.rl.ensemble.AgentEnsemble` of them with an ensemble)
        """
        previous = None
        if self.continual_learning:  # the last agent trained here, or the one loaded at start
            previous = self._agents.get(dk.pair) or self.dd.model_dictionary.get(dk.pair)
        earlier = previous.members if isinstance(previous, AgentEnsemble) else [previous]
        members = [
            self._train_member(data_dictionary, dk, i, earlier[i] if i < len(earlier) else None)
            for i in range(self.ensemble.members)
        ]
        model: Any = members[0]
        if len(members) > 1:
            model = AgentEnsemble(members, self.ensemble.vote, self.levels)
        self._agents[dk.pair] = model
        return model

    def _new_agent(self, dk: FreqaiDataKitchen, seed: int) -> Any:
        """
        :return: a new agent, pre-trained on the generated market with
            ``synthetic_pretraining``, then taught the teacher's actions with
            ``behaviour_cloning`` (in that order)
        """
        policy_kwargs = {
            "activation_fn": th.nn.ReLU,
            "net_arch": self.net_arch,
            **self.rl_config.get("policy_kwargs", {}),
        }
        # With freqai.activate_tensorboard, SB3 logs the losses and the held-out evaluation
        # reward of every window here (the research report plots them).
        tensorboard_log = (
            Path(dk.full_path / "tensorboard" / dk.pair.split("/")[0])
            if self.activate_tensorboard
            else None
        )
        model = self.MODELCLASS(
            self.policy_type,
            self.train_env,
            policy_kwargs=policy_kwargs,
            seed=seed,
            device="cpu",
            verbose=0,
            tensorboard_log=tensorboard_log,
            **accepted_parameters(
                self.MODELCLASS,
                self.freqai_info.get("model_training_parameters", {}),
                self.model_type,
            ),
        )
        if self.pretrain_env is not None:  # first the generated market, then the window
            logger.info("MetaPPO: synthetic pre-training, %d timesteps.", self.pretrain_timesteps)
            seed_envs(self.pretrain_env, seed)
            model.set_env(self.pretrain_env)
            model.learn(self.pretrain_timesteps)
            model.set_env(self.train_env)
        if self._cloning_set is not None:  # a warm start: the teacher's decisions first
            imitated = clone_behaviour(model, *self._cloning_set, self.cloning.epochs, seed)
            logger.info(
                "MetaPPO: behaviour cloning of %s: %s of the window's decisions imitated",
                self.cloning.teacher,
                "none" if imitated is None else f"{imitated:.0%}",
            )
        return model

    def _train_member(
        self, data_dictionary: dict[str, Any], dk: FreqaiDataKitchen, member: int, previous: Any
    ) -> Any:
        """
        :param member: ensemble member number (its seed is ``seed + member``)
        :param previous: the previous window's agent for continual learning, else None
        :return: the trained agent (the best on the held-out split when there is one)
        """
        seed = self.seed + member
        set_random_seed(seed)
        th.manual_seed(seed)
        if member > 0:  # member 0's environment was seeded when it was built
            seed_envs(self.train_env, seed)
        train_len = len(data_dictionary["train_features"])
        total_timesteps = int(self.rl_config["train_cycles"] * train_len)
        if isinstance(previous, self.MODELCLASS) and (
            previous.observation_space != self.train_env.observation_space
            or previous.action_space != self.train_env.action_space
        ):
            logger.warning(
                "MetaPPO: continual learning, but this window's observation or actions differ "
                "from the previous agent's (%s, %s); training this one from scratch.",
                self.train_env.observation_space,
                self.train_env.action_space,
            )
            previous = None
        if isinstance(previous, self.MODELCLASS):
            # freqai.continual_learning: the previous window's agent trains on (warm start)
            logger.info("MetaPPO: continual learning, training on from the previous agent.")
            model = previous
            model.set_env(self.train_env)
            model.set_random_seed(seed)
        else:
            model = self._new_agent(dk, seed)
        folder = Path(dk.data_path) if member == 0 else Path(dk.data_path) / f"member{member}"
        callbacks = []
        if self.eval_env is not None:
            self.eval_env.reset(seed=seed)
            callbacks.append(
                MaskableEvalCallback(
                    self.eval_env,
                    deterministic=True,
                    render=False,
                    eval_freq=evaluation_interval(train_len, self.n_envs),
                    best_model_save_path=str(folder),
                    use_masking=False,
                    verbose=0,
                )
            )
        model.learn(
            total_timesteps=total_timesteps,
            callback=callbacks,
            tb_log_name=dk.data_path.name,  # one log per walk-forward window
        )
        best = folder / "best_model.zip"
        if best.is_file():
            logger.info("MetaPPO: using the best model on the held-out split.")
            model = self.MODELCLASS.load(best, device="cpu")
        return model

    # ---------------------------------------------------------------- prediction

    def live_exposure(self, pair: str) -> float:
        """:return: the exposure of the open trade on ``pair`` (0 when flat)"""
        for trade in Trade.get_trades_proxy(is_open=True):
            if trade.pair == pair:
                sign = -1.0 if trade.is_short else 1.0
                return float(trade.get_custom_data(EXPOSURE_TAG, default=sign))
        return 0.0

    def ensemble_of(self, model: Any, dk: FreqaiDataKitchen) -> Any:
        """
        :param model: what FreqAI trained or loaded (member 0 alone when it loaded the files)
        :return: the ensemble with every member (kept for the next candles in dry-run / live),
            or ``model`` without an ensemble
        :raises EnsembleFileError: a member's file is missing or unreadable (named)
        """
        if self.ensemble.members == 1 or isinstance(model, AgentEnsemble):
            return model
        model_file = Path(dk.data_path) / f"{dk.model_filename}_model.zip"
        ensemble = AgentEnsemble.load(
            model, model_file, self.ensemble.members, self.ensemble.vote, self.levels
        )
        self.dd.model_dictionary[dk.pair] = ensemble
        return ensemble

    def rl_model_predict(
        self, dataframe: pd.DataFrame, dk: FreqaiDataKitchen, model: Any
    ) -> pd.DataFrame:
        """
        Walk the window in order: each observation carries the exposure chosen on the previous
        candle, exactly as in training. Backtest windows continue from the exposure the
        previous window ended with. Between the decision clock's candles the last action is
        held, and with it its choice (:mod:`meta_strategy.rl.actions`: in the select mode the
        chosen strategy's direction, candle by candle).

        :return: one action per row in the label column
        """
        features = dataframe.to_numpy(dtype=np.float32)
        stack = self.stack_of(dk)
        forecasts = stack.predict(features) if stack is not None else np.zeros((len(features), 0))
        features = with_forecasts(features, forecasts)
        n = len(features)
        actions = np.zeros(n, dtype=np.float64)
        exposure = 0.0 if self.live else self._carry_exposure.get(dk.pair, 0.0)
        held = self.action_mode.flat_action(self.levels)
        if not self.live:
            held = self._carry_action.get(dk.pair, held)
        decide = self._decisions.pop(dk.pair, None)
        if decide is None or len(decide) != n:
            decide = np.ones(n, dtype=bool)
        choices = self._choices.pop(dk.pair, None)
        if choices is None or len(choices) != n:
            choices = level_choices(self.levels, n)
        model = self.ensemble_of(model, dk)
        recurrent = getattr(self, "model_type", "") == "RecurrentPPO"
        state = None  # RecurrentPPO: the LSTM state, carried from candle to candle
        for i in range(n):
            if self.live and i == n - 1:
                exposure = self.live_exposure(dk.pair)
            if decide[i]:
                if isinstance(model, AgentEnsemble):
                    model.exposures = choices[i]  # a tie goes to the most cautious action
                obs = build_observation(features[i], exposure)
                if recurrent:
                    action, state = model.predict(
                        obs, state=state, episode_start=np.array([i == 0]), deterministic=True
                    )
                else:
                    action, _ = model.predict(obs, deterministic=True)
                held = int(action)
            actions[i] = held
            exposure = float(choices[i][held])
        self._carry_action[dk.pair] = held
        self._carry_exposure[dk.pair] = exposure
        predictions = {label: actions for label in dk.label_list}
        for j, column in enumerate(stack.columns if stack is not None else []):
            predictions[column] = forecasts[:, j]  # in the strategy's dataframe and plots
        return pd.DataFrame(predictions)
