"""
What the meta layer listens to: indicators (:mod:`.indicators`, numba kernels in
:mod:`.kernels`), the strategy registry (:mod:`.registry`), the signal engine that runs every
registered strategy at its own timeframe (:mod:`.engine`) and the vote baselines
(:mod:`.votes`).
"""
