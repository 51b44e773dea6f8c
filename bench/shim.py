"""``plenary serve`` plus one declared topic, for a benchmark whose topic no capability declares yet.

``BENCH_TOPIC`` names the topic (readable by the audience roles, empty snapshot). Used by
``bench fanout`` only when the real node answers ``unknown_topic``; the result line then says
``"topic_source": "bench-shim"``. Everything else is the unchanged server.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from starlette.routing import BaseRoute

from server import app as app_module
from server.auth import AUDIENCE, Claims
from server.services import Services


class BenchTopic:
    """A capability-shaped object: routes/install/uninstall, declaring one topic if it is missing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def routes(self) -> list[BaseRoute]:
        return []

    async def install(self, svc: Services) -> None:
        if self.name not in svc.hub.topics:
            async def snapshot(event: str, claims: Claims) -> Any:
                return {}

            svc.hub.topic(self.name, AUDIENCE, snapshot)

    async def uninstall(self, svc: Services) -> None:
        return None


if __name__ == "__main__":
    extra = BenchTopic(os.environ.get("BENCH_TOPIC", "chat:main"))
    app_module.CAPABILITIES = (*app_module.CAPABILITIES, extra)
    from server.cli import main

    sys.exit(main(sys.argv[1:]))
