"""Online presence on real nodes: tabs, churn across two nodes, a killed node, a restarted one."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import redis

from tests.attendance.conftest import figures, presence_expiry, wait_figures
from tests.support.servers import Node, running, wait_until
from tests.support.wsclient import Client, token


async def join(node: Node, user: str, **traits: str) -> Client:
    return await Client.connect(node.ws_url, token=token("attendee", f"User {user}", sub=user,
                                                         traits=traits or None), topics=[])


async def test_several_tabs_count_once_and_the_last_tab_leaves_at_once(node: Node, clean_redis: redis.Redis) -> None:
    tabs = [await join(node, "ana", country="Egypt") for _ in range(3)]
    other = await join(node, "bo", organisation="ZGC")
    # staff and the hall projector are connected but are not audience
    staff = await Client.connect(node.ws_url, token=token("organizer", "Org", sub="org-9"), topics=[])
    screen = await Client.connect(node.ws_url, guest="Hall screen", topics=[])
    data = await wait_figures(node, lambda f: f["online_now"] == 2, 5, "two users online")
    assert data["unique_online"] == 2
    assert data["online_by"]["country"] == {"Egypt": 1}
    assert data["online_by"]["organisation"] == {"ZGC": 1}
    await tabs[0].close()
    await tabs[1].close()
    # once the server has removed both closed tabs' entries, the count must not have moved
    closed = [t.welcome["conn"] for t in tabs[:2]]
    wait_until(lambda: all(presence_expiry(clean_redis, c) is None for c in closed), 5, what="tabs removed")
    assert (await figures(node))["online_now"] == 2
    await tabs[2].close()
    # well inside the 60 s TTL: a clean close leaves at once
    data = await wait_figures(node, lambda f: f["online_now"] == 1, 3, "ana gone after her last tab")
    assert data["online_by"]["country"] == {}
    assert data["unique_online"] == 2 and data["peak_online"] == 2
    for c in (other, staff, screen):
        await c.close()


async def test_churn_of_1000_users_across_two_nodes_ends_exact(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    rng = random.Random(6)
    live: dict[int, Client] = {}  # key = connection number
    owner: dict[int, str] = {}
    sem = asyncio.Semaphore(50)

    async def connect(n: int, user: str) -> None:
        async with sem:
            live[n] = await join(a if n % 2 else b, user)
            owner[n] = user

    async def disconnect(n: int) -> None:
        async with sem:
            await live.pop(n).close()

    # 1,000 users; every tenth opens a second tab on the other node
    await asyncio.gather(*(connect(i, f"u{i}") for i in range(1000)))
    await asyncio.gather(*(connect(1000 + i, f"u{i}") for i in range(0, 1000, 10)))
    # churn: 400 connections close, 150 come back (some as new users)
    gone = rng.sample(sorted(live), 400)
    await asyncio.gather(*(disconnect(n) for n in gone))
    await asyncio.gather(*(connect(2000 + i, f"u{rng.randrange(1100)}") for i in range(150)))
    truth = {owner[n] for n in live}
    ever = set(owner.values())
    data = await wait_figures(a, lambda f: f["online_now"] == len(truth), 15, f"{len(truth)} online")
    assert data["unique_online"] == len(ever)
    assert (await figures(b))["online_now"] == len(truth)
    await asyncio.gather(*(disconnect(n) for n in list(live)))
    await wait_figures(b, lambda f: f["online_now"] == 0, 10, "everyone gone")


async def test_a_killed_node_loses_its_users_within_the_ttl_and_the_others_stay(
    clean_redis: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    env = {"PLENARY_PRESENCE_TTL": "3"}
    with running(redis_url, tmp_path / "a", env=env) as a, running(redis_url, tmp_path / "b", env=env) as b:
        on_a = [await join(a, f"a{i}") for i in range(5)]
        on_b = [await join(b, f"b{i}") for i in range(4)]
        both = [await join(a, "twin"), await join(b, "twin")]
        await wait_figures(b, lambda f: f["online_now"] == 10, 5, "ten online")
        a.kill()  # SIGKILL: node A says no goodbye
        # b's users stay; a's go within the TTL (3 s) plus one purge tick; twin stays via node B
        data = await wait_figures(b, lambda f: f["online_now"] == 5, 3 + 2, "node A's users gone")
        assert data["unique_online"] == 10
        # and they stay gone while B refreshes its own entries, twice (each refresh moves the expiry)
        mine = on_b[0].welcome["conn"]
        for _ in range(2):
            before = presence_expiry(clean_redis, mine)
            assert before is not None
            wait_until(lambda before=before: (presence_expiry(clean_redis, mine) or 0) > before, 5,
                       what="node B's presence refresh")
        assert (await figures(b))["online_now"] == 5
        for c in on_b + both[1:]:
            await c.close()
        del on_a


async def test_counts_survive_a_node_restart(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    on_a = [await join(a, f"r{i}") for i in range(3)]
    on_b = [await join(b, f"s{i}") for i in range(2)]
    await wait_figures(b, lambda f: f["online_now"] == 5, 5, "five online")
    a.terminate()  # graceful: its sockets close with 1012 and leave at once, not after the TTL
    await wait_figures(b, lambda f: f["online_now"] == 2, 5, "node A's users gone at once")
    a.process = None
    a.start()
    back = [await join(a, f"r{i}") for i in range(2)]
    data = await wait_figures(a, lambda f: f["online_now"] == 4, 5, "two users back")
    assert data["unique_online"] == 5 and data["peak_online"] == 5
    for c in back + on_b:
        await c.close()
    del on_a
