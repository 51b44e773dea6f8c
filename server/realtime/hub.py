"""The connection hub: this node's sockets, the ops they may call, and fan-out from the bus.

Capabilities plug in through three small calls and never see a socket:

- :meth:`Hub.topic` declares a topic (``agenda``, ``chat:main``...) with the roles that may read it
  and a snapshot function that gives a joining or resyncing client the current state;
- :meth:`Hub.op` declares a client request (``chat.send``...) with its payload type, the roles
  allowed to call it and a handler that returns the ack's data or raises :class:`OpError`;
- :meth:`Hub.publish` appends a push to a topic and sends it to every subscriber on every node.

Fan-out never waits for the slowest reader: each connection has a bounded outbox and its own
writer task; pushes that arrive within one tick (``PLENARY_FLUSH_MS``) leave as one frame, and a
connection whose outbox overflows is closed with 1013. See docs/fanout.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from typing import Protocol as TypingProtocol

import msgspec

from server.auth import Claims, Role
from server.realtime import metrics
from server.realtime.bus import Bus
from server.realtime.connection import REPLAY_LIMIT, Connection, encode_push
from server.realtime.protocol import Position, RequestId, ack, error

log = logging.getLogger("plenary.hub")

SnapshotFn = Callable[[str, Claims], Awaitable[Any]]
OpHandler = Callable[["OpContext", Any], Awaitable[Any]]


class OpError(Exception):
    """A handler's refusal, sent to the client as an error frame with a stable ``code``."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class TopicSpec:
    name: str
    roles: frozenset[Role]
    snapshot: SnapshotFn
    auto: bool = True


@dataclass(frozen=True)
class OpSpec:
    name: str
    roles: frozenset[Role]
    handler: OpHandler
    type: type[Any] | None


@dataclass(frozen=True)
class OpContext:
    hub: Hub
    conn: Connection

    @property
    def event(self) -> str:
        return self.conn.event

    @property
    def claims(self) -> Claims:
        return self.conn.claims


class PresenceHook(TypingProtocol):
    """What the attendance capability hears about connections (see server.attendance.presence)."""

    async def connected(self, conn: Connection) -> None: ...

    async def disconnected(self, conn: Connection) -> None: ...

    async def refresh(self, event: str, conns: list[Connection]) -> None: ...


class Head(msgspec.Struct, frozen=True):
    """Just enough of a bus message to route it; the rest is forwarded as the original bytes."""

    type: str
    topic: str = ""
    seq: int = 0
    epoch: str = ""
    user: str = ""
    code: int = 0
    reason: str = ""
    msg: msgspec.Raw = msgspec.Raw(b"null")  # msgspec cannot decode Raw inside a union


_head = msgspec.json.Decoder(Head)


class Hub:
    def __init__(
        self, bus: Bus, *, outbox_limit: int, flush_ms: int, presence_interval: float, node: str = "",
        ops_rate: float = 20.0,
    ) -> None:
        self.bus = bus
        self.ops_rate = ops_rate
        self.node = node
        self.outbox_limit = outbox_limit
        self.tick_seconds = flush_ms / 1000
        self.presence_interval = presence_interval
        self.topics: dict[str, TopicSpec] = {}
        self.ops: dict[str, OpSpec] = {}
        self.presence: list[PresenceHook] = []
        self.join_checks: list[Callable[[str, Claims], Awaitable[str | None]]] = []
        self.conns: dict[str, Connection] = {}
        self._by_topic: dict[tuple[str, str], set[Connection]] = {}
        self._by_user: dict[tuple[str, str], set[Connection]] = {}
        self._node_pos: dict[tuple[str, str], tuple[int, str]] = {}
        self._tick: asyncio.Future[None] | None = None
        self._dirty: dict[Connection, None] = {}
        self._urgent: dict[Connection, None] = {}
        self._urgent_scheduled = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self.events: list[str] = []
        self.draining = False

    # --- what capabilities call -------------------------------------------------------------

    def topic(self, name: str, roles: Iterable[Role], snapshot: SnapshotFn, auto: bool = True) -> None:
        if name in self.topics:
            raise ValueError(f"topic {name!r} is declared twice")
        self.topics[name] = TopicSpec(name, frozenset(roles), snapshot, auto)

    def op(self, name: str, roles: Iterable[Role], handler: OpHandler, type: type[Any] | None = None) -> None:
        if name in self.ops or name in ("hello", "ping", "subscribe"):
            raise ValueError(f"op {name!r} is declared twice")
        self.ops[name] = OpSpec(name, frozenset(roles), handler, type)

    def on_presence(self, hook: PresenceHook) -> None:
        self.presence.append(hook)

    def on_join(self, check: Callable[[str, Claims], Awaitable[str | None]]) -> None:
        """``check(event, claims)`` returns None to admit, or a reason to refuse (the user is banned)."""
        self.join_checks.append(check)

    async def publish(self, event: str, topic: str, data: Any) -> int:
        if topic not in self.topics:
            raise ValueError(f"publish to undeclared topic {topic!r}")
        seq, _ = await self.bus.publish(event, topic, data)
        return seq

    async def direct(self, event: str, user: str, topic: str, data: Any) -> None:
        """A push for one user's sockets on every node; not sequenced, not replayed."""
        message = {"type": "direct", "topic": topic, "d": data}
        await self.bus.publish_raw(event, {"type": "direct", "user": user, "msg": message})

    async def kick(self, event: str, user: str, code: int, reason: str) -> None:
        """Close every socket of ``user`` on every node (bans, role changes)."""
        await self.bus.publish_raw(event, {"type": "kick", "user": user, "code": code, "reason": reason})

    def local(self, event: str) -> list[Connection]:
        return [c for c in self.conns.values() if c.event == event]

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, events: list[str]) -> None:
        self.events = events
        loop = asyncio.get_running_loop()
        self._tick = loop.create_future()
        self._ticker = asyncio.create_task(self._tick_loop(), name="hub-ticker")
        self._refresher = asyncio.create_task(self._refresh_loop(), name="hub-presence")
        self.bus.start(events, self._on_bus, self._repair_all)

    async def stop(self, grace: float) -> None:
        """Close every socket with 1012 (reconnect elsewhere), wait up to ``grace``, then cancel."""
        self.draining = True
        conns = list(self.conns.values())
        if conns:
            log.info("closing %d sockets with 1012", len(conns))
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(c.close(1012) for c in conns), return_exceptions=True), timeout=grace
                )
            except TimeoutError:
                log.warning("sockets still closing after %.1f s; going on", grace)
        for task in (self._ticker, self._refresher):
            if task is not None:
                task.cancel()
        try:
            await asyncio.wait_for(self.bus.stop(), timeout=3)
        except TimeoutError:
            log.warning("the bus listener did not stop within 3 s; going on")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            log.info("cancelled %d hub tasks at shutdown", len(self._tasks))

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("hub task failed", exc_info=task.exception())

    def next_tick(self) -> asyncio.Future[None]:
        assert self._tick is not None
        return self._tick

    def dirty(self, conn: Connection, urgent: bool) -> None:
        """``conn`` has queued messages: write them at the next tick, or on this loop turn if urgent."""
        if urgent:
            self._urgent[conn] = None
            if not self._urgent_scheduled:
                self._urgent_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush_urgent)
        else:
            self._dirty[conn] = None

    def _flush_urgent(self) -> None:
        self._urgent_scheduled = False
        urgent, self._urgent = self._urgent, {}
        self._flush(urgent)

    def _flush(self, conns: dict[Connection, None]) -> None:
        """Write each socket's queue as one frame; sockets with the same queue share the bytes."""
        frames: dict[tuple[int, ...], bytes] = {}
        sent = written = 0
        for conn in conns:
            if conn.closed:
                continue
            n = conn.flush(frames)
            if n:
                sent += n
                written += 1
            elif conn.outbox:
                self._dirty[conn] = None  # its peer is not reading now: retry next tick
        if written:
            metrics.FRAMES_OUT.inc(written)
            metrics.PUSHES_OUT.inc(sent)

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick_seconds)
            dirty, self._dirty = self._dirty, {}
            if dirty:
                try:
                    self._flush(dirty)
                except Exception:
                    log.exception("flush failed")
            tick, self._tick = self._tick, loop.create_future()
            if tick is not None and not tick.done():
                tick.set_result(None)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.presence_interval)
            for event in self.events:
                conns = self.local(event)
                for hook in self.presence:
                    try:
                        await hook.refresh(event, conns)
                    except Exception:
                        log.exception("presence refresh failed for %s", event)

    # --- connections --------------------------------------------------------------------------

    async def admit(self, conn: Connection, requested: list[str] | None, resume: dict[str, Position]) -> None:
        """Register a joined connection, sync its topics, and tell presence."""
        self.conns[conn.id] = conn
        self._by_user.setdefault((conn.event, conn.user), set()).add(conn)
        metrics.CONNECTIONS.inc()
        conn.start()
        allowed = [t for t in self.topics.values() if conn.claims.role in t.roles]
        wanted = [t.name for t in allowed if (t.auto if requested is None else t.name in requested)]
        await self.subscribe(conn, wanted, resume)
        for hook in self.presence:
            await hook.connected(conn)

    async def subscribe(self, conn: Connection, topics: list[str], resume: dict[str, Position]) -> list[str]:
        for name in topics:
            spec = self.topics.get(name)
            if spec is None:
                raise OpError("unknown_topic", f"there is no topic {name!r}")
            if conn.claims.role not in spec.roles:
                raise OpError("forbidden", f"role {conn.claims.role.value} may not read {name!r}")
        fresh = [name for name in dict.fromkeys(topics) if name not in conn.topics]
        for name in fresh:
            conn.topics.add(name)
            conn._syncing[name] = []  # pushes from now on wait here until the topic is synced
            self._by_topic.setdefault((conn.event, name), set()).add(conn)
        if fresh:
            # one round trip for every topic's position, then the topics sync side by side
            positions = await self.bus.positions(conn.event, fresh)
            await asyncio.gather(*(conn.sync(name, resume.get(name), position=positions[name], adopt=True)
                                   for name in fresh))
        return topics

    def forget(self, conn: Connection) -> None:
        self._dirty.pop(conn, None)
        self._urgent.pop(conn, None)
        if self.conns.pop(conn.id, None) is None:
            return
        metrics.CONNECTIONS.dec()
        for name in conn.topics:
            subs = self._by_topic.get((conn.event, name))
            if subs is not None:
                subs.discard(conn)
        users = self._by_user.get((conn.event, conn.user))
        if users is not None:
            users.discard(conn)
            if not users:
                del self._by_user[(conn.event, conn.user)]
        for hook in self.presence:
            self.spawn(hook.disconnected(conn))

    async def dispatch(self, conn: Connection, request_id: RequestId, op: str, raw: bytes) -> None:
        """Run one capability op and answer with an ack or a coded error."""
        wait = conn.take_op(self.ops_rate)
        if wait:
            conn._flooded += 1
            metrics.OPS.labels(op="any", result="rate_limited").inc()
            if conn._flooded > self.ops_rate * 30:
                # a client that ignores retry_after for this long is a flood, not a person
                self.spawn(conn.close(1008, "request flood"))
                return
            conn.send(error(request_id, "rate_limited", "too many requests on this connection; slow down",
                            retry_after=int(wait * 1000) + 1), urgent=True)
            return
        conn._flooded = 0
        spec = self.ops.get(op)
        if spec is None:
            metrics.OPS.labels(op="unknown", result="unknown_op").inc()
            self._reject(conn, conn.protocol.invalid(request_id, "unknown_op", f"there is no op {op!r}"))
            return
        if conn.claims.role not in spec.roles:
            metrics.OPS.labels(op=op, result="forbidden").inc()
            wanted = ", ".join(sorted(r.value for r in spec.roles))
            conn.send(error(request_id, "forbidden", f"role {conn.claims.role.value} may not {op}; needs {wanted}"),
                      urgent=True)
            return
        data: Any = None
        if spec.type is not None:
            try:
                data = msgspec.json.decode(raw, type=spec.type)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                metrics.OPS.labels(op=op, result="invalid").inc()
                self._reject(conn, conn.protocol.invalid(request_id, "invalid_request", f"{op}: {exc}"))
                return
        try:
            result = await spec.handler(OpContext(self, conn), data)
        except OpError as exc:
            metrics.OPS.labels(op=op, result=exc.code).inc()
            conn.send(error(request_id, exc.code, exc.message, **exc.extra), urgent=True)
            return
        except Exception as exc:
            from server.store.connection import REDIS_DOWN

            if isinstance(exc, REDIS_DOWN):
                metrics.OPS.labels(op=op, result="unavailable").inc()
                conn.send(error(request_id, "unavailable", "storage is unreachable; nothing was saved, retry",
                                retry_after=1), urgent=True)
                return
            metrics.OPS.labels(op=op, result="internal").inc()
            log.exception("op %s failed", op)
            conn.send(error(request_id, "internal", "the server failed on this request"), urgent=True)
            return
        metrics.OPS.labels(op=op, result="ok").inc()
        conn.send(ack(request_id, result), urgent=True)

    def _reject(self, conn: Connection, event: Any) -> None:
        from server.realtime.protocol import Fail, Reject

        if isinstance(event, Reject):
            conn.send(event.frame, urgent=True)
        elif isinstance(event, Fail):
            self.spawn(conn.close(event.code, event.reason))

    # --- the bus ------------------------------------------------------------------------------

    async def _on_bus(self, event: str, data: bytes) -> None:
        metrics.BUS_IN.inc()
        head = _head.decode(data)
        if head.type == "push":
            await self._fan_out(event, head.topic, head.seq, head.epoch, data)
        elif head.type == "direct" and bytes(head.msg) != b"null":
            for conn in list(self._by_user.get((event, head.user), ())):
                conn.send(bytes(head.msg), urgent=True)
        elif head.type == "kick":
            for conn in list(self._by_user.get((event, head.user), ())):
                self.spawn(conn.close(head.code, head.reason))

    async def _fan_out(self, event: str, topic: str, seq: int, epoch: str, data: bytes) -> None:
        key = (event, topic)
        last = self._node_pos.get(key)
        if last is not None and last[1] == epoch and seq > last[0] + 1:
            # pub/sub dropped something (Redis blip): fetch it from history before going on
            missed = await self.bus.since(event, topic, last[0], REPLAY_LIMIT) or []
            metrics.BUS_REPAIRED.inc(len(missed))
            for entry in missed:
                if entry.seq < seq:
                    self._deliver_all(key, entry.seq, epoch, encode_push(topic, entry.seq, epoch, entry.data))
        if last is None or last[1] != epoch or seq > last[0]:
            self._node_pos[key] = (seq, epoch)
        self._deliver_all(key, seq, epoch, data)

    def _deliver_all(self, key: tuple[str, str], seq: int, epoch: str, data: bytes) -> None:
        """Queue one push on every local subscriber: the fan-out hot path, once per socket per push.

        The common case (the socket holds the previous push, is not syncing, writes directly) is
        inlined; anything else goes through ``Connection.deliver`` with its dedupe and repair.
        """
        topic = key[1]
        prev = seq - 1
        limit = self.outbox_limit
        dirty = self._dirty
        for conn in list(self._by_topic.get(key, ())):
            cursor = conn.protocol.positions.get(topic)
            if (cursor is not None and cursor.seq == prev and cursor.epoch == epoch and conn.raw is not None
                    and not conn._syncing and not conn.closed and len(conn.outbox) < limit):
                cursor.seq = seq
                conn.outbox.append(data)
                dirty[conn] = None
            else:
                conn.deliver(topic, seq, epoch, data)

    async def _repair_all(self) -> None:
        """After the bus reconnects: push anything published while this node was not listening."""
        for (event, topic), subs in list(self._by_topic.items()):
            if not subs:
                continue
            seq, epoch = await self.bus.position(event, topic)
            last = self._node_pos.get((event, topic))
            if last is None or last != (seq, epoch):
                for conn in list(subs):
                    self.spawn(conn.sync(topic, None))
                self._node_pos[(event, topic)] = (seq, epoch)
