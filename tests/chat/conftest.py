"""Two real nodes shared by the chat tests, with a flushed Redis before every test.

Starting two ``plenary serve`` processes costs several seconds on a busy machine, so the chat
tests share one pair; each test starts from an empty database (the nodes hold no chat state of
their own: a flushed topic restarts with a new epoch, which the hub treats as a fresh topic).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from tests.chat import util
from tests.support.servers import Node, running


@pytest.fixture(scope="session")
def chat_cluster(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    base: Path = tmp_path_factory.mktemp("chat-nodes")
    with running(redis_url, base / "a") as a, running(redis_url, base / "b") as b:
        yield a, b


@pytest.fixture
async def nodes(
    chat_cluster: tuple[Node, Node], clean_redis: redis.Redis
) -> AsyncIterator[tuple[Node, Node]]:
    yield chat_cluster
    for client in util.OPEN:
        try:
            await client.close()
        except Exception:
            pass
    util.OPEN.clear()
