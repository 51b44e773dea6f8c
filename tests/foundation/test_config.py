"""Start-up refuses bad settings with one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import SETTINGS, ConfigError, load_settings
from tests.support.servers import ROOT, SECRET, free_port


def serve(env: dict[str, str], tmp_path: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PLENARY_") and k != "REDIS_URL"}
    base.update({"PLENARY_VAR_DIR": str(tmp_path / "var"), "PLENARY_SECRET": SECRET,
                 "PLENARY_PORT": str(free_port())})
    base.update(env)
    return subprocess.run([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"PLENARY_PORT": "eighty"}, "PLENARY_PORT"),
        ({"PLENARY_PORT": "70000"}, "PLENARY_PORT"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
        ({"PLENARY_SECRET": "short"}, "PLENARY_SECRET"),
        ({"PLENARY_LOG_LEVEL": "loud"}, "PLENARY_LOG_LEVEL"),
        ({"PLENARY_ALLOWED_ORIGINS": "not an origin"}, "PLENARY_ALLOWED_ORIGINS"),
        ({"PLENARY_AGENDA_DIR": "/nonexistent/agenda"}, "PLENARY_AGENDA_DIR"),
    ],
)
def test_bad_setting_stops_startup_with_one_line(env: dict[str, str], setting: str, tmp_path: Path) -> None:
    result = serve(env, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("plenary:")]
    assert len(lines) == 1 and setting in lines[0], result.stderr


def test_bad_agenda_file_names_file_and_line(tmp_path: Path) -> None:
    agenda = tmp_path / "agenda"
    agenda.mkdir()
    (agenda / "broken.yaml").write_text(
        "event:\n  id: broken\n  title: T\n  date: 2021-09-26\n  timezone: Asia/Shanghai\n  venue: V\n"
        "segments:\n  - id: a\n    kind: speech\n    title: A\n    start: '14:00'\n    duration: -5\n"
    )
    result = serve({"PLENARY_AGENDA_DIR": str(agenda)}, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{agenda / 'broken.yaml'}:12: segments[0].duration" in result.stderr


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [spec.env for spec in SETTINGS if f"`{spec.env}`" not in readme]
    assert not missing, f"README's configuration table lacks {missing}"


def test_config_error_names_the_setting() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"PLENARY_FLUSH_MS": "0"})
    assert info.value.setting == "PLENARY_FLUSH_MS"
    assert "greater than 0" in str(info.value)


def test_generated_secret_survives_restarts(tmp_path: Path) -> None:
    from server.config import ensure_secret

    env = {"PLENARY_VAR_DIR": str(tmp_path / "var")}
    first = ensure_secret(load_settings(env)).secret
    second = ensure_secret(load_settings(env)).secret
    assert first and first == second and len(first) >= 32
    assert (tmp_path / "var" / "secret").stat().st_mode & 0o077 == 0


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve({"PLENARY_PORT": str(port), "REDIS_URL": "redis://127.0.0.1:1/0"}, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"PLENARY_PORT: cannot listen on 127.0.0.1:{port}" in result.stderr
