"""
Deployment: docker-compose.yml and its image, .env.example, the shipped configs (no secrets,
loopback only) and the start-up guard of the REST API and Telegram
(:mod:`meta_strategy.ops.security`).

Docker cannot run here: the compose file is checked against a minimal schema written for it and
BitBot's own rules; the entrypoint script runs under ``sh`` with a stand-in ``python``. The real
``bitbot trade`` refusing to start is in ``tests/e2e/test_deploy.py``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from meta_strategy.ops.security import (
    ALLOW_PUBLIC_API_ENV,
    KNOWN_DEFAULTS,
    InsecureConfigError,
    check_remote_access,
    load_merged_config,
    preflight_security,
)
from tests.helpers.freqtrade import REPO


COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
ENV_EXAMPLE = REPO / ".env.example"
CONFIG = "user_data/config.json"

GOOD = {
    "FREQTRADE__API_SERVER__USERNAME": "bitbot-operator",
    "FREQTRADE__API_SERVER__PASSWORD": "qT7-vLx2_Rk9wNp4",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "Jw9x-4kQpL2vT7mZr8sN3cY6bH1dF5gA0eUo",
}
# Compose settings that are not secrets; every other variable in `environment` must be a
# ${VAR} reference.
NON_SECRET_ENVIRONMENT = {
    "FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS",
    ALLOW_PUBLIC_API_ENV,
    "PYTHONPATH",
    "TZ",
}
SECRET_CONFIG_KEYS = {
    "key",
    "secret",
    "password",
    "token",
    "jwt_secret_key",
    "ws_token",
    "chat_id",
    "username",
    "apikey",
    "privatekey",
    "walletaddress",
}


def _pinned(package: str) -> str:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d.split("==", 1)[1] for d in deps if d.startswith(f"{package}==")]
    return pin


FREQTRADE_IMAGE = f"freqtradeorg/freqtrade:{_pinned('freqtrade')}_freqairl"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FREQTRADE__* variable of the developer's shell leaks into the checks."""
    for name in list(os.environ):
        if name.startswith("FREQTRADE__") or name == ALLOW_PUBLIC_API_ENV:
            monkeypatch.delenv(name)


def _set_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def _problems(config: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(InsecureConfigError) as err:
        check_remote_access(config, **kwargs)
    return err.value.problems


# --- docker-compose.yml --------------------------------------------------------------------

_PORT = {"type": "string", "pattern": r"^127\.0\.0\.1:\d+:\d+(/tcp|/udp)?$"}
_ENV = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
# What BitBot's compose file must look like: a minimal subset of the compose specification
# (the official schema is not available offline) plus BitBot's rules.
COMPOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "services": {
            "type": "object",
            "required": ["bitbot"],
            "additionalProperties": {"$ref": "#/definitions/service"},
        },
        "volumes": {"type": "object"},
        "networks": {"type": "object"},
    },
    "definitions": {
        "service": {
            "type": "object",
            "required": [
                "build",
                "image",
                "restart",
                "env_file",
                "environment",
                "volumes",
                "ports",
                "command",
                "healthcheck",
                "logging",
            ],
            "properties": {
                "build": {
                    "type": "object",
                    "required": ["context", "args"],
                    "properties": {
                        "context": {"type": "string"},
                        "dockerfile": {"type": "string"},
                        "args": _ENV,
                    },
                    "additionalProperties": False,
                },
                "image": {"type": "string", "not": {"pattern": r":latest$|^[^:]*$"}},
                "container_name": {"type": "string"},
                "restart": {"const": "unless-stopped"},
                "env_file": {
                    "oneOf": [
                        {"const": ".env"},
                        {"type": "array", "contains": {"const": ".env"}},
                    ]
                },
                "environment": _ENV,
                "volumes": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "ports": {"type": "array", "items": _PORT, "minItems": 1},
                "command": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "entrypoint": {"type": "array", "items": {"type": "string"}},
                "healthcheck": {
                    "type": "object",
                    "required": ["test", "interval", "timeout", "retries"],
                    "properties": {
                        "test": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                        "disable": {"const": False},
                        "interval": {"type": "string"},
                        "timeout": {"type": "string"},
                        "retries": {"type": "integer", "minimum": 1},
                        "start_period": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
                "logging": {
                    "type": "object",
                    "required": ["driver", "options"],
                    "properties": {
                        "driver": {"const": "json-file"},
                        "options": {
                            "type": "object",
                            "required": ["max-size", "max-file"],
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
            },
            "not": {"anyOf": [{"required": ["network_mode"]}, {"required": ["privileged"]}]},
        }
    },
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    jsonschema.validate(data, COMPOSE_SCHEMA)
    return data


@pytest.fixture(scope="module")
def service(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]["bitbot"]


def test_compose_matches_schema(compose: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):  # the schema does catch a public port
        bad = json.loads(json.dumps(compose))
        bad["services"]["bitbot"]["ports"] = ["8080:8080"]
        jsonschema.validate(bad, COMPOSE_SCHEMA)


def test_image_pinned_to_freqtrade_version(service: dict[str, Any]) -> None:
    """The official RL image of exactly the Freqtrade version BitBot is tested with."""
    assert service["build"]["args"]["FREQTRADE_IMAGE"] == FREQTRADE_IMAGE
    dockerfile = DOCKERFILE.read_text()
    assert f"ARG FREQTRADE_IMAGE={FREQTRADE_IMAGE}\n" in dockerfile
    assert "FROM ${FREQTRADE_IMAGE}\n" in dockerfile
    assert (REPO / service["build"]["context"] / "Dockerfile").resolve() == DOCKERFILE
    # The local build must not be tagged as (and so overwrite) an official image.
    assert not service["image"].startswith("freqtradeorg/")
    assert service["image"].endswith(f":{_pinned('freqtrade')}_freqairl")
    everything = COMPOSE.read_text() + dockerfile
    for floating in (":latest", ":stable", ":develop"):
        assert floating not in everything


def test_extra_packages_pinned_like_pyproject(service: dict[str, Any]) -> None:
    numba = _pinned("numba")
    assert str(service["build"]["args"]["NUMBA_VERSION"]) == numba
    assert f"ARG NUMBA_VERSION={numba}\n" in DOCKERFILE.read_text()


def test_api_published_on_loopback_only(service: dict[str, Any]) -> None:
    env = service["environment"]
    for port in service["ports"]:
        host_ip, _host_port, container_port = str(port).split("/")[0].split(":")
        assert ipaddress.ip_address(host_ip).is_loopback, port
        assert container_port == "8080"
    # Inside the container the API listens on every interface (Docker's forwarding needs it);
    # the loopback binding above is what protects it, and the guard is told so.
    assert env["FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS"] == "0.0.0.0"
    assert str(env[ALLOW_PUBLIC_API_ENV]) == "1"


def test_no_secret_in_compose_environment(service: dict[str, Any]) -> None:
    for name, value in service["environment"].items():
        if name in NON_SECRET_ENVIRONMENT:
            continue
        assert re.fullmatch(r"\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}", str(value)), (
            f"{name}={value!r} in docker-compose.yml: secrets come from .env, reference them"
        )
    # Nor anywhere else in the file (comments aside): no credential variable, no known value.
    data = yaml.safe_load(COMPOSE.read_text())
    for word in ("PASSWORD", "JWT", "TOKEN", "__KEY", "__SECRET", "CHAT_ID", "USERNAME"):
        assert word not in yaml.safe_dump(data), word
    for _, value in _leaves(data):
        assert str(value).lower() not in KNOWN_DEFAULTS, value


def test_env_file_is_git_ignored(service: dict[str, Any]) -> None:
    assert service["env_file"] in (".env", [".env"])
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
    assert ignored.returncode == 0, ".env must be git-ignored"
    example = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=REPO, check=False)
    assert example.returncode == 1, ".env.example must not be git-ignored"


def test_volumes_mount_user_data_and_code(service: dict[str, Any]) -> None:
    mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
    assert mounts["/freqtrade/user_data"] == "./user_data"
    assert mounts["/freqtrade/meta_strategy"] == "./meta_strategy"
    for source in mounts.values():
        assert (REPO / source).is_dir(), source
    # The mounted code is importable: the image puts /freqtrade on the path.
    assert "ENV PYTHONPATH=/freqtrade\n" in DOCKERFILE.read_text()


def test_command_dry_runs_the_meta_strategy(service: dict[str, Any]) -> None:
    command = service["command"]
    assert command[:2] == ["trade", "--dry-run"]
    configs = [command[i + 1] for i, a in enumerate(command) if a in ("--config", "-c")]
    assert configs == ["user_data/config.json", "user_data/config.freqai.json"]
    for config in configs:
        assert (REPO / config).is_file()
    assert command[command.index("--strategy") + 1] == "MetaStrategy"
    assert (REPO / "user_data" / "strategies" / "MetaStrategy.py").is_file()


def test_healthcheck_pings_the_api(service: dict[str, Any]) -> None:
    test = service["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    assert "http://127.0.0.1:8080/api/v1/ping" in " ".join(test)
    if test[:2] == ["CMD", "python"]:  # the check's Python code compiles
        compile(test[test.index("-c") + 1], "healthcheck", "exec")


def _entrypoint(tmp_path: Path, *args: str, promoted: bool) -> list[str]:
    """Run docker/entrypoint.sh with a stand-in ``python`` that prints its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "python"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    stub.chmod(0o755)
    (tmp_path / "user_data").mkdir(exist_ok=True)
    promoted_file = tmp_path / "user_data" / "config.promoted.json"
    if promoted:
        promoted_file.write_text("{}")
    else:
        promoted_file.unlink(missing_ok=True)
    out = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return out.stdout.splitlines()


def test_entrypoint_adds_the_promoted_model_overlay(
    service: dict[str, Any], tmp_path: Path
) -> None:
    command = service["command"]
    prefix = ["-m", "meta_strategy.cli"]
    assert _entrypoint(tmp_path, *command, promoted=False) == [*prefix, *command]
    promoted = ["--config", "user_data/config.promoted.json"]
    assert _entrypoint(tmp_path, *command, promoted=True) == [*prefix, *command, *promoted]
    assert _entrypoint(tmp_path, "list-data", promoted=True) == [*prefix, "list-data"]
    assert 'ENTRYPOINT ["/bin/sh", "/freqtrade/bitbot-entrypoint.sh"]' in DOCKERFILE.read_text()


def test_container_settings_pass_the_guard_with_good_credentials(
    service: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the container's bitbot sees: compose's environment over .env's credentials."""
    _set_env(monkeypatch, GOOD)
    _set_env(monkeypatch, {k: str(v) for k, v in service["environment"].items()})
    command = service["command"]
    preflight_security(command)  # no error
    monkeypatch.delenv(ALLOW_PUBLIC_API_ENV)
    with pytest.raises(InsecureConfigError, match=r"0\.0\.0\.0, reachable from other machines"):
        preflight_security(command)


# --- .env.example --------------------------------------------------------------------------

DOCUMENTED = [
    "FREQTRADE__API_SERVER__USERNAME",
    "FREQTRADE__API_SERVER__PASSWORD",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
    "FREQTRADE__API_SERVER__WS_TOKEN",
    "FREQTRADE__TELEGRAM__ENABLED",
    "FREQTRADE__TELEGRAM__TOKEN",
    "FREQTRADE__TELEGRAM__CHAT_ID",
    "FREQTRADE__EXCHANGE__KEY",
    "FREQTRADE__EXCHANGE__SECRET",
    "BITBOT_DATA",
    "BITBOT_MARKETS",
    ALLOW_PUBLIC_API_ENV,
]


def _env_example() -> tuple[dict[str, str], set[str]]:
    """:return: the variables .env.example sets, and every variable it mentions"""
    values: dict[str, str] = {}
    mentioned: set[str] = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            mentioned.add(match.group(2))
            if not match.group(1):
                values[match.group(2)] = match.group(3)
    return values, mentioned


def test_env_example_documents_every_variable() -> None:
    values, mentioned = _env_example()
    assert set(DOCUMENTED) <= mentioned, set(DOCUMENTED) - mentioned
    assert ALLOW_PUBLIC_API_ENV not in values, "never allow a public API by default"
    text = ENV_EXAMPLE.read_text()
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in text
    # docker compose's env_file format: no quotes, no export, no spaces around "=".
    for name, value in values.items():
        assert not value.startswith(("'", '"')) and " " not in value, name


def test_env_example_placeholders_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    values, _ = _env_example()
    _set_env(monkeypatch, values)
    problems = _problems(load_merged_config([CONFIG]))
    for name in ("USERNAME", "PASSWORD", "JWT_SECRET_KEY", "WS_TOKEN"):
        assert any(f"FREQTRADE__API_SERVER__{name} " in p for p in problems), (name, problems)
    monkeypatch.setenv("FREQTRADE__TELEGRAM__ENABLED", "true")
    problems = _problems(load_merged_config([CONFIG]))
    assert any("FREQTRADE__TELEGRAM__TOKEN" in p for p in problems)
    assert any("FREQTRADE__TELEGRAM__CHAT_ID" in p for p in problems)


# --- the shipped configs --------------------------------------------------------------------


def _tracked_configs() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "user_data"], cwd=REPO, capture_output=True, text=True, check=True
    )
    paths = [REPO / p for p in out.stdout.split()]
    configs = [p for p in paths if p.suffix == ".json" and p.parent == REPO / "user_data"]
    assert REPO / CONFIG in configs
    return configs


def _leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [leaf for i, v in enumerate(node) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path, node)]


def test_shipped_configs_hold_no_secret() -> None:
    for config in _tracked_configs():
        for path, value in _leaves(json.loads(config.read_text())):
            name = path.rsplit(".", 1)[-1].lower()
            if name in SECRET_CONFIG_KEYS or re.search(r"(secret|password|token)$", name):
                assert value in ("", None, False), f"{config.name}: {path} = {value!r}"


def test_shipped_configs_bind_listeners_to_loopback() -> None:
    for config in _tracked_configs():
        api = json.loads(config.read_text()).get("api_server")
        if api is not None:
            assert ipaddress.ip_address(api["listen_ip_address"]).is_loopback, config.name
    api = json.loads((REPO / CONFIG).read_text())["api_server"]
    assert api["enabled"] is True and api["listen_port"] == 8080
    assert api["enable_openapi"] is False and api["CORS_origins"] == []
    # Left out on purpose: Freqtrade's schema wants 32+ characters in every run mode.
    assert "jwt_secret_key" not in api


def test_freqtrade_schema_accepts_the_shipped_config() -> None:
    """Empty credentials are valid for Freqtrade's schema, backtesting included."""
    from freqtrade.configuration.config_validation import validate_config_schema
    from freqtrade.enums import RunMode

    for mode in (RunMode.BACKTEST, RunMode.WEBSERVER, RunMode.OTHER):
        config = load_merged_config([CONFIG])
        config["runmode"] = mode
        validate_config_schema(config, preliminary=True)


# --- the guard ------------------------------------------------------------------------------


def test_empty_credentials_refused() -> None:
    problems = _problems(load_merged_config([CONFIG]), files=[CONFIG])
    assert len(problems) == 3
    for name in ("USERNAME", "PASSWORD", "JWT_SECRET_KEY"):
        assert any(f"is empty: set FREQTRADE__API_SERVER__{name} " in p for p in problems)


@pytest.mark.parametrize(
    ("username", "password", "jwt"),
    [
        ("freqtrader", "SuperSecurePassword", "somethingrandom"),
        ("Freqtrader", "SuperSecret1!", "somethingRandomSomethingRandom123"),
        ("change-me", "change-me", "change-me"),
    ],
)
def test_default_example_credentials_refused(
    monkeypatch: pytest.MonkeyPatch, username: str, password: str, jwt: str
) -> None:
    _set_env(
        monkeypatch,
        {
            "FREQTRADE__API_SERVER__USERNAME": username,
            "FREQTRADE__API_SERVER__PASSWORD": password,
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY": jwt,
        },
    )
    problems = _problems(load_merged_config([CONFIG]))
    assert len([p for p in problems if "documented example or placeholder" in p]) == 3, problems


def test_short_password_and_jwt_secret_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_env(monkeypatch, GOOD)
    monkeypatch.setenv("FREQTRADE__API_SERVER__PASSWORD", "Xk3-short")
    monkeypatch.setenv("FREQTRADE__API_SERVER__JWT_SECRET_KEY", "Jw9x-4kQpL2vT7mZ")
    assert _problems(load_merged_config([CONFIG])) == [
        "api_server.password has 9 characters, at least 12 are needed: set "
        "FREQTRADE__API_SERVER__PASSWORD to a random password of at least 12 characters.",
        "api_server.jwt_secret_key has 16 characters, at least 32 are needed: set "
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY to a random secret of at least 32 characters.",
    ]


def test_numeric_username_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Freqtrade turns a numeric FREQTRADE__ value into a number; say so, not 'not a string'."""
    _set_env(monkeypatch, GOOD)
    monkeypatch.setenv("FREQTRADE__API_SERVER__USERNAME", "12345")
    (problem,) = _problems(load_merged_config([CONFIG]))
    assert "read FREQTRADE__API_SERVER__USERNAME as int 12345" in problem


def test_public_bind_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_env(monkeypatch, GOOD)
    monkeypatch.setenv("FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS", "0.0.0.0")
    (problem,) = _problems(load_merged_config([CONFIG]))
    assert "0.0.0.0, reachable from other machines" in problem
    assert "FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS" in problem
    assert ALLOW_PUBLIC_API_ENV in problem
    check_remote_access(load_merged_config([CONFIG]), env={ALLOW_PUBLIC_API_ENV: "1"})
    monkeypatch.setenv("FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS", "localhost")
    (problem,) = _problems(load_merged_config([CONFIG]))
    assert "'localhost', not an IP address" in problem
    monkeypatch.setenv("FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS", "::1")
    check_remote_access(load_merged_config([CONFIG]))


def test_good_credentials_from_env_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_env(monkeypatch, GOOD)
    config = load_merged_config([CONFIG, "user_data/config.freqai.json"])
    assert config["api_server"]["password"] == GOOD["FREQTRADE__API_SERVER__PASSWORD"]
    check_remote_access(config)
    preflight_security(["trade", "--dry-run", "-c", CONFIG, "--strategy", "SupertrendStrategy"])
    preflight_security(["webserver", "-c", CONFIG])


def test_api_disabled_needs_no_credentials_but_webserver_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FREQTRADE__API_SERVER__ENABLED", "false")
    check_remote_access(load_merged_config([CONFIG]))
    preflight_security(["trade", "--dry-run", "-c", CONFIG, "--strategy", "SupertrendStrategy"])
    with pytest.raises(InsecureConfigError, match="FREQTRADE__API_SERVER__PASSWORD"):
        preflight_security(["webserver", "-c", CONFIG])  # always starts the API


def test_other_commands_not_checked() -> None:
    preflight_security(["backtesting", "-c", CONFIG, "--strategy", "SupertrendStrategy"])
    preflight_security(["trade", "-c", "no/such/config.json"])  # Freqtrade reports it


def test_ws_token_optional_but_not_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_env(monkeypatch, GOOD)
    monkeypatch.setenv("FREQTRADE__API_SERVER__WS_TOKEN", "")
    check_remote_access(load_merged_config([CONFIG]))
    monkeypatch.setenv("FREQTRADE__API_SERVER__WS_TOKEN", '["sercet_Ws_t0ken"]')
    (problem,) = _problems(load_merged_config([CONFIG]))
    assert problem.startswith("api_server.ws_token is a documented example")


def test_telegram_needs_token_and_chat_id(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_env(monkeypatch, GOOD)
    monkeypatch.setenv("FREQTRADE__TELEGRAM__ENABLED", "true")
    problems = _problems(load_merged_config([CONFIG]))
    assert problems[0].startswith("telegram.token is empty: set FREQTRADE__TELEGRAM__TOKEN")
    assert problems[1].startswith("telegram.chat_id is empty: set FREQTRADE__TELEGRAM__CHAT_ID")
    assert "FREQTRADE__TELEGRAM__ENABLED=false" in problems[2]
    monkeypatch.setenv("FREQTRADE__TELEGRAM__TOKEN", "not-a-token")
    monkeypatch.setenv("FREQTRADE__TELEGRAM__CHAT_ID", "123456789")
    (problem, _) = _problems(load_merged_config([CONFIG]))
    assert "does not look like a bot token" in problem
    monkeypatch.setenv("FREQTRADE__TELEGRAM__TOKEN", "123456:AAH-Xk3vLx2_Rk9wNp4qT7mZr8sN3cY6bH1")
    check_remote_access(load_merged_config([CONFIG]))


def test_error_message_names_files_and_how_to_fix() -> None:
    with pytest.raises(InsecureConfigError) as err:
        preflight_security(["trade", "--dry-run", "-c", CONFIG, "-s", "SupertrendStrategy"])
    message = str(err.value)
    assert f"({CONFIG} + environment)" in message
    assert ".env.example" in message and "secrets.token_urlsafe(32)" in message
