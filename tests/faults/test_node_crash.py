"""kill -9 of one of two nodes in the middle of chat traffic: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from tests.faults.resilient import ResilientChatter
from tests.support.servers import running, wait_until
from tests.support.wsclient import Client, token

FAST_CHAT = {"PLENARY_CHAT_RATE": "50", "PLENARY_CHAT_BURST": "50", "PLENARY_PRESENCE_TTL": "6",
             "PLENARY_OPS_RATE": "500",
             "PLENARY_LOG_LEVEL": "info"}


async def test_kill_9_mid_chat_every_message_seen_exactly_once(
    clean_redis: object, redis_url: str, tmp_path: Path
) -> None:
    with running(redis_url, tmp_path / "a", env=FAST_CHAT) as a, running(redis_url, tmp_path / "b", env=FAST_CHAT) as b:
        moderator = token("moderator", "Moderator", sub="moderator")
        started = a.post("/api/events/zgc-sco-2021/agenda/actions", moderator,
                         json={"action": "start", "expected_version": 0})
        assert started.status_code == 200
        agenda_before = b.get("/api/events/zgc-sco-2021/agenda/state").json()

        chatters = [ResilientChatter([a.ws_url, b.ws_url] if i % 2 == 0 else [b.ws_url, a.ws_url],
                                     token("attendee", f"Person {i}", sub=f"person-{i}"), f"person-{i}")
                    for i in range(16)]
        await asyncio.gather(*(c.connect() for c in chatters))
        per_person = 25
        killed = asyncio.Event()

        async def talk(c: ResilientChatter) -> None:
            for k in range(per_person):
                await c.send(f"{c.name} says {k}", f"{c.name}-{k}")
                if k == 8 and not killed.is_set():
                    killed.set()
                    a.kill()  # kill -9: no goodbye, no cleanup

        await asyncio.wait_for(asyncio.gather(*(talk(c) for c in chatters)), 90)
        assert a.process is not None and a.process.returncode == -9
        assert sum(c.reconnects for c in chatters) >= 1, "the crash hit somebody"

        # a last marker from everyone, then every client must have seen every message exactly once
        acked = {mid for c in chatters for mid in c.acked.values()}
        assert len(acked) == len(chatters) * per_person, "every send was acknowledged exactly once"
        watcher = await Client.connect(b.ws_url, token=token("attendee", "Watcher", sub="watcher"))
        await watcher.request("chat.send", {"room": "main", "text": "end", "cid": "end"})
        for c in chatters:
            assert c.client is not None
            await c.client.wait_for(lambda cl: any(m["d"].get("message", {}).get("cid") == "end"
                                                   for m in cl.pushes("chat:main")), 20, what="the end marker")
            counts = Counter(m["id"] for m in c.messages())
            dupes = [mid for mid, n in counts.items() if n > 1]
            assert not dupes, f"{c.name} saw {len(dupes)} messages twice"
            assert c.resyncs == 0, f"{c.name} got a resync instead of the missed messages: " + "\n".join(
                line for line in (a.log() + b.log()).splitlines() if "resync" in line)
            missing = acked - set(counts)
            assert not missing, f"{c.name} missed {len(missing)} messages"

        assert b.get("/api/events/zgc-sco-2021/agenda/state").json()["version"] == agenda_before["version"]
        # presence: every chatter plus the watcher is online on B; A's dead entries expired (TTL 6 s)
        organizer = token("organizer", "Organizer", sub="organizer")
        wait_until(lambda: b.get("/api/events/zgc-sco-2021/attendance", organizer).json()["online_now"]
                   == len(chatters) + 1, 30, what="online count right after the crash")
        for c in chatters:
            assert c.client is not None
            await c.client.close()
        await watcher.close()
