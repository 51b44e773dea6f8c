"""Helpers for the attendance tests: read the figures over HTTP and wait for them with a bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.servers import EVENT, Node
from tests.support.wsclient import token

ORGANIZER = token("organizer", "Olga Organizer", sub="org-1")
DESK = token("checkin", "Door One", sub="desk-1")


async def figures(node: Node) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{node.url}/api/events/{EVENT}/attendance",
                           headers={"Authorization": f"Bearer {ORGANIZER}"})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def wait_figures(node: Node, predicate: Callable[[dict[str, Any]], bool], within: float,
                       what: str) -> dict[str, Any]:
    """Poll the figures (every 50 ms, at most ``within`` s) until ``predicate`` holds."""
    deadline = time.monotonic() + within
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = await figures(node)
        if predicate(last):
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {within} s waiting for {what}; last figures: "
                         f"online_now={last.get('online_now')} unique={last.get('unique_online')} "
                         f"in_person={last.get('in_person_now')}")


def presence_expiry(redis_client: Any, conn_id: str) -> float | None:
    """When the server's presence entry for ``conn_id`` expires (None: the server removed it)."""
    import os

    from server.store import keys

    keys.configure(os.environ.get("TEST_KEY_PREFIX", "plenary-test"))
    score = redis_client.zscore(keys.Keys(EVENT).presence_conns, conn_id)
    return None if score is None else float(score)


async def post(node: Node, path: str, body: Any, tok: str = DESK) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{node.url}/api/events/{EVENT}{path}", json=body,
                               headers={"Authorization": f"Bearer {tok}"})
