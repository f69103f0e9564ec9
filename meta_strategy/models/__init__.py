"""
The trained meta-models: on disk (:mod:`.store`: FreqAI's walk-forward folders, file checks),
in the registry (:mod:`.registry`: SQLite) and the one the bot trades with (:mod:`.promotion`).
"""
