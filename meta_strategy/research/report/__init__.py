"""
The walk-forward research report (``bitbot report``): :mod:`.plan` (what runs), :mod:`.runs`
(running or reusing the Freqtrade backtests), :mod:`.equity` (mark-to-market equity from the
trades), :mod:`.analysis` (metrics, intervals, winners), :mod:`.training` (tensorboard curves),
:mod:`.html` (the page) and :mod:`.build` (the command).
"""
