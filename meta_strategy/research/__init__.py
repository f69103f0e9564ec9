"""
Research: the POC strategies side by side (:mod:`.compare`), hyperopt (:mod:`.tune`), the
look-ahead and recursive bias check (:mod:`.bias`), performance metrics (:mod:`.metrics`) and
the walk-forward research report (:mod:`.report`).
"""
