"""
Telegram endpoint: point Freqtrade's Telegram RPC at another Bot API server.

Freqtrade builds its python-telegram-bot ``Application`` in ``Telegram._init_telegram_app`` with
the default server, ``https://api.telegram.org``. :func:`install_telegram_endpoint` (called by
``bitbot`` before Freqtrade starts) wraps that method: when ``BITBOT_TELEGRAM_API_URL`` is set,
the Application talks to that URL instead, for example

* a self-hosted Telegram Bot API server (``telegram-bot-api``):
  ``BITBOT_TELEGRAM_API_URL=http://127.0.0.1:8081/bot``;
* the local stub of :mod:`tests.helpers.telegram_stub`, to rehearse a deployment or to measure
  how long a message takes from the strategy to the server, with no Telegram account:
  ``python -m tests.helpers.telegram_stub --port 8081`` beside the bot.

The URL is the Bot API's ``base_url``: the token is appended to it (``.../bot<token>/getMe``),
or put where it says ``{token}``. Files are fetched from ``BITBOT_TELEGRAM_FILE_URL`` when set,
else from the same server (a URL ending in ``/bot`` becomes ``.../file/bot``). Unset, nothing
changes. The token and chat id still come from the config (``FREQTRADE__TELEGRAM__TOKEN``,
``FREQTRADE__TELEGRAM__CHAT_ID``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from meta_strategy.freqtrade_bridge import patch_telegram_endpoint


logger = logging.getLogger(__name__)

API_URL_ENV = "BITBOT_TELEGRAM_API_URL"
FILE_URL_ENV = "BITBOT_TELEGRAM_FILE_URL"


def telegram_urls(env: Mapping[str, str] | None = None) -> tuple[str, str | None] | None:
    """
    :param env: environment (``os.environ`` by default)
    :return: (base_url, base_file_url or None) from ``BITBOT_TELEGRAM_API_URL`` and
        ``BITBOT_TELEGRAM_FILE_URL``, None when the first is unset or empty
    """
    env = os.environ if env is None else env
    url = env.get(API_URL_ENV, "").strip()
    if not url:
        return None
    file_url = env.get(FILE_URL_ENV, "").strip() or None
    if file_url is None and url.endswith("/bot"):
        file_url = f"{url[: -len('bot')]}file/bot"
    return url, file_url


def install_telegram_endpoint(force: bool = False) -> bool:
    """
    Let Freqtrade's Telegram talk to the Bot API server of ``BITBOT_TELEGRAM_API_URL``
    (:func:`meta_strategy.freqtrade_bridge.patch_telegram_endpoint`, idempotent). The variable
    is read each time Freqtrade starts Telegram; unset, Freqtrade's own method runs.

    Without ``BITBOT_TELEGRAM_API_URL`` at the time of the call nothing is imported or wrapped
    (importing Freqtrade's Telegram module takes seconds, and most ``bitbot`` commands never
    start Telegram).

    :param force: wrap even when the variable is not set (yet)
    :return: True when the method is wrapped
    """
    if not force and telegram_urls() is None:
        return False
    patch_telegram_endpoint(_announced_urls)
    return True


def _announced_urls() -> tuple[str, str | None] | None:
    """:return: :func:`telegram_urls`, logged when set (each time Freqtrade starts Telegram)"""
    urls = telegram_urls()
    if urls is not None:
        logger.info("bitbot: Telegram Bot API at %s (%s)", urls[0], API_URL_ENV)
    return urls
