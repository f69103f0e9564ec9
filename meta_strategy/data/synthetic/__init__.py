"""
A deterministic SYNTHETIC BTC perpetual-futures market, for running BitBot offline:
:mod:`.config` (its parameters), :mod:`.simulate` (the model, :func:`.simulate.generate_market`)
and :mod:`.files` (written in Freqtrade's layout with a SYNTHETIC marker). Results on it
exercise the machinery; they say nothing about real markets.
"""
