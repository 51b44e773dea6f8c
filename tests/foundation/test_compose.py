"""docker-compose.yml cannot run here (no Docker engine), so check that it agrees with the app."""

from __future__ import annotations

import yaml

from server.config import SETTINGS
from tests.support.servers import ROOT


def test_compose_sets_only_settings_the_app_knows() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    known = {spec.env for spec in SETTINGS}
    nodes = {name: svc for name, svc in compose["services"].items() if "build" in svc}
    assert len(nodes) >= 2, "a multi-node deployment has at least two app nodes"
    for name, svc in nodes.items():
        env = svc["environment"]
        unknown = {k for k in env if k.startswith("PLENARY_") and k not in known}
        assert not unknown, f"{name} sets unknown settings {unknown}"
        assert env["REDIS_URL"].startswith("redis://redis:")
        port = env["PLENARY_PORT"]
        assert svc["expose"] == [port]
        assert svc["healthcheck"]["test"][-1] == f"http://127.0.0.1:{port}/readyz"


def test_compose_redis_persists_with_aof_and_has_a_health_check() -> None:
    redis = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert redis["healthcheck"]["test"][-1] == "ping"


def test_dockerfile_health_check_matches() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "http://127.0.0.1:8000/readyz" in dockerfile and "EXPOSE 8000" in dockerfile
