"""Shared fixtures: a real Redis (REDIS_URL, else 127.0.0.1:6379, else an embedded one) and real nodes."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from server.store.connection import EmbeddedRedis
from tests.support.servers import Node, running

# the tests own this database and flush it; TEST_REDIS_DB lets parallel runs keep apart
TEST_DB = int(os.environ.get("TEST_REDIS_DB", "15"))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    if _reachable("127.0.0.1", 6379):
        yield f"redis://127.0.0.1:6379/{TEST_DB}"
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def node(clean_redis: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Node]:
    with running(redis_url, tmp_path / "var") as n:
        yield n


@pytest.fixture
def two_nodes(clean_redis: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    with running(redis_url, tmp_path / "a") as a, running(redis_url, tmp_path / "b") as b:
        yield a, b
