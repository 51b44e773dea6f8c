"""Every HTTP route and every WebSocket op against every kind of caller: allowed or denied, as listed.

The table below is the product's promise, written out by hand (not read from the code it tests).
"Allowed" means the request passed authentication and the role check (it may still fail
validation with a 4xx of its own); "denied" means 401 or 403 (HTTP) or ``forbidden`` (socket).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from server.auth import mint
from tests.support.servers import SECRET, Node, running
from tests.support.wsclient import Client, ProtocolError

EVENT = "zgc-sco-2021"
EV = f"/api/events/{EVENT}"
AUDIENCE = {"guest", "attendee", "speaker", "moderator", "organizer"}
STAFF = {"moderator", "organizer"}
EVERYONE = AUDIENCE | {"checkin"}
PUBLIC = "public"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def callers() -> dict[str, str | None]:
    def t(role: str, event: str = EVENT, ttl: float = 3600) -> str:
        return mint(SECRET, event=event, role=role, name=f"The {role}", sub=f"matrix-{role}", ttl=ttl)

    claims = {"sub": "matrix-mallory", "name": "Mallory", "role": "organizer", "event": EVENT, "exp": 4102444800}
    return {
        "no token": None,
        **{role: t(role) for role in ("guest", "attendee", "speaker", "checkin", "moderator", "organizer")},
        "moderator of another event": t("moderator", event="another-event"),
        "expired": t("organizer", ttl=-60),
        "forged signature": jwt.encode(claims, "not-the-secret-0123456789abcdef0123456789", algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
    }


SDP = {"Content-Type": "application/sdp"}
JSON = {"Content-Type": "application/json"}
# (method, path, who may, body, extra headers)
HTTP: list[tuple[str, str, str | set[str], Any, dict[str, str]]] = [
    ("GET", "/livez", PUBLIC, None, {}),
    ("GET", "/readyz", PUBLIC, None, {}),
    ("GET", "/metrics", PUBLIC, None, {}),
    ("GET", "/openapi.json", PUBLIC, None, {}),
    ("GET", "/api/events", PUBLIC, None, {}),
    ("GET", EV, PUBLIC, None, {}),
    ("GET", f"{EV}/agenda/state", PUBLIC, None, {}),
    ("GET", f"{EV}/schedule.json", PUBLIC, None, {}),
    ("GET", f"{EV}/schedule.ics", PUBLIC, None, {}),
    ("POST", f"{EV}/agenda/actions", STAFF, {"action": "next", "expected_version": 99999}, JSON),
    ("GET", f"{EV}/agenda/log", STAFF, None, {}),
    ("GET", f"{EV}/chat/main/messages", STAFF, None, {}),
    ("GET", f"{EV}/modlog", STAFF, None, {}),
    ("GET", f"{EV}/attendance", STAFF, None, {}),
    ("GET", f"{EV}/attendance.csv", {"organizer"}, None, {}),
    ("GET", f"{EV}/attendees.csv", {"organizer"}, None, {}),
    ("POST", f"{EV}/checkins", {"checkin", "organizer"}, {"badge": "PB1.forged.badge"}, JSON),
    ("POST", f"{EV}/walkins", {"checkin", "organizer"}, {"name": "Walk In"}, JSON),
    ("POST", f"{EV}/tokens", {"organizer"}, {"role": "attendee", "name": "Invitee"}, JSON),
    ("GET", f"{EV}/roles", {"organizer"}, None, {}),
    ("PUT", f"{EV}/roles/matrix-nobody", {"organizer"}, {"role": "attendee"}, JSON),
    ("DELETE", f"{EV}/roles/matrix-nobody", {"organizer"}, None, {}),
    ("POST", f"/whip/{EVENT}", {"speaker", "moderator", "organizer"}, "v=0\r\nnot sdp\r\n", SDP),
    ("POST", f"/whip/{EVENT}/matrix-speaker", {"speaker", "moderator", "organizer"}, "v=0\r\nnot sdp\r\n", SDP),
    ("POST", f"/whep/{EVENT}", AUDIENCE, "v=0\r\nnot sdp\r\n", SDP),
]

OPS: dict[str, set[str]] = {
    "chat.send": AUDIENCE, "qa.ask": AUDIENCE, "qa.upvote": AUDIENCE, "react": AUDIENCE,
    **{op: STAFF for op in ("chat.delete", "chat.pin", "chat.announce", "chat.slowmode", "mod.mute", "mod.ban",
                            "mod.unban", "qa.approve", "qa.answer", "qa.highlight", "qa.settings",
                            "agenda.action", "stage.show", "stage.clear", "stage.clip")},
}
INVALID = {"no token", "expired", "forged signature", "alg none"}


@pytest.fixture(scope="module")
def matrix_node(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running(redis_url, tmp_path_factory.mktemp("matrix"), env={"PLENARY_OPS_RATE": "1000"}) as node:
        yield node


@pytest.mark.parametrize(("method", "path", "who", "body", "headers"), HTTP,
                         ids=[f"{m} {p}" for m, p, *_ in HTTP])
def test_http_route_against_every_caller(matrix_node: Node, method: str, path: str, who: str | set[str],
                                         body: Any, headers: dict[str, str]) -> None:
    for caller, tok in callers().items():
        h = dict(headers)
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        content = body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body else None)
        r = httpx.request(method, matrix_node.url + path, headers=h, content=content, timeout=15)
        assert r.status_code < 500, f"{caller}: {method} {path} -> {r.status_code} {r.text[:200]}"
        allowed = who == PUBLIC or (caller in who)
        if allowed:
            assert r.status_code not in (401, 403), f"{caller} should pass {method} {path}: {r.text[:200]}"
        else:
            want = 401 if caller in INVALID else 403
            assert r.status_code == want, f"{caller} on {method} {path}: {r.status_code} {r.text[:200]}"
            assert r.json()["code"] in ("unauthorized", "invalid_token", "token_expired", "forbidden", "wrong_event")


async def test_socket_ops_against_every_caller(matrix_node: Node) -> None:
    for caller, tok in callers().items():
        if caller in INVALID or caller == "moderator of another event":
            with pytest.raises(ProtocolError):
                await Client.connect(matrix_node.ws_url, token=tok)
            continue
        client = await Client.connect(matrix_node.ws_url, token=tok)
        replies = await asyncio.gather(*(client.call(op, {}) for op in OPS))
        for (op, who), reply in zip(OPS.items(), replies, strict=True):
            role = client.welcome["user"]["role"]
            if role in who:
                assert not (reply["type"] == "error" and reply["code"] == "forbidden"), f"{caller} denied {op}"
            else:
                assert reply["type"] == "error" and reply["code"] == "forbidden", f"{caller} allowed {op}: {reply}"
        await client.close()


async def test_role_change_and_revocation_reach_live_sockets(matrix_node: Node) -> None:
    organizer = callers()["organizer"]
    moderator = mint(SECRET, event=EVENT, role="moderator", name="Demoted", sub="matrix-demoted")
    live = await Client.connect(matrix_node.ws_url, token=moderator)
    assert (await live.call("chat.slowmode", {"room": "main", "seconds": 0}))["type"] == "ack"

    r = httpx.put(f"{matrix_node.url}{EV}/roles/matrix-demoted", json={"role": "attendee"},
                  headers={"Authorization": f"Bearer {organizer}"}, timeout=10)
    assert r.status_code == 200
    code, _ = await asyncio.wait_for(live.closed, 10)
    assert code == 4002, "the live socket is told to rejoin"
    again = await Client.connect(matrix_node.ws_url, token=moderator)
    assert again.welcome["user"]["role"] == "attendee"
    reply = await again.call("chat.slowmode", {"room": "main", "seconds": 0})
    assert reply["code"] == "forbidden"
    denied = httpx.get(f"{matrix_node.url}{EV}/agenda/log", headers={"Authorization": f"Bearer {moderator}"})
    assert denied.status_code == 403, "HTTP sees the change too"

    r = httpx.put(f"{matrix_node.url}{EV}/roles/matrix-demoted", json={"role": "revoked"},
                  headers={"Authorization": f"Bearer {organizer}"}, timeout=10)
    assert r.status_code == 200
    code, _ = await asyncio.wait_for(again.closed, 10)
    assert code == 4002
    with pytest.raises(ProtocolError, match="revoked"):
        await Client.connect(matrix_node.ws_url, token=moderator)

    r = httpx.delete(f"{matrix_node.url}{EV}/roles/matrix-demoted", headers={"Authorization": f"Bearer {organizer}"})
    assert r.status_code == 200
    restored = await Client.connect(matrix_node.ws_url, token=moderator)
    assert restored.welcome["user"]["role"] == "moderator"
    await restored.close()
