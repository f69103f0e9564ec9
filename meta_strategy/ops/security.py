"""
Start-up guard for the bot's remote controls: Freqtrade's REST API (FreqUI) and Telegram.

Whoever can log into the REST API can open and close positions, so ``bitbot trade`` and
``bitbot webserver`` refuse to start (exit code 2) when the API is enabled with credentials that
are empty, Freqtrade's documented example values, ``.env.example``'s placeholders or too short, or
when it listens on anything but the loopback interface. The credentials never go into the
tracked config files: Freqtrade reads them from environment variables
(``FREQTRADE__API_SERVER__USERNAME`` and so on, see ``.env.example``), and the check looks at
the configuration exactly as Freqtrade will see it, the config files merged with those variables
by Freqtrade's own functions.

``user_data/config.json`` leaves ``api_server.jwt_secret_key`` out on purpose: Freqtrade's schema
requires at least 32 characters for it in every run mode, backtesting included, so an empty
string there would break every command; absent, Freqtrade fills in a documented default, which
this guard rejects.

Inside a container the API has to listen on ``0.0.0.0``; ``BITBOT_ALLOW_PUBLIC_API=1`` allows that
(docker-compose.yml sets it and publishes the port on the host's 127.0.0.1 only).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from meta_strategy.freqtrade_bridge import PreflightError


logger = logging.getLogger(__name__)

# Freqtrade subcommands that start the REST API (and, for trade, Telegram).
GUARDED_COMMANDS = {"trade", "webserver"}
ALLOW_PUBLIC_API_ENV = "BITBOT_ALLOW_PUBLIC_API"
MIN_PASSWORD_LENGTH = 12
# Freqtrade's config schema: api_server.jwt_secret_key has "minLength": 32.
MIN_JWT_SECRET_LENGTH = 32
SECRET_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

# Example and default values from Freqtrade's docs, config examples, templates and code
# (rest-api docs, config_full.example.json, deploy_config.py, webserver.py, config_schema.py,
# producer/consumer docs), and the placeholders of .env.example. Compared case-insensitively.
KNOWN_DEFAULTS = frozenset(
    v.lower()
    for v in (
        "freqtrader",
        "freqtrade",
        "SuperSecret1!",
        "SuperSecurePassword",
        "somethingrandom",
        "somethingRandomSomethingRandom123",
        "super-secret",
        "sercet_Ws_t0ken",
        "secret_ws_t0ken",
        "secret_ws_t0ken.",
        "your_exchange_key",
        "your_exchange_secret",
        "your_telegram_token",
        "your_telegram_chat_id",
        "change-me",
        "changeme",
        "change_me",
        "password",
        "admin",
        "secret",
    )
)
# A Telegram bot token as BotFather issues it: "<bot id>:<35 characters>".
TELEGRAM_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


class InsecureConfigError(PreflightError, ValueError):
    """The REST API or Telegram would start with missing, default or exposed credentials."""

    label = "insecure configuration"

    def __init__(self, problems: list[str], files: list[str] | None = None) -> None:
        """
        :param problems: one sentence per problem, each naming the key and the variable to set
        :param files: the configuration files the settings came from (named in the message)
        """
        self.problems = list(problems)
        where = f" ({', '.join(files)} + environment)" if files else ""
        super().__init__(
            f"refusing to start the bot's remote controls with insecure settings{where}:\n"
            + "\n".join(f"  - {p}" for p in self.problems)
            + "\nPut the values in .env (copy .env.example) or export them; generate secrets "
            f"with `{SECRET_HINT}`."
        )


def env_var(section: str, key: str) -> str:
    """
    :param section: top-level config section, e.g. ``api_server``
    :param key: key in that section, e.g. ``password``
    :return: the environment variable Freqtrade maps onto ``section.key``
    """
    return f"FREQTRADE__{section.upper()}__{key.upper()}"


def load_merged_config(files: list[str]) -> dict[str, Any]:
    """
    The configuration as Freqtrade's ``Configuration.load_config`` builds it before anything else
    touches it: the files (later ones win), then the ``FREQTRADE__SECTION__KEY`` environment
    variables on top. No command-line option of ``trade`` or ``webserver`` changes the
    ``api_server`` or ``telegram`` sections.

    :param files: configuration files, as given with ``-c``
    :return: merged configuration
    """
    from freqtrade.configuration.environment_vars import environment_vars_to_dict
    from freqtrade.configuration.load_config import load_from_files
    from freqtrade.misc import deep_merge_dicts

    return deep_merge_dicts(environment_vars_to_dict(), load_from_files(files))


def _is_default(value: str) -> bool:
    return value.strip().lower() in KNOWN_DEFAULTS


def _check_secret(
    problems: list[str],
    section: str,
    key: str,
    value: Any,
    *,
    min_length: int = 0,
    what: str,
) -> None:
    """Append a problem when ``section.key`` is missing, not text, a known default or short."""
    name = f"{section}.{key}"
    var = env_var(section, key)
    if value is None or value == "":
        problems.append(f"{name} is empty: set {var} to {what}.")
    elif not isinstance(value, str):
        problems.append(
            f"{name} is not text (Freqtrade read {var} as {type(value).__name__} {value!r}): "
            f"set {var} to {what}."
        )
    elif _is_default(value):
        problems.append(
            f"{name} is a documented example or placeholder value: set {var} to {what}."
        )
    elif len(value) < min_length:
        problems.append(
            f"{name} has {len(value)} characters, at least {min_length} are needed: "
            f"set {var} to {what}."
        )


def check_remote_access(
    config: Mapping[str, Any],
    *,
    api_forced: bool = False,
    env: Mapping[str, str] | None = None,
    files: list[str] | None = None,
) -> None:
    """
    Refuse insecure REST API and Telegram settings.

    The API (when ``api_server.enabled`` or ``api_forced``) needs a username, a password of at
    least 12 characters and a JWT secret of at least 32, none of them a known example value; a
    ``ws_token``, when set, must not be one either and needs 12 characters. It must listen on a
    loopback address unless ``BITBOT_ALLOW_PUBLIC_API=1``. Telegram (when enabled) needs a
    token and a chat id.

    :param config: merged configuration (:func:`load_merged_config`)
    :param api_forced: the command starts the API whatever ``api_server.enabled`` says
        (``webserver``)
    :param env: environment (``os.environ`` by default), for ``BITBOT_ALLOW_PUBLIC_API``
    :param files: the configuration files, named in the error
    :raises InsecureConfigError: with every problem found
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    api = config.get("api_server") or {}
    if api_forced or api.get("enabled"):
        _check_api(problems, api, allow_public=env.get(ALLOW_PUBLIC_API_ENV) == "1")
    telegram = config.get("telegram") or {}
    if telegram.get("enabled"):
        _check_telegram(problems, telegram)
    if problems:
        raise InsecureConfigError(problems, files)


def _check_api(problems: list[str], api: Mapping[str, Any], *, allow_public: bool) -> None:
    section = "api_server"
    username = api.get("username")
    _check_secret(problems, section, "username", username, what="the FreqUI / API login name")
    password = api.get("password")
    before = len(problems)
    _check_secret(
        problems,
        section,
        "password",
        password,
        min_length=MIN_PASSWORD_LENGTH,
        what=f"a random password of at least {MIN_PASSWORD_LENGTH} characters",
    )
    if len(problems) == before and password == username:
        problems.append(
            f"api_server.password equals the username: set {env_var(section, 'password')} to "
            "a random password."
        )
    _check_secret(
        problems,
        section,
        "jwt_secret_key",
        api.get("jwt_secret_key"),
        min_length=MIN_JWT_SECRET_LENGTH,
        what=f"a random secret of at least {MIN_JWT_SECRET_LENGTH} characters",
    )
    ws_token = api.get("ws_token")
    tokens = ws_token if isinstance(ws_token, list) else [ws_token]
    for token in tokens:
        if token not in (None, ""):  # optional: only producer / consumer mode uses it
            _check_secret(
                problems,
                section,
                "ws_token",
                token,
                min_length=MIN_PASSWORD_LENGTH,
                what=f"a random token of at least {MIN_PASSWORD_LENGTH} characters, or nothing",
            )
    address = api.get("listen_ip_address")
    var = env_var(section, "listen_ip_address")
    try:
        loopback = ipaddress.ip_address(str(address)).is_loopback
    except ValueError:
        problems.append(
            f"api_server.listen_ip_address is {address!r}, not an IP address: set it to "
            f"127.0.0.1 in the config (or {var})."
        )
        return
    if not loopback:
        if allow_public:
            logger.warning(
                "bitbot: the REST API listens on %s (%s=1); only the network around it (the "
                "container's port binding) keeps it off other machines.",
                address,
                ALLOW_PUBLIC_API_ENV,
            )
        else:
            problems.append(
                f"api_server.listen_ip_address is {address}, reachable from other machines: set "
                f"it to 127.0.0.1 (config or {var}); inside a container whose port is published "
                f"on the host's loopback only, set {ALLOW_PUBLIC_API_ENV}=1."
            )


def _check_telegram(problems: list[str], telegram: Mapping[str, Any]) -> None:
    section = "telegram"
    token = telegram.get("token")
    before = len(problems)
    _check_secret(problems, section, "token", token, what="the bot token BotFather gave you")
    if len(problems) == before and not TELEGRAM_TOKEN_RE.match(token):
        problems.append(
            "telegram.token does not look like a bot token (<bot id>:<secret>): set "
            f"{env_var(section, 'token')} to the token BotFather gave you."
        )
    chat_id = telegram.get("chat_id")
    _check_secret(problems, section, "chat_id", chat_id, what="your Telegram chat id")
    if any(p.startswith("telegram.") for p in problems):
        problems.append(
            f"(or turn Telegram off: {env_var(section, 'enabled')}=false or telegram.enabled "
            "false in the config)"
        )


def preflight_security(argv: list[str]) -> None:
    """
    Check the remote-control settings of a ``trade`` or ``webserver`` command line, before
    Freqtrade starts. Other commands start neither the API nor Telegram and are not checked.

    :param argv: Freqtrade command line without the program name
    :raises InsecureConfigError: the API or Telegram would start with insecure settings
    """
    if not argv or argv[0] not in GUARDED_COMMANDS:
        return
    from freqtrade.commands import Arguments

    args = Arguments(argv).get_parsed_arg()
    files = args.get("config") or []
    try:
        config = load_merged_config(files)
    except Exception:  # a missing or broken file: Freqtrade reports it itself, and better.
        return
    check_remote_access(config, api_forced=argv[0] == "webserver", files=files)
