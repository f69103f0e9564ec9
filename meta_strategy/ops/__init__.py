"""
Running the bot: the start-up guard of its remote controls (:mod:`.security`), Telegram's
endpoint (:mod:`.telegram`) and the offline replay against a recorded market (:mod:`.replay`).
"""
