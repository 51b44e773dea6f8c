"""ICE settings: only the configured addresses are announced, and an unanswering STUN server
does not push the WHIP answer past OBS's 8 s timeout."""

from __future__ import annotations

import re
import time
from pathlib import Path

import redis

from server.media.ice import announce, configuration, parse_addresses
from tests.media.peers import publish
from tests.support.servers import EVENT, free_port, running
from tests.support.wsclient import token


def test_no_stun_unless_configured() -> None:
    assert configuration([]).iceServers == []  # never None: aiortc would add Google's STUN server
    assert [s.urls for s in configuration(["stun:stun.example.org:3478"]).iceServers] == ["stun:stun.example.org:3478"]


def test_announced_address_replaces_the_gathered_one() -> None:
    local, announced = parse_addresses(["10.0.0.5=203.0.113.7", "127.0.0.1"])
    assert local == ["10.0.0.5", "127.0.0.1"] and announced == {"10.0.0.5": "203.0.113.7"}
    sdp = "a=candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host\r\na=candidate:2 1 udp 1 127.0.0.1 4 typ host\r\n"
    out = announce(sdp, announced)
    assert "203.0.113.7 40000 typ host" in out and "10.0.0.5" not in out and "127.0.0.1 4" in out


async def test_answer_within_8s_when_stun_does_not_answer(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    silent = f"stun:127.0.0.1:{free_port()}"  # nothing listens there: requests go unanswered, on loopback
    with running(redis_url, tmp_path / "var", env={"PLENARY_ICE_SERVERS": silent}) as node:
        started = time.monotonic()
        pc, res = await publish(node.url, EVENT, token("speaker", "Alexey Karpenko", sub="alexey-karpenko"), "green")
        elapsed = time.monotonic() - started
        await pc.close()
        assert res.status_code == 201, res.text
        assert elapsed < 8.0
        assert set(re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) ", res.text)) == {"127.0.0.1"}
        assert f'<{silent}>; rel="ice-server"' in res.headers["link"]
