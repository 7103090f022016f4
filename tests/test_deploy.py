"""The deploy files (Dockerfile, compose.yaml, systemd unit) kept right without a Docker engine.

Parses them, runs the health check's exact command against a real `briefbot run`, and verifies the unit.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
UNIT = DEPLOY / "briefbot.service"
VENV_BIN = Path(sys.executable).parent


# --- Dockerfile --------------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions after the last FROM (the image that ships)."""
    starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    return instructions[starts[-1]:]


def env_pairs(args: str) -> dict[str, str]:
    """ENV k=v k2=v2 (the key=value form) as a dict."""
    return dict(part.split("=", 1) for part in shlex.split(args))


def healthcheck_command() -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    (args,) = [a for w, a in dockerfile_instructions(DOCKERFILE.read_text()) if w == "HEALTHCHECK"]
    m = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
    assert m, f"HEALTHCHECK must use the exec form CMD [...]: {args}"
    cmd: list[str] = json.loads(m.group(1))
    return cmd


def test_dockerfile_is_multi_stage_non_root_with_data_volume_and_healthcheck() -> None:
    ins = dockerfile_instructions(DOCKERFILE.read_text())
    froms = [a for w, a in ins if w == "FROM"]
    assert len(froms) >= 2 and froms[0].endswith(" AS builder")
    final = final_stage(ins)
    assert final[0][1] == "python:3.11-slim"
    words = [w for w, _ in final]
    # the final stage copies only the venv from the builder and the prompts from the context
    copies = [a for w, a in final if w == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv", "prompts ./prompts"]
    users = [a for w, a in final if w == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    user = users[-1].split(":")[0]
    assert any(w == "RUN" and "useradd" in a and a.rstrip().endswith(user) for w, a in final)
    assert ("WORKDIR", "/app") in final
    assert any(w == "VOLUME" and "/app/data" in a for w, a in final)
    # the data dir is made and chowned before VOLUME (later changes to a volume path are discarded)
    chown = next(i for i, (w, a) in enumerate(final) if w == "RUN" and "chown" in a and "/app/data" in a)
    assert chown < words.index("VOLUME")
    env: dict[str, str] = {}
    for w, a in final:
        if w == "ENV":
            env.update(env_pairs(a))
    assert env["BRIEFBOT_DATABASE_URL"] == "sqlite:////app/data/briefbot.db"
    assert env["BRIEFBOT_PROMPTS_DIR"] == "/app/prompts"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert ("EXPOSE", "8080") in final
    assert json.loads(dict(final)["CMD"]) == ["briefbot", "run"]
    assert "curl" not in " ".join(healthcheck_command()) and healthcheck_command()[0] == "python"


def test_docker_build_context_holds_what_the_dockerfile_copies_and_no_secrets() -> None:
    ins = dockerfile_instructions(DOCKERFILE.read_text())
    ignore = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
              if p.strip() and not p.startswith("#")]

    def ignored(rel: str) -> bool:
        return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat.removeprefix("**/"))
                   or rel.startswith(pat.rstrip("/") + "/") for pat in ignore)

    sources = [s for w, a in ins if w == "COPY" and not a.startswith("--from")
               for s in a.split()[:-1]]
    assert {"pyproject.toml", "README.md", "bot", "prompts"} <= set(sources)
    for s in sources:
        assert (ROOT / s).exists(), s
        assert not ignored(s), f"{s} is copied but .dockerignore leaves it out"
    for secret_or_bulk in (".env", "deploy/.env", ".venv", "data", ".git"):
        assert ignored(secret_or_bulk), f"{secret_or_bulk} would be sent to the Docker daemon"
    # the builder installs non-editable, with the Postgres driver compose needs
    run = " ".join(a for w, a in ins if w == "RUN" and "pip install" in a)
    assert '".[postgres]"' in run and " -e " not in run


def test_every_prompt_the_code_loads_is_in_the_prompts_folder_the_image_copies() -> None:
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"""(?:load_prompt|_llm)\(\s*["']([\w.-]+)["']""", text))
    assert names, "no prompt names found: the way prompts are loaded changed; update this test"
    missing = [n for n in sorted(names) if not (ROOT / "prompts" / f"{n}.md").is_file()]
    assert not missing, f"prompts/ lacks {missing}"


def test_prompts_dir_setting_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image installs the package non-editable and points BRIEFBOT_PROMPTS_DIR at /app/prompts."""
    from bot.app import App
    from bot.config import Settings
    from bot.llm.openai_compat import load_prompt

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for f in (ROOT / "prompts").glob("*.md"):
        (prompts / f.name).write_text(f.read_text(encoding="utf-8") + "\n(deployed copy)\n", encoding="utf-8")
    monkeypatch.setenv("BRIEFBOT_PROMPTS_DIR", str(prompts))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # never called: only built
    app = App.from_settings(Settings.from_env())
    try:
        backend: Any = app.llm_backend()
        assert backend.prompt_hash == load_prompt("answer", prompts).hash != load_prompt("answer").hash
    finally:
        app.close()


# --- compose.yaml ------------------------------------------------------------------------------

@pytest.fixture
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_compose_runs_the_bot_on_postgres_with_healthchecks_and_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "db"}
    db, bot = services["db"], services["bot"]
    assert db["image"] == "postgres:15"
    assert db["environment"]["POSTGRES_USER"] == "briefbot" and db["environment"]["POSTGRES_DB"] == "briefbot"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "ports" not in db  # the database stays on the compose network

    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == DOCKERFILE.resolve()
    assert bot["env_file"] == ".env" or bot["env_file"] == [".env"]
    pw = db["environment"]["POSTGRES_PASSWORD"]
    assert bot["environment"]["BRIEFBOT_DATABASE_URL"] == f"postgresql://briefbot:{pw}@db:5432/briefbot"
    assert bot["environment"]["BRIEFBOT_HTTP_HOST"] == "0.0.0.0"  # else the published port reaches nothing
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    for svc in (db, bot):
        assert svc["restart"] in {"unless-stopped", "always", "on-failure"}
        hc = svc["healthcheck"]
        assert hc["test"][0] in {"CMD", "CMD-SHELL"} and {"interval", "timeout", "retries"} <= set(hc)
    # the same probe as the image's HEALTHCHECK
    assert bot["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert all(p.startswith("127.0.0.1:") for p in bot.get("ports", []))

    declared = set(compose["volumes"])
    mounts = {svc_name: [v.split(":") for v in svc["volumes"]] for svc_name, svc in services.items()}
    assert ["pgdata", "/var/lib/postgresql/data"] in mounts["db"]
    assert ["botdata", "/app/data"] in mounts["bot"]
    assert {m[0] for ms in mounts.values() for m in ms} <= declared  # named volumes, not bind mounts
    assert int(str(bot["stop_grace_period"]).rstrip("s")) >= 10


def example_keys() -> set[str]:
    """Variables .env.example sets (uncommented), even to an empty value."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if "=" in line and not line.lstrip().startswith("#")}


def test_settings_the_deployments_fix_are_not_undone_by_a_copied_env_example(compose: dict[str, Any]) -> None:
    """env files win over the image's ENV and the unit's Environment=, even with empty values."""
    image_env: dict[str, str] = {}
    for w, a in final_stage(dockerfile_instructions(DOCKERFILE.read_text())):
        if w == "ENV":
            image_env.update(env_pairs(a))
    env = compose["services"]["bot"]["environment"]
    for key in {k for k in image_env if k.startswith("BRIEFBOT_")} & example_keys():
        assert key in env, f"compose must set {key} (the image's {image_env[key]!r} loses to .env)"
    assert env["BRIEFBOT_PROMPTS_DIR"] == image_env["BRIEFBOT_PROMPTS_DIR"]
    readme = (DEPLOY / "README.md").read_text()
    unit_env = dict(e.split("=", 1) for e in unit_sections(UNIT.read_text())["Service"]["Environment"])
    for key in set(unit_env) & example_keys():
        assert f"s#^{key}=.*#{key}={unit_env[key]}#" in readme, f"README must set {key} in /etc/briefbot/env"
    for key in ("BRIEFBOT_DATABASE_URL", "BRIEFBOT_PROMPTS_DIR", "BRIEFBOT_HTTP_HOST"):
        assert f"/^{key}=/d" in readme, f"README must drop {key} from the .env given to docker run"


# --- the health check against a real `briefbot run` --------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe(port: int) -> subprocess.CompletedProcess[str]:
    """The HEALTHCHECK's exact command, with this venv's python as the image's `python`."""
    cmd = healthcheck_command()
    return subprocess.run([sys.executable, *cmd[1:]], env={**os.environ, "BRIEFBOT_HTTP_PORT": str(port)},
                          capture_output=True, text=True, timeout=30)


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/run.db", "BRIEFBOT_HTTP_HOST": "127.0.0.1",
           "BRIEFBOT_HTTP_PORT": str(port)}
    exe = VENV_BIN / "briefbot"
    argv = [str(exe), "run"] if exe.exists() else [sys.executable, "-m", "bot", "run"]
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_healthcheck_command_passes_against_briefbot_run_and_fails_when_nothing_listens(
        running_bot: tuple[subprocess.Popen[str], int]) -> None:
    proc, port = running_bot
    deadline = time.monotonic() + 30
    p = probe(port)
    while p.returncode != 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        p = probe(port)
    assert p.returncode == 0, (p.stderr, proc.poll())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped" in err
    down = probe(port)
    assert down.returncode != 0 and "Connection refused" in down.stderr
    assert probe(free_port()).returncode != 0


# --- systemd -----------------------------------------------------------------------------------

def unit_sections(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (keys may repeat, e.g. Environment=)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out[section] = {}
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key.strip(), []).append(value.strip())
    return out


def test_systemd_unit_runs_the_venv_as_briefbot_hardened_with_only_the_data_dir_writable() -> None:
    svc = unit_sections(UNIT.read_text())["Service"]
    one = {k: v[-1] for k, v in svc.items()}
    assert one["User"] == "briefbot" and one["EnvironmentFile"] == "/etc/briefbot/env"
    assert one["ExecStart"] == "/opt/briefbot/.venv/bin/briefbot run"
    assert (one["Restart"], one["KillSignal"], one["TimeoutStopSec"]) == ("on-failure", "SIGTERM", "30")
    assert one["NoNewPrivileges"] == "yes" and one["ProtectSystem"] == "strict"
    env = dict(e.split("=", 1) for e in svc["Environment"])
    db = env["BRIEFBOT_DATABASE_URL"].removeprefix("sqlite:///")
    writable = one["ReadWritePaths"].split()
    assert any(Path(db).is_relative_to(w) for w in writable), (db, writable)
    assert Path(one["WorkingDirectory"]) in {Path(w) for w in writable}  # relative sqlite URLs land there too
    assert env["BRIEFBOT_PROMPTS_DIR"] == "/opt/briefbot/prompts"
    assert unit_sections(UNIT.read_text())["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # /opt/briefbot does not exist here: verify a copy whose ExecStart is this venv's briefbot
    exe = VENV_BIN / "briefbot"
    if not exe.exists():
        pytest.skip("briefbot is not installed as a console script in this venv")
    text = UNIT.read_text().replace("ExecStart=/opt/briefbot/.venv/bin/briefbot", f"ExecStart={exe}")
    unit = tmp_path / "briefbot.service"
    unit.write_text(text)
    p = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60,
                       cwd=tmp_path)
    # unknown keys and bad values are only warnings (exit 0): any line naming the unit is a failure
    problems = [line for line in (p.stdout + p.stderr).splitlines() if "briefbot.service" in line]
    assert p.returncode == 0 and not problems, p.stdout + p.stderr


def test_systemd_execstart_command_works() -> None:
    exec_start = unit_sections(UNIT.read_text())["Service"]["ExecStart"][-1].split()
    exe = VENV_BIN / Path(exec_start[0]).name
    if not exe.exists():
        pytest.skip("briefbot is not installed as a console script in this venv")
    p = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "run" in p.stdout
    p = subprocess.run([str(exe), *exec_start[1:], "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "--once" in p.stdout
