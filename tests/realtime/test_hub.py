"""The hub with real nodes and real Redis: fan-out across nodes, resume, resync, backpressure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.realtime.bus import Bus
from server.store import keys
from server.store.connection import client as store_client
from server.store.scripts import Scripts
from tests.support.servers import Node, running
from tests.support.wsclient import Client

EVENT = "zgc-sco-2021"
TOPIC = "agenda"  # every role reads it; the test publishes through the same Lua path capabilities use


@contextlib.asynccontextmanager
async def bus(redis_url: str, history: int = 2000) -> AsyncIterator[Bus]:
    keys.configure(os.environ.get("TEST_KEY_PREFIX", "plenary-test"))
    client = store_client(redis_url)
    try:
        yield Bus(client, Scripts(client), history=history, ttl=3600)
    finally:
        await client.aclose()


def marks(client: Client) -> list[int]:
    return [m["d"]["mark"] for m in client.pushes(TOPIC) if isinstance(m["d"], dict) and "mark" in m["d"]]


async def test_push_through_node_a_reaches_clients_of_node_b(two_nodes: tuple[Node, Node], redis_url: str) -> None:
    a, b = two_nodes
    on_a = await Client.connect(a.ws_url, guest="on A")
    on_b = await Client.connect(b.ws_url, guest="on B")
    assert on_a.welcome["node"] != on_b.welcome["node"]
    async with bus(redis_url) as pub:
        for i in range(20):
            await pub.publish(EVENT, TOPIC, {"mark": i})
    for c in (on_a, on_b):
        await c.wait_for(lambda c: len(marks(c)) == 20, 10, what="20 pushes")
        assert marks(c) == list(range(20))
        seqs = [m["seq"] for m in c.pushes(TOPIC)]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        await c.close()


async def test_burst_is_coalesced_into_few_frames(node: Node, redis_url: str) -> None:
    client = await Client.connect(node.ws_url, guest="burst")
    frames: list[int] = []
    original = client.ws.recv

    async with bus(redis_url) as pub:
        await asyncio.gather(*(pub.publish(EVENT, TOPIC, {"mark": i}) for i in range(200)))
    await client.wait_for(lambda c: len(marks(c)) == 200, 10, what="200 pushes")
    arrival = sorted({round(m["_at"], 4) for m in client.pushes(TOPIC)})
    frames.append(len(arrival))
    assert frames[0] < 50, f"200 pushes in a burst arrived in {frames[0]} separate batches"
    del original
    await client.close()


async def test_resume_gets_exactly_the_missed_pushes_in_order(two_nodes: tuple[Node, Node], redis_url: str) -> None:
    a, b = two_nodes
    first = await Client.connect(a.ws_url, guest="laptop")
    async with bus(redis_url) as pub:
        for i in range(5):
            await pub.publish(EVENT, TOPIC, {"mark": i})
        await first.wait_for(lambda c: len(marks(c)) == 5, 10, what="first pushes")
        positions = dict(first.positions)
        identity = first.welcome["token"]
        await first.close()  # Wi-Fi drops
        for i in range(5, 12):
            await pub.publish(EVENT, TOPIC, {"mark": i})
        back = await Client.connect(b.ws_url, token=identity, resume=positions)  # comes back on the other node
        await pub.publish(EVENT, TOPIC, {"mark": 12})
        await back.wait_for(lambda c: 12 in marks(c), 10, what="live push after resume")
    assert marks(back) == list(range(5, 13)), "exactly the missed pushes, in order, then live ones"
    assert back.snapshot(TOPIC) is None, "no snapshot when the history covers the gap"
    assert back.welcome["user"]["id"] == first.welcome["user"]["id"]
    await back.close()


async def test_resync_with_a_fresh_snapshot_when_the_gap_is_too_old(
    clean_redis: object, redis_url: str, tmp_path: Path
) -> None:
    with running(redis_url, tmp_path / "var", env={"PLENARY_HISTORY": "10"}) as node:
        first = await Client.connect(node.ws_url, guest="sleepy")
        async with bus(redis_url, history=10) as pub:
            await pub.publish(EVENT, TOPIC, {"mark": 0})
            await first.wait_for(lambda c: marks(c) == [0], 10)
            positions = dict(first.positions)
            await first.close()
            for i in range(1, 400):
                await pub.publish(EVENT, TOPIC, {"mark": i})
        back = await Client.connect(node.ws_url, token=first.welcome["token"], resume=positions)
        snap = await back.wait_for(lambda c: c.snapshot(TOPIC), 10, what="resync snapshot")
        assert snap["resync"] is True and snap["seq"] >= positions[TOPIC]["seq"] + 399
        assert marks(back) == [], "no partial replay"
        await back.close()


async def test_slow_consumer_is_evicted_while_200_others_keep_receiving(
    clean_redis: object, redis_url: str, tmp_path: Path
) -> None:
    with running(redis_url, tmp_path / "var", env={"PLENARY_OUTBOX_LIMIT": "100"}) as node:
        others = await asyncio.gather(*(Client.connect(node.ws_url, guest=f"reader {i}") for i in range(200)))
        # a client that joins and then never reads again; a tiny receive buffer makes it back up fast
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", node.port))
        frozen = await websockets.connect(f"{node.ws_url}/ws/{EVENT}", subprotocols=["plenary.v1"],  # type: ignore[list-item]
                                          max_queue=1, max_size=2**24, sock=sock)
        await frozen.send(json.dumps({"op": "hello", "id": 1, "d": {"guest": {"name": "frozen"}}}))
        await frozen.recv()
        payload = "x" * 2000

        def evicted() -> float:
            for line in httpx.get(f"{node.url}/metrics", timeout=5).text.splitlines():
                if line.startswith("plenary_ws_evicted_total "):
                    return float(line.split()[1])
            return 0.0

        count = 0
        async with bus(redis_url) as pub:
            # publish in rounds until the frozen client's buffers overflow (bounded: 40 rounds)
            for _ in range(40):
                for _ in range(100):
                    await pub.publish(EVENT, TOPIC, {"mark": count, "pad": payload})
                    count += 1
                expected = count
                await asyncio.gather(*(c.wait_for(lambda c, n=expected: len(marks(c)) == n, 30, what="the round")
                                       for c in others))
                if evicted() >= 1:
                    break
        assert evicted() >= 1, f"the frozen client was not evicted after {count} pushes"
        for c in others:
            assert marks(c) == list(range(count)), "every other reader got every push, in order"
        assert all(not c.closed.done() for c in others)
        await asyncio.gather(*(c.close() for c in others))
        frozen.transport.abort()


async def test_oversized_frame_closes_with_1009(node: Node) -> None:
    client = await Client.connect(node.ws_url, guest="big")
    await client.ws.send(json.dumps({"op": "chat.send", "id": 1, "d": {"text": "x" * 70_000}}))
    code, _ = await asyncio.wait_for(client.closed, 10)
    assert code == 1009


async def test_unknown_op_and_ping(node: Node) -> None:
    client = await Client.connect(node.ws_url, guest="curious")
    reply = await client.call("teleport", {})
    assert reply["type"] == "error" and reply["code"] == "unknown_op"
    await client.send_raw("ping", id=99)
    pong = await client.wait_for(lambda c: next((m for m in c.messages if m["type"] == "pong"), None), 5)
    assert pong["id"] == 99 and isinstance(pong["server_time"], int)
    await client.close()


hostile = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    st.builds(lambda op, d: json.dumps({"op": op, "id": 1, "d": d}),
              st.sampled_from(["chat.send", "qa.ask", "qa.upvote", "react", "agenda.action", "subscribe",
                               "stage.show", "mod.ban", "hello"]) | st.text(max_size=10),
              st.dictionaries(st.sampled_from(["text", "room", "cid", "emoji", "id", "topics", "action",
                                               "expected_version", "user", "minutes"]),
                              st.none() | st.integers() | st.text(max_size=30) | st.lists(st.integers(), max_size=3),
                              max_size=4)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(frames=st.lists(hostile, min_size=1, max_size=8))
def test_hostile_frames_get_coded_errors_and_the_node_keeps_serving(node_for_fuzz: Node, frames: list[Any]) -> None:
    async def run() -> None:
        attacker = await Client.connect(node_for_fuzz.ws_url, guest="fuzzer")
        bystander = await Client.connect(node_for_fuzz.ws_url, guest="bystander")
        for frame in frames:
            await attacker.ws.send(frame)
        await attacker.send_raw("ping", id="after")
        await attacker.wait_for(lambda c: any(m.get("id") == "after" for m in c.messages) or c.closed.done(), 10)
        for m in attacker.messages:
            assert m["type"] in ("ack", "error", "pong", "push", "snapshot", "direct")
            if m["type"] == "error":
                assert m["code"] != "internal", m
        if attacker.closed.done():
            code, _ = attacker.closed.result()
            assert code in (1008, 1009, 4504), f"unexpected close {code}"
        await bystander.send_raw("ping", id="still")
        await bystander.wait_for(lambda c: any(m.get("id") == "still" for m in c.messages), 10)
        await attacker.close()
        await bystander.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def node_for_fuzz(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running(redis_url, tmp_path_factory.mktemp("fuzz")) as n:
        yield n
