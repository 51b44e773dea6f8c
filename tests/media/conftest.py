"""One Plenary node for the whole media folder: starting one costs seconds, and tests that need a
fresh stage reset it through the moderator's ops."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.servers import Node, running


@pytest.fixture(scope="module")
def media_node(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    var: Path = tmp_path_factory.mktemp("media") / "var"
    with running(redis_url, var) as node:
        yield node
