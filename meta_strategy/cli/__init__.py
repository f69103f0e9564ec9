"""
The ``bitbot`` command (:func:`meta_strategy.cli.main.main`).

``bitbot <freqtrade subcommand> ...`` runs Freqtrade unchanged, with four additions:

* markets and leverage tiers come from a markets snapshot when one is configured or the exchange
  cannot be reached (:mod:`meta_strategy.data.markets`), so every command works offline;
* ``--datadir`` defaults to ``$BITBOT_DATA`` when that is set;
* commands that read candles first check the data files and stop with a clear error naming the
  file and the problem (:mod:`meta_strategy.data.preflight`);
* ``trade`` and ``webserver`` refuse to start the REST API or Telegram with empty, default or
  exposed credentials (:mod:`meta_strategy.ops.security`).

BitBot's own subcommands, one module per group: :mod:`.markets` (``markets snapshot / build /
show``), :mod:`.data` (``synth``, ``data check``), :mod:`.research` (``compare``,
``bias-check``, ``tune``, ``report``, ``sweep``), :mod:`.models` (``models list / promote``) and
:mod:`.replay` (``replay``, ``replay-fault``); :mod:`.parser` assembles their parsers.
Handlers import what they need when they run, so ``bitbot --help`` starts quickly.
"""
