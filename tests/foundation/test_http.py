"""Health, metrics, the event JSON, problem bodies and headers, as an operator or browser sees them."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
import pytest
import websockets

from server.store.connection import EmbeddedRedis
from tests.support.servers import Node, running, wait_until
from tests.support.wsclient import Client, token


def test_event_json_lists_every_segment_in_order(node: Node) -> None:
    event = node.get("/api/events/zgc-sco-2021").json()
    assert event["id"] == "zgc-sco-2021" and event["timezone"] == "Asia/Shanghai"
    ids = [s["id"] for s in event["segments"]]
    assert ids[0] == "welcome-cui-shuqiang" and ids[1] == "video-vladimir-norov"
    starts = [s["planned_start"] for s in event["segments"]]
    assert starts == sorted(starts)


def test_unknown_event_and_path_are_problem_json(node: Node) -> None:
    for path, code in (("/api/events/no-such-event", "unknown_event"), ("/no/such/page", "not_found")):
        r = node.get(path)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == code and r.json()["status"] == 404


def test_wrong_method_is_405_problem(node: Node) -> None:
    r = httpx.delete(f"{node.url}/api/events", timeout=5)
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_pages_send_security_headers(node: Node) -> None:
    for path in ("/", "/moderator", "/organizer", "/speaker", "/checkin", "/screen"):
        r = node.get(path)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in r.text, "no inline script in pages"


async def test_metrics_count_live_sockets(node: Node) -> None:
    def gauge() -> float:
        for line in httpx.get(f"{node.url}/metrics", timeout=5).text.splitlines():
            if line.startswith("plenary_ws_connections "):
                return float(line.split()[1])
        raise AssertionError("plenary_ws_connections missing from /metrics")

    before = gauge()
    clients = [await Client.connect(node.ws_url, guest=f"viewer {i}") for i in range(3)]
    assert gauge() == before + 3
    for c in clients:
        await c.close()
    wait_until(lambda: gauge() == before, 5, what="gauge back down")


def test_request_log_is_json_without_tokens(clean_redis: object, redis_url: str, tmp_path: Path) -> None:
    with running(redis_url, tmp_path / "var", env={"PLENARY_LOG_LEVEL": "info"}) as node:
        secret_token = token("organizer", "Org")
        node.get("/api/events/zgc-sco-2021?probe=1", token=secret_token)
        line = wait_until(lambda: next((x for x in node.log().splitlines() if '"/api/events/zgc-sco-2021"' in x), None),
                          5, what="access log line")
        entry = json.loads(line)
        assert entry["status"] == 200 and entry["method"] == "GET"
        assert secret_token not in node.log()
        assert "probe=1" not in node.log(), "query strings stay out of logs"


def test_readyz_follows_redis(clean_redis: object, tmp_path: Path) -> None:
    own = EmbeddedRedis(tmp_path / "own-redis")
    url = own.start()
    try:
        with running(url, tmp_path / "var") as n:
            assert n.get("/readyz").status_code == 200
            own.stop()
            wait_until(lambda: n.get("/readyz").status_code == 503, 10, what="503 while Redis is down")
            assert n.get("/readyz").json()["status"] == "redis_unavailable"
            assert n.get("/livez").status_code == 200, "liveness does not depend on Redis"
            own.start()
            wait_until(lambda: n.get("/readyz").status_code == 200, 15, what="200 after Redis returns")
    finally:
        own.stop()


async def test_sigterm_drains_then_closes_sockets_with_1012_and_exits(
    clean_redis: object, redis_url: str, tmp_path: Path
) -> None:
    n = Node(redis_url, tmp_path / "var", env={"PLENARY_DRAIN_SECONDS": "1", "PLENARY_SHUTDOWN_GRACE": "5"}).start()
    try:
        client = await Client.connect(n.ws_url, guest="Listener")
        assert n.process is not None
        started = time.monotonic()
        n.process.send_signal(signal.SIGTERM)
        statuses: list[int] = []
        while n.process.poll() is None and time.monotonic() - started < 10:
            try:
                async with httpx.AsyncClient() as http:
                    statuses.append((await http.get(f"{n.url}/readyz", timeout=0.5)).status_code)
            except httpx.HTTPError:
                statuses.append(0)
            await asyncio.sleep(0.05)
        assert 503 in statuses, f"/readyz never said 503 while draining: {statuses[:10]}"
        code, _ = await asyncio.wait_for(client.closed, 10)
        assert code == 1012
        assert n.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 8
    finally:
        n.kill()


async def test_foreign_origin_is_refused_before_accept(node: Node) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{node.ws_url}/ws/zgc-sco-2021", origin="https://evil.example")  # type: ignore[arg-type]
    assert info.value.response.status_code == 403
    ok = await Client.connect(node.ws_url, guest="Local", origin=node.url)
    await ok.close()


async def test_unknown_event_socket_is_refused_with_404(node: Node) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{node.ws_url}/ws/no-such-event")
    assert info.value.response.status_code == 404
