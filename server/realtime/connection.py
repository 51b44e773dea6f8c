"""One client's socket on this node: identity, bounded outbox, writer task, topic positions.

The writer task is the only code that awaits the socket's send, so a reader that stops reading
stalls only itself; its outbox grows until ``PLENARY_OUTBOX_LIMIT`` and it is then closed with
1013 (slow consumer). Pushes queued within one hub tick leave as one frame.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketState

from server.auth import Claims
from server.realtime import metrics
from server.realtime.close_codes import reason as close_reason
from server.realtime.protocol import Admit, Position, Protocol, encode, frame
from server.realtime.transport import RawSocket, raw_socket, text_frame

if TYPE_CHECKING:
    from server.realtime.hub import Hub

log = logging.getLogger("plenary.hub")

REPLAY_LIMIT = 1000


@dataclass(eq=False)
class Connection:
    """One client's socket on this node: its identity, outbox and topic positions."""

    hub: Hub
    websocket: WebSocket
    event: str
    claims: Claims
    address: str
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    protocol: Protocol = field(default_factory=Protocol)
    topics: set[str] = field(default_factory=set)
    outbox: deque[bytes] = field(default_factory=deque)
    connected_at: float = field(default_factory=time.time)
    closed: bool = False
    close_code: int | None = None
    raw: RawSocket | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _urgent: bool = False
    _syncing: dict[str, list[tuple[int, str, bytes]]] = field(default_factory=dict)
    _writer: asyncio.Task[None] | None = None
    _op_tokens: float = -1.0
    _op_ts: float = 0.0
    _flooded: int = 0

    def take_op(self, rate: float) -> float:
        """Per-socket budget for requests, kept in memory: 0 when allowed, else seconds to wait.

        It stops a flood before it costs Redis anything; per-user limits that must hold across
        nodes (chat) live in Redis on top of this.
        """
        now = time.monotonic()
        burst = rate * 2
        if self._op_tokens < 0:
            self._op_tokens, self._op_ts = burst, now
        self._op_tokens = min(burst, self._op_tokens + (now - self._op_ts) * rate)
        self._op_ts = now
        if self._op_tokens >= 1:
            self._op_tokens -= 1
            return 0.0
        return (1 - self._op_tokens) / rate

    @property
    def user(self) -> str:
        return self.claims.sub

    def start(self) -> None:
        self.raw = raw_socket(self.websocket)
        if self.raw is not None:
            if self.outbox:
                self.hub.dirty(self, urgent=True)  # the welcome, queued before the socket started
        else:
            # not uvicorn's sansio protocol: one writer task per socket, through ASGI
            self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{self.id}")

    def send(self, message: bytes, urgent: bool = False) -> None:
        """Queue one encoded message; overflowing the outbox evicts this (slow) consumer.

        Queued messages leave at the hub's next tick as one frame, or at once when ``urgent``
        (replies to this client's own requests).
        """
        if self.closed:
            return
        self.outbox.append(message)
        if len(self.outbox) > self.hub.outbox_limit:
            metrics.EVICTED.inc()
            log.warning("evicting slow consumer %s (%d pushes queued)", self.id, len(self.outbox))
            self.hub.spawn(self.close(1013))
            return
        if self.raw is not None:
            self.hub.dirty(self, urgent)
            return
        if urgent:
            self._urgent = True
        self._ready.set()

    def flush(self, frames: dict[tuple[int, ...], bytes]) -> int:
        """Write the outbox as one frame if the peer is reading; ``frames`` shares identical batches.

        Returns the number of messages written (0 when the peer is not reading: they stay queued).
        """
        raw = self.raw
        assert raw is not None
        if self.closed or not self.outbox:
            return 0
        if not raw.writable():
            return 0
        batch = self.outbox
        key = tuple(map(id, batch))
        data = frames.get(key)
        if data is None:
            data = frames[key] = text_frame(b"[" + b",".join(batch) + b"]")
        self.outbox = deque()
        raw.write(data)
        return len(batch)

    def deliver(self, topic: str, seq: int, epoch: str, message: bytes) -> None:
        """A sequenced push from the bus: buffered while the topic syncs, deduplicated, gaps repaired."""
        pending = self._syncing.get(topic)
        if pending is not None:
            pending.append((seq, epoch, message))
            return
        verdict = self.protocol.admit(topic, seq, epoch)
        if verdict is Admit.DELIVER:
            self.send(message)
        elif verdict is Admit.GAP:
            self.hub.spawn(self.sync(topic, None, (seq, epoch, message)))

    async def sync(
        self, topic: str, resume: Position | None, trigger: tuple[int, str, bytes] | None = None,
        position: tuple[int, str] | None = None, adopt: bool = False,
    ) -> None:
        """Bring ``topic`` up to date: replay what was missed if history has it, else a fresh snapshot.

        ``adopt`` takes over the buffer the hub opened when it subscribed this socket, and
        ``position`` is the topic's (seq, epoch) if the caller read it already.
        """
        if topic in self._syncing and not adopt:
            if trigger is not None:
                self._syncing[topic].append(trigger)
            return
        pending: list[tuple[int, str, bytes]] = self._syncing.get(topic, []) if adopt else []
        if trigger is not None:
            pending.append(trigger)
        self._syncing[topic] = pending
        hub = self.hub
        try:
            held = self.protocol.positions.get(topic)
            start = resume or (Position(held.seq, held.epoch) if held is not None else None)
            seq, epoch = position if position is not None else await hub.bus.position(self.event, topic)
            replayed = False
            if start is not None and start.epoch == epoch and start.seq <= seq:
                entries = await hub.bus.since(self.event, topic, start.seq, REPLAY_LIMIT)
                if entries is not None:
                    self.protocol.at(topic, start.seq, epoch)
                    for entry in entries:
                        if self.protocol.admit(topic, entry.seq, epoch) is Admit.DELIVER:
                            self.send(encode_push(topic, entry.seq, epoch, entry.data))
                    replayed = True
                    metrics.RESUMED.inc()
            if not replayed:
                if start is not None:
                    log.info("resync of %s for %s: held %s/%s, topic at %s/%s", topic, self.id,
                             start.seq, start.epoch, seq, epoch)
                data = await hub.topics[topic].snapshot(self.event, self.claims)
                self.protocol.at(topic, seq, epoch)
                self.send(
                    encode({"type": "snapshot", "topic": topic, "seq": seq, "epoch": epoch,
                            "resync": start is not None, "d": data}),
                    urgent=True,
                )
                # pushes fanned out since the position was read are in ``pending`` (the socket
                # was subscribed before this sync began) and are applied below, deduplicated
        finally:
            self._syncing.pop(topic, None)
        for seq_, epoch_, message in pending:
            self.deliver(topic, seq_, epoch_, message)

    async def close(self, code: int, detail: str | None = None) -> None:
        """Close with ``code``; a reader that stopped reading does not hold this up."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self.hub.forget(self)
        if self._writer is not None:
            self._writer.cancel()
        ws = self.websocket
        if self.raw is not None and self.outbox and self.raw.writable():
            self.flush({})  # what was queued before the close goes first
        if ws.application_state is WebSocketState.CONNECTED and ws.client_state is WebSocketState.CONNECTED:
            try:
                await asyncio.wait_for(ws.close(code, close_reason(code, detail)), timeout=2.0)
            except (TimeoutError, RuntimeError, OSError):
                _abort(ws)
            except Exception:
                _abort(ws)

    async def _write_loop(self) -> None:
        ws = self.websocket
        try:
            while True:
                await self._ready.wait()
                if not self._urgent:
                    await self.hub.next_tick()
                self._ready.clear()
                self._urgent = False
                batch = list(self.outbox)
                self.outbox.clear()
                if not batch:
                    continue
                await ws.send_text(frame(batch))
                metrics.FRAMES_OUT.inc()
                metrics.PUSHES_OUT.inc(len(batch))
        except asyncio.CancelledError:
            raise
        except Exception:
            # the peer went away mid-send; the reader side notices and cleans up
            self.closed = True
            self.hub.forget(self)


def encode_push(topic: str, seq: int, epoch: str, data: bytes) -> bytes:
    return b'{"type":"push","topic":%s,"seq":%d,"epoch":%s,"d":%s}' % (
        encode(topic), seq, encode(epoch), data,
    )


def _abort(ws: WebSocket) -> None:
    """Drop a socket whose peer will not read our close frame.

    ASGI offers no abort, and uvicorn's send waits for the transport to drain, which a frozen
    client never lets happen; the raw transport is the one way to free it now.
    """
    raw = raw_socket(ws)
    if raw is not None:
        raw.abort()
