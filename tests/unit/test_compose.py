"""docker-compose.yml and the Dockerfile stay wired to the code they run.

The production compose cannot be started here (no container engine), so these tests check what
would otherwise break silently in production: env names the settings ignore, `depends_on` to
nothing, a namespace job that drifts from temporal-dev/search-attributes.txt, schema and namespace
scripts that do not do what they say, and the settings' refusal to boot on placeholder tokens.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import AliasChoices, ValidationError

from core.settings import PLACEHOLDER_TOKEN, Settings
from core.temporal_dev import search_attributes

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
NAMESPACE_SCRIPT = REPO_ROOT / "temporal-dev" / "namespace-setup.sh"

SETTINGS_PREFIXES = ("BSS_", "TEMPORAL_", "OTEL_")
WORKER_SERVICES = {"bss-worker-orders", "bss-worker-payments", "bss-worker-provisioning", "bss-worker-system"}
OUR_SERVICES = {"bss-migrate", "bss-api", *WORKER_SERVICES, "bss-portal-self-serve", "bss-portal-csr"}
DEPENDENCY_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
SH = shutil.which("sh")


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _services() -> dict[str, dict]:
    return _compose()["services"]


def _our_services() -> dict[str, dict]:
    """Services run from our image (the ones with a `build` section)."""
    return {name: svc for name, svc in _services().items() if "build" in svc}


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _settings_env_names() -> set[str]:
    """Every environment variable name `core.settings.Settings` reads (case-insensitive)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if alias is None:
            names.add(f"{prefix}{field_name}".upper())
        elif isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
    return names


def _token_env_names() -> set[str]:
    prefix = Settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in Settings.model_fields if name.startswith("api_token_")}


def _compose_unescape(script: str) -> str:
    """What the container's shell receives: compose turns `$$` into `$` (and must interpolate nothing)."""
    assert not re.search(r"(?<!\$)\$(?!\$)", script.replace("$$", "")), "unexpected compose interpolation"
    return script.replace("$$", "$")


def _fake_tool(bin_dir: Path, name: str, body: str) -> None:
    tool = bin_dir / name
    tool.write_text(f'#!/bin/sh\necho "$*" >> "$FAKE_LOG"\n{body}\n')
    tool.chmod(0o755)


def _run(cmd: list[str], bin_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return subprocess.run(cmd, env={"PATH": path, **env}, capture_output=True, text=True, timeout=60,
                          check=False)


# --- wiring between services -----------------------------------------------------------------------


def test_our_image_runs_the_bss_processes() -> None:
    assert set(_our_services()) == OUR_SERVICES, (
        f"services built from our image: {sorted(_our_services())}, expected {sorted(OUR_SERVICES)}")


def test_depends_on_targets_exist() -> None:
    services = _services()
    dangling = [f"{name} -> {target}" for name, svc in services.items()
                for target in _depends_on(svc) if target not in services]
    assert not dangling, f"depends_on names services that do not exist: {dangling}"


def test_depends_on_conditions_can_be_met() -> None:
    services = _services()
    problems = []
    for name, svc in services.items():
        for target, condition in _depends_on(svc).items():
            if condition not in DEPENDENCY_CONDITIONS:
                problems.append(f"{name} -> {target}: unknown condition {condition!r}")
            elif condition == "service_healthy" and "healthcheck" not in services.get(target, {}):
                problems.append(f"{name} -> {target}: waits for healthy but {target} has no healthcheck")
            elif condition == "service_completed_successfully" and services.get(target, {}).get(
                    "restart", "no") not in ("no", False):
                problems.append(f"{name} -> {target}: waits for completion of a service that restarts")
    assert not problems, "\n".join(problems)


def test_api_has_a_health_check_on_health() -> None:
    check = _services()["bss-api"].get("healthcheck", {})
    assert "/health" in " ".join(check.get("test", [])), f"bss-api healthcheck must call /health: {check}"


@pytest.mark.parametrize("service", sorted(WORKER_SERVICES))
def test_workers_scale_horizontally(service: str) -> None:
    worker = _services()[service]
    assert worker.get("deploy", {}).get("replicas", 0) >= 1, f"{service} needs deploy.replicas"
    fixed = [key for key in ("container_name", "ports") if key in worker]
    assert not fixed, f"{service} cannot be scaled with {fixed} set"
    assert worker.get("stop_grace_period"), f"{service}: in-flight activities need time to finish"


def test_worker_services_split_the_task_queues_as_bss_up_does() -> None:
    from workers.main import parse_args
    from workflows import queues

    services = _services()
    served: dict[str, list[tuple[str, int]]] = {}
    for name in WORKER_SERVICES:
        command = services[name]["command"]
        assert command[:3] == ["python", "-m", "workers.main"], f"{name}: {command}"
        _, task_queues = parse_args(command[3:])  # what the worker process will poll
        for queue in task_queues:
            served.setdefault(queue, []).append((name, services[name]["deploy"]["replicas"]))
    assert set(served) == set(queues.ALL), f"queues no worker service polls: {set(queues.ALL) - set(served)}"
    assert all(len(by) == 1 for by in served.values()), f"a queue polled by two services: {served}"
    # Payments alone, so a slow network element or an order burst never delays a charge.
    assert services[served[queues.PAYMENTS][0][0]]["command"][-1] == "payments"
    assert services[served[queues.PROVISIONING][0][0]]["command"][-1] == "provisioning"
    # The singletons, reconcilers and event waker start once per process: one replica there.
    assert served[queues.SYSTEM][0][1] == 1 and served[queues.EVENTS][0][1] == 1


def test_api_processes_per_container_come_from_the_settings() -> None:
    env = _environment(_services()["bss-api"])
    assert env.get("BSS_API_PROCS", "").startswith("${BSS_API_PROCS:-"), env.get("BSS_API_PROCS")
    assert "BSS_API_PROCS" in _settings_env_names()


# --- environment of our processes ------------------------------------------------------------------


def test_env_names_are_settings_fields() -> None:
    accepted = _settings_env_names()
    unknown = [f"{name}: {var}" for name, svc in _our_services().items() for var in _environment(svc)
               if var.upper().startswith(SETTINGS_PREFIXES) and var.upper() not in accepted]
    assert not unknown, (
        f"env vars that core.settings.Settings does not read (typo, or a missing field): {unknown}")


def test_dockerfile_env_names_are_settings_fields() -> None:
    accepted = _settings_env_names()
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    names = [m.group(1) for line in text.splitlines() if line.startswith("ENV ")
             for m in re.finditer(r"(\w+)=", line)]
    unknown = [n for n in names if n.upper().startswith(SETTINGS_PREFIXES) and n.upper() not in accepted]
    assert names, "Dockerfile sets no ENV"
    assert not unknown, f"Dockerfile ENV names that core.settings.Settings does not read: {unknown}"


@pytest.mark.parametrize("service", sorted(OUR_SERVICES))
def test_process_runs_in_production_against_the_cluster(service: str) -> None:
    env = _environment(_services()[service])
    expected = {"BSS_ENV": "production", "BSS_HOST": "0.0.0.0", "TEMPORAL_ADDRESS": "temporal:7233",
                "TEMPORAL_NAMESPACE": "bss", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318"}
    wrong = {k: env.get(k) for k, v in expected.items() if env.get(k) != v}
    assert not wrong, f"{service}: expected {expected}, got {wrong}"
    assert env.get("BSS_DATABASE_URL", "").startswith("postgresql://"), f"{service}: BSS_DATABASE_URL"


@pytest.mark.parametrize("service", sorted(OUR_SERVICES))
def test_api_tokens_must_come_from_the_environment(service: str) -> None:
    env = _environment(_services()[service])
    names = _token_env_names()
    tokens = {name for name in names if not name.endswith("_NEXT")}
    assert len(tokens) == 5, f"Settings has {sorted(tokens)}; this test expects the five named surfaces"
    not_required = [name for name in sorted(tokens)
                    if not re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", env.get(name, ""))]
    assert not not_required, (
        f"{service}: tokens must be `${{NAME:?message}}` so compose refuses to start without them: "
        f"{not_required}")
    # The rotation tokens pass through when set, and are absent (empty) otherwise.
    rotation = [name for name in sorted(names - tokens) if env.get(name) != f"${{{name}:-}}"]
    assert len(names - tokens) == 5 and not rotation, f"{service}: rotation tokens not passed through: {rotation}"


# --- Temporal cluster --------------------------------------------------------------------------------


def test_temporal_server_uses_postgres_and_the_mounted_dynamic_config() -> None:
    temporal = _services()["temporal"]
    env = _environment(temporal)
    assert env.get("DB") == "postgres12" and env.get("POSTGRES_SEEDS") == "postgresql", env
    assert env.get("NUM_HISTORY_SHARDS") == "512", "history shards are fixed at first start: keep 512"
    target = f"/etc/temporal/{env['DYNAMIC_CONFIG_FILE_PATH']}"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in temporal.get("volumes", [])}
    assert target in mounts, f"DYNAMIC_CONFIG_FILE_PATH {target} is not mounted: {mounts}"
    source = (REPO_ROOT / mounts[target]).resolve()
    assert source == REPO_ROOT / "temporal-dev" / "production-dynamic-config.yaml", source
    config = yaml.safe_load(source.read_text())
    assert config["frontend.WorkflowTimeSkippingEnabled"] == [{"value": False}], "time skipping stays off"
    assert not any("MaxPollRPS" in key or "MaxTimeShift" in key for key in config), (
        "dev-server queue speed-ups do not belong in production (notes/temporal.md §1.2)")
    assert _depends_on(temporal).get("temporal-schema") == "service_completed_successfully"


@pytest.mark.skipif(SH is None, reason="needs a POSIX shell")
def test_schema_job_prepares_both_temporal_databases(tmp_path: Path) -> None:
    job = _services()["temporal-schema"]
    assert job["entrypoint"] == ["/bin/sh", "-c"], job["entrypoint"]
    script = _compose_unescape(job["command"][0])
    _fake_tool(tmp_path, "temporal-sql-tool", "exit 0")
    log = tmp_path / "calls.log"
    result = _run([SH, "-c", script], tmp_path, {"FAKE_LOG": str(log), "SQL_USER": "bss"})
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    schema = "/etc/temporal/schema/postgresql/v12"
    expected = []
    for db, folder in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        base = f"--plugin postgres12 --ep postgresql -p 5432 -u bss --db {db}"
        expected += [f"{base} create", f"{base} setup-schema -v 0.0",
                     f"{base} update-schema -d {schema}/{folder}/versioned"]
    assert calls == expected


def test_namespace_job_reads_search_attributes_txt() -> None:
    job = _services()["temporal-namespace"]
    env = _environment(job)
    mounts = {v.split(":")[1]: v.split(":")[0] for v in job.get("volumes", [])}
    mount_point = next((t for t, src in mounts.items() if src.rstrip("/") == "./temporal-dev"), None)
    assert mount_point, f"temporal-namespace must mount ./temporal-dev: {mounts}"
    assert env.get("SEARCH_ATTRIBUTES_FILE") == f"{mount_point}/search-attributes.txt", env
    assert env.get("TEMPORAL_NAMESPACE") == "bss", env
    command = " ".join(job.get("entrypoint", []) + job.get("command", []))
    assert f"{mount_point}/namespace-setup.sh" in command, command
    assert "search-attributes.txt" in NAMESPACE_SCRIPT.read_text()


@pytest.mark.skipif(SH is None, reason="needs a POSIX shell")
def test_namespace_script_creates_namespace_and_every_search_attribute(tmp_path: Path) -> None:
    _fake_tool(tmp_path, "temporal", 'case "$*" in *"namespace describe"*) exit 1 ;; esac; exit 0')
    log = tmp_path / "calls.log"
    result = _run([SH, str(NAMESPACE_SCRIPT)], tmp_path, {
        "FAKE_LOG": str(log), "TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "bss",
        "NAMESPACE_RETENTION": "30d"})
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [shlex.split(line) for line in log.read_text().splitlines()]
    creates = [c for c in calls if c[:3] == ["operator", "namespace", "create"]]
    assert len(creates) == 1 and "--retention" in creates[0], creates
    assert creates[0][creates[0].index("--retention") + 1] == "30d"
    registered = {c[c.index("--name") + 1]: c[c.index("--type") + 1] for c in calls
                  if c[:3] == ["operator", "search-attribute", "create"]}
    assert registered == search_attributes(), "the job must register exactly search-attributes.txt"


@pytest.mark.skipif(SH is None, reason="needs a POSIX shell")
def test_namespace_script_is_idempotent(tmp_path: Path) -> None:
    # Second `up`: the namespace exists and every create is refused because the attribute exists.
    listed = "\n".join(f"  {name}  {kind}" for name, kind in search_attributes().items())
    _fake_tool(tmp_path, "temporal", f'''case "$*" in
  *"search-attribute create"*) exit 1 ;;
  *"search-attribute list"*) printf '%s\\n' '{listed}' ;;
esac
exit 0''')
    log = tmp_path / "calls.log"
    result = _run([SH, str(NAMESPACE_SCRIPT)], tmp_path, {"FAKE_LOG": str(log)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "namespace create" not in log.read_text(), "an existing namespace must not be re-created"


@pytest.mark.skipif(SH is None, reason="needs a POSIX shell")
def test_namespace_script_fails_on_a_malformed_list(tmp_path: Path) -> None:
    bad = tmp_path / "search-attributes.txt"
    bad.write_text("# comment\nCustomerId\n")
    _fake_tool(tmp_path, "temporal", "exit 0")
    result = _run([SH, str(NAMESPACE_SCRIPT)], tmp_path,
                  {"FAKE_LOG": str(tmp_path / "calls.log"), "SEARCH_ATTRIBUTES_FILE": str(bad)})
    assert result.returncode != 0 and "malformed" in result.stderr, result.stdout + result.stderr


# --- image -------------------------------------------------------------------------------------------


def test_dockerfile_builds_one_non_root_image_without_registry_urls() -> None:
    text = DOCKERFILE.read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim", instructions[0]
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), f"the image must run as a non-root user: {users}"
    assert "pip install --no-cache-dir --no-deps ." in text
    assert "requirements.lock" in text
    assert 'CMD ["python", "-m", "apis.main"]' in instructions[-1]
    for path in (DOCKERFILE, COMPOSE_FILE, REPO_ROOT / ".dockerignore"):
        content = path.read_text().lower()
        # Host names spelled in parts so this repository never carries one (the rule it checks).
        registries = ("index-url", "find-links", "pypi" + ".org", "files." + "pythonhosted")
        leaks = [word for word in registries if word in content]
        assert not leaks, f"{path.name} names a package registry: {leaks}"


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    missing = {".git", ".venv", ".bss", "**/*.env"} - ignored
    assert not missing, f".dockerignore must exclude {sorted(missing)}"


# --- the boot refusal --------------------------------------------------------------------------------


def _production_settings(token: str) -> Settings:
    tokens = {name: token for name in Settings.model_fields if name.startswith("api_token_")}
    return Settings(_env_file=None, env="production", kyc_pepper=f"pepper-{token}", **tokens)


def test_production_refuses_placeholder_tokens() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        _production_settings(PLACEHOLDER_TOKEN)


def test_production_refuses_short_tokens() -> None:
    with pytest.raises(ValidationError, match="short"):
        _production_settings("x" * 16)


def test_production_boots_with_real_tokens() -> None:
    token = secrets.token_hex(16)
    settings = _production_settings(token)
    assert len(token) == 32 and set(settings.api_tokens().values()) == {token}
