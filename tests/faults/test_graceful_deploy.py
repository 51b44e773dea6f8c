"""A deploy: SIGTERM to a node holding 1,000 sockets. It leaves the load balancer first (/readyz
503), then closes every socket with 1012; clients rejoin the other node and miss no chat line."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import Node
from tests.support.wsclient import Client, token

CLIENTS = 1000
ENV = {"PLENARY_DRAIN_SECONDS": "1", "PLENARY_SHUTDOWN_GRACE": "10", "PLENARY_CHAT_RATE": "20",
       "PLENARY_CHAT_BURST": "20"}


class Follower:
    """Like the page client: on 1012 it rejoins the other node with its positions."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: list[dict[str, Any]] = []
        self.resyncs = 0

    def harvest(self) -> None:
        for m in self.client.by_topic["chat:main"]:
            if m["type"] == "push" and m["d"].get("kind") == "message":
                self.seen.append(m["d"]["message"])
            elif m["type"] == "snapshot" and m.get("resync"):
                self.resyncs += 1
        self.client.by_topic["chat:main"] = []

    async def rejoin(self, url: str) -> int | None:
        code, _ = await asyncio.wait_for(self.client.closed, 30)
        self.harvest()
        positions, tok = self.client.positions, self.client.welcome["token"]
        for attempt in range(20):
            try:
                self.client = await Client.connect(url, token=tok, resume=positions)
                return code
            except Exception:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("could not rejoin")


def watch_readyz(node: Node, until: threading.Event, log: list[tuple[float, int]]) -> None:
    with httpx.Client(timeout=0.5) as http:
        while not until.is_set():
            try:
                log.append((time.monotonic(), http.get(f"{node.url}/readyz").status_code))
            except httpx.HTTPError:
                log.append((time.monotonic(), 0))
            time.sleep(0.02)  # a probe interval, like a load balancer's; not synchronisation


async def test_sigterm_with_1000_sockets_moves_them_without_losing_chat(
    clean_redis: object, redis_url: str, tmp_path: Path
) -> None:
    a = Node(redis_url, tmp_path / "a", env=ENV).start()
    b = Node(redis_url, tmp_path / "b", env=ENV).start()
    try:
        sem = asyncio.Semaphore(100)

        async def join(i: int) -> Follower:
            async with sem:
                return Follower(await Client.connect(a.ws_url, guest=f"viewer {i}"))

        followers = await asyncio.gather(*(join(i) for i in range(CLIENTS)))
        speaker = await Client.connect(b.ws_url, token=token("moderator", "Tim Luan", sub="tim-luan"))
        sent: list[str] = []
        stop = asyncio.Event()

        async def talk() -> None:
            n = 0
            while not stop.is_set() and n < 400:
                reply = await speaker.call("chat.send", {"room": "main", "text": f"line {n}", "cid": f"l{n}"})
                if reply["type"] == "ack":
                    sent.append(reply["d"]["id"])
                n += 1
                await asyncio.sleep(0.05)  # the speaker's own pace: 20 lines a second

        talking = asyncio.create_task(talk())
        await speaker.wait_for(lambda _: len(sent) >= 10, 20, what="lines flowing before the deploy")
        done = threading.Event()
        probes: list[tuple[float, int]] = []
        watcher = threading.Thread(target=watch_readyz, args=(a, done, probes), daemon=True)
        watcher.start()
        assert a.process is not None
        sigterm_at = time.monotonic()
        a.process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(f.rejoin(b.ws_url) for f in followers))
        first_close = time.monotonic()
        assert await asyncio.to_thread(a.process.wait, 20) == 0
        done.set()
        after_deploy = len(sent)
        await speaker.wait_for(lambda _: len(sent) >= after_deploy + 10 or talking.done(), 20,
                               what="lines flowing after the deploy")
        stop.set()
        await talking
        await speaker.request("chat.send", {"room": "main", "text": "end", "cid": "end"})

        assert Counter(codes) == Counter({1012: CLIENTS}), Counter(codes)
        first_503 = next(t for t, status in probes if status == 503)
        assert sigterm_at <= first_503 < first_close, "the node left the load balancer before closing sockets"
        for f in followers:
            await f.client.wait_for(lambda c: any(m["d"].get("message", {}).get("cid") == "end"
                                                  for m in c.pushes("chat:main")), 30, what="the last line")
            f.harvest()
            counts = Counter(m["id"] for m in f.seen)
            assert f.resyncs == 0
            assert not [i for i, n in counts.items() if n > 1], "a line shown twice"
            missing = set(sent) - set(counts)
            assert not missing, f"{len(missing)} lines lost across the deploy"
        await asyncio.gather(*(f.client.close() for f in followers))
    finally:
        for n in (a, b):
            n.terminate()
            n.kill()
