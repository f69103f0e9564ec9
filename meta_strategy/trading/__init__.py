"""
Turning a target exposure into Freqtrade trades, under controls no model can override:
the strategy base (:mod:`.exposure`), leverage (:mod:`.leverage`), the ``bitbot`` config
section (:mod:`.config`), risk limits (:mod:`.risk`), safe mode (:mod:`.safe_mode`) and the
decision messages (:mod:`.decisions`).
"""
