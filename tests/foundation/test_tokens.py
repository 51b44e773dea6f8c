"""Tokens: minted by the CLI, verified on every join; forged, expired and foreign ones refused."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import jwt
import pytest
import websockets

from server.auth import AuthError, Role, mint, verify
from tests.support.servers import ROOT, SECRET, Node
from tests.support.wsclient import Client, ProtocolError, token


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens() -> dict[str, str]:
    claims = {"sub": "u1", "name": "Mallory", "role": "moderator", "event": "zgc-sco-2021", "exp": 4102444800}
    return {
        "expired": mint(SECRET, event="zgc-sco-2021", role="moderator", name="Late", ttl=-60),
        "wrong_signature": jwt.encode(claims, "another-secret-0123456789abcdef0123", algorithm="HS256"),
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "garbage": "not.a.token",
    }


def test_cli_mints_a_token_the_server_accepts() -> None:
    env = {**os.environ, "PLENARY_SECRET": SECRET}
    out = subprocess.run(
        [sys.executable, "-m", "server", "token", "--event", "zgc-sco-2021", "--role", "speaker",
         "--name", "Li Junjie", "--sub", "li-junjie", "--ttl", "600"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    claims = verify(SECRET, out, "zgc-sco-2021")
    assert (claims.sub, claims.name, claims.role) == ("li-junjie", "Li Junjie", Role.SPEAKER)


def test_cli_refuses_an_unknown_role() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "token", "--event", "e", "--role", "admin", "--name", "x"],
        cwd=ROOT, env={**os.environ, "PLENARY_SECRET": SECRET}, capture_output=True, text=True,
    )
    assert result.returncode == 2 and "--role must be one of" in result.stderr


@pytest.mark.parametrize("kind", ["expired", "wrong_signature", "alg_none", "garbage"])
def test_verify_refuses_bad_tokens(kind: str) -> None:
    with pytest.raises(AuthError) as info:
        verify(SECRET, forged_tokens()[kind], "zgc-sco-2021")
    assert info.value.code == ("token_expired" if kind == "expired" else "invalid_token")


def test_verify_refuses_a_token_for_another_event() -> None:
    with pytest.raises(AuthError) as info:
        verify(SECRET, mint(SECRET, event="other", role="moderator", name="M"), "zgc-sco-2021")
    assert info.value.code == "wrong_event"


async def test_socket_join_with_each_bad_token_is_closed_with_a_terminal_code(node: Node) -> None:
    for kind, bad in forged_tokens().items():
        with pytest.raises(ProtocolError, match="token_expired" if kind == "expired" else "invalid_token"):
            await Client.connect(node.ws_url, token=bad)
    other = mint(SECRET, event="other-event", role="moderator", name="M")
    ws = await websockets.connect(f"{node.ws_url}/ws/zgc-sco-2021", subprotocols=["plenary.v1"])  # type: ignore[list-item]
    await ws.send(json.dumps({"op": "hello", "id": 1, "d": {"token": other}}))
    reply = json.loads(await ws.recv())
    assert reply[0]["code"] == "wrong_event"
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4503


async def test_valid_token_and_guest_join(node: Node) -> None:
    member = await Client.connect(node.ws_url, token=token("attendee", "Aigerim", sub="aigerim",
                                                           traits={"country": "Kazakhstan"}))
    assert member.welcome["user"] == {"id": "aigerim", "name": "Aigerim", "role": "attendee",
                                      "traits": {"country": "Kazakhstan"}}
    guest = await Client.connect(node.ws_url, guest="  Visitor   from Cairo ")
    assert guest.welcome["user"]["role"] == "guest"
    assert guest.welcome["user"]["name"] == "Visitor from Cairo"
    again = await Client.connect(node.ws_url, token=guest.welcome["token"])
    assert again.welcome["user"]["id"] == guest.welcome["user"]["id"], "a guest keeps one identity"
    for c in (member, guest, again):
        await c.close()


async def test_token_in_the_subprotocol_header(node: Node) -> None:
    t = token("moderator", "Tim Luan", sub="tim-luan")
    ws = await websockets.connect(f"{node.ws_url}/ws/zgc-sco-2021",
                                  subprotocols=["plenary.v1", f"plenary.token.{t}"])  # type: ignore[list-item]
    assert ws.subprotocol == "plenary.v1"
    await ws.send(json.dumps({"op": "hello", "id": 1, "d": {}}))
    reply = json.loads(await ws.recv())
    assert reply[0]["type"] == "ack" and reply[0]["d"]["user"]["id"] == "tim-luan"
    await ws.close()
