"""Reactions: many people reacting on two nodes become at most one push per second, with exact counts."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

from tests.chat.util import join
from tests.support.servers import Node

EMOJI = ["👏", "❤️", "👍"]


async def test_many_reactions_become_at_most_one_push_per_second(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    watcher = await join(b.ws_url, "Screen")
    people = await asyncio.gather(*(join((a, b)[i % 2].ws_url, f"Fan {i}") for i in range(24)))
    started = time.monotonic()
    counted: Counter[str] = Counter()
    for round_ in range(3):
        acks = await asyncio.gather(*(p.request("react", {"emoji": EMOJI[(i + round_) % 3]})
                                      for i, p in enumerate(people)))
        # an immediate second reaction from the same person is debounced: acknowledged, not counted
        again = await asyncio.gather(*(p.request("react", {"emoji": "🎉"}) for p in people[:4]))
        assert not any(x["counted"] for x in again)
        for i, ack in enumerate(acks):
            if ack["counted"]:
                counted[EMOJI[(i + round_) % 3]] += 1
    assert sum(counted.values()) >= 24  # at least every person's first reaction counted

    def total(c) -> Counter[str]:  # type: ignore[no-untyped-def]
        seen: Counter[str] = Counter()
        for m in c.pushes("reactions"):
            seen.update(m["d"]["counts"])
        return seen

    await watcher.wait_for(lambda c: total(c) == counted, timeout=10, what=f"aggregated counts {dict(counted)}")
    elapsed = time.monotonic() - started
    pushes = watcher.pushes("reactions")
    stamps = [m["d"]["at"] for m in pushes]
    assert len(pushes) <= elapsed + 1
    assert all(later - earlier >= 900 for earlier, later in itertools.pairwise(stamps))
    bad = await people[0].call("react", {"emoji": "<script>"})
    assert bad["code"] == "invalid_emoji" and "👏" in bad["allowed"]
