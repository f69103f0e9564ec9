"""
BitBot's importable library: indicators, timeframes, markets snapshots, data checks and the
pieces Freqtrade strategies share. Strategy files in ``user_data/strategies`` stay thin and
import from here.
"""

__version__ = "0.1.0"
