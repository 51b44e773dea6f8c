"""Direct frame writes to uvicorn's WebSocket connections: the fan-out fast path.

A push fanned out to thousands of sockets is the same bytes for each of them, and a server's
frames are never masked, so one tick's frame can be built once and written to every transport
as is. Going through ASGI instead costs a ``send_text`` per socket: the frame is decoded to a
string, encoded again, framed again and written, about 3x the work (bench/README.md).

ASGI has no such call, so this reaches into uvicorn's ``websockets-sansio`` protocol object:
its ``transport``, ``writable`` event (cleared while the transport is paused) and ``close_sent``.
This is the only module that does; ``tests/realtime/test_transport_contract.py`` fails loudly
if a uvicorn upgrade moves these, and ``raw_socket`` returns None for any other server, where
the hub falls back to plain ASGI sends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.websockets import WebSocket
from websockets.frames import Frame, Opcode

PROTOCOL_CLASS = "WebSocketsSansIOProtocol"


def text_frame(payload: bytes) -> bytes:
    """One unmasked text frame, ready for any client's transport."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class RawSocket:
    """The transport under one accepted uvicorn WebSocket."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport

    def writable(self) -> bool:
        """False while the peer is not reading (transport paused) or the socket is closing."""
        p = self._protocol
        return bool(p.writable.is_set()) and not p.close_sent and not self._transport.is_closing()

    def closing(self) -> bool:
        return bool(self._protocol.close_sent) or self._transport.is_closing()

    def write(self, frame: bytes) -> None:
        self._transport.write(frame)

    def abort(self) -> None:
        self._transport.abort()


def raw_socket(ws: WebSocket) -> RawSocket | None:
    """The raw socket under ``ws`` when uvicorn's websockets-sansio serves it, else None."""
    protocol = getattr(ws.scope.get("plenary.send", None) or getattr(ws, "_send", None), "__self__", None)
    if type(protocol).__name__ != PROTOCOL_CLASS:
        return None
    if not all(hasattr(protocol, name) for name in ("transport", "writable", "close_sent")):
        return None
    return RawSocket(protocol)
