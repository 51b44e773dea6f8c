"""A client that vanishes without closing (laptop lid shut, Wi-Fi gone) is noticed within 30 s:
the server's pings go unanswered, the socket is dropped, and the person leaves "online now"."""

from __future__ import annotations

import json
import socket
import time

from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from tests.support.servers import Node, wait_until
from tests.support.wsclient import token


def test_silent_client_is_dropped_within_30_seconds(node: Node) -> None:
    organizer = token("organizer", "Organizer", sub="organizer")
    uri = parse_uri(f"{node.ws_url}/ws/zgc-sco-2021")
    proto = ClientProtocol(uri, subprotocols=["plenary.v1"])  # type: ignore[list-item]
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=5)
    try:
        proto.send_request(proto.connect())
        sock.sendall(b"".join(proto.data_to_send()))
        while proto.handshake_exc is None and proto.state.name == "CONNECTING":
            proto.receive_data(sock.recv(65536))
        hello = {"op": "hello", "id": 1, "d": {"token": token("attendee", "Laptop", sub="laptop")}}
        proto.send_text(json.dumps(hello).encode())
        sock.sendall(b"".join(proto.data_to_send()))
        wait_until(lambda: node.get("/api/events/zgc-sco-2021/attendance", organizer).json()["online_now"] == 1,
                   10, what="the laptop online")
        silent_since = time.monotonic()
        # from now on this client reads nothing and answers no ping: the process is "gone"
        wait_until(lambda: node.get("/api/events/zgc-sco-2021/attendance", organizer).json()["online_now"] == 0,
                   35, interval=0.5, what="the silent laptop dropped")
        assert time.monotonic() - silent_since <= 30
    finally:
        sock.close()
