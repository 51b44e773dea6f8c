"""The Plenary wire protocol, without I/O.

Text in, typed events out; typed replies in, bytes out. Nothing here touches a socket, Redis or
asyncio, so the whole protocol can be tested and fuzzed on its own (``tests/realtime``). The
endpoint in :mod:`server.realtime.endpoint` only moves bytes between this and the socket.

The protocol itself is documented in ``PROTOCOL.md`` beside this file.

Client frames are one JSON object: ``{"op": ..., "id": ..., "d": {...}}``. Server frames are a JSON
array of messages, so that pushes coalesced in one tick leave as one frame.
"""

from __future__ import annotations

import enum
from typing import Any, Literal, assert_never

import msgspec

VERSION = 1
SUBPROTOCOL = "plenary.v1"
MAX_FRAME = 64 * 1024
MAX_ERRORS = 20  # protocol errors tolerated per connection before it is closed with 1008

RequestId = int | str | None


class Position(msgspec.Struct, frozen=True):
    seq: int
    epoch: str


class Guest(msgspec.Struct, frozen=True):
    name: str
    country: str | None = None
    organisation: str | None = None


class HelloData(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    v: int = VERSION
    token: str | None = None
    guest: Guest | None = None
    resume: dict[str, Position] = {}
    topics: list[str] | None = None


class Envelope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    op: str
    id: int | str | None = None
    d: msgspec.Raw = msgspec.Raw(b"{}")


# Events the protocol hands to the endpoint: each one declared once, dispatched with assert_never.
class Hello(msgspec.Struct, frozen=True, tag="hello"):
    id: RequestId
    data: HelloData


class Ping(msgspec.Struct, frozen=True, tag="ping"):
    id: RequestId


class Subscribe(msgspec.Struct, frozen=True, tag="subscribe"):
    id: RequestId
    topics: list[str]
    resume: dict[str, Position]


class Request(msgspec.Struct, frozen=True, tag="request"):
    """A capability op (``chat.send``, ``qa.upvote``...); its ``d`` is validated by the op's own type."""

    id: RequestId
    op: str
    data: msgspec.Raw


class Reject(msgspec.Struct, frozen=True, tag="reject"):
    """Bad input that earns an error frame; the connection stays open."""

    frame: bytes


class Fail(msgspec.Struct, frozen=True, tag="fail"):
    """Close the connection with this code and reason."""

    code: int
    reason: str


Event = Hello | Ping | Subscribe | Request | Reject | Fail


class State(enum.Enum):
    AWAITING_HELLO = "awaiting_hello"
    OPEN = "open"
    CLOSED = "closed"


class InvalidState(Exception):
    """An operation was attempted in a state that does not allow it."""

    def __init__(self, state: State, wanted: str) -> None:
        super().__init__(f"cannot {wanted} in state {state.value}")
        self.state = state


_envelope_decoder = msgspec.json.Decoder(Envelope)
_hello_decoder = msgspec.json.Decoder(HelloData)
_encoder = msgspec.json.Encoder()


class Subscription(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    topics: list[str]
    resume: dict[str, Position] = {}


_sub_decoder = msgspec.json.Decoder(Subscription)


def encode(message: Any) -> bytes:
    return _encoder.encode(message)


def ack(request_id: RequestId, data: Any = None) -> bytes:
    return _encoder.encode({"type": "ack", "id": request_id, "d": data if data is not None else {}})


def error(request_id: RequestId, code: str, message: str, **extra: Any) -> bytes:
    return _encoder.encode({"type": "error", "id": request_id, "code": code, "message": message, **extra})


def frame(messages: list[bytes]) -> str:
    """Join pre-encoded messages into one text frame: a JSON array."""
    return (b"[" + b",".join(messages) + b"]").decode()


class Cursor:
    """Where a client is on one topic; mutable so the fan-out hot path updates it in place."""

    __slots__ = ("epoch", "seq")

    def __init__(self, seq: int, epoch: str) -> None:
        self.seq = seq
        self.epoch = epoch


class Admit(enum.Enum):
    DELIVER = "deliver"
    DUPLICATE = "duplicate"
    GAP = "gap"


class Protocol:
    """One connection's protocol state: parses client frames and tracks topic positions."""

    def __init__(self, max_errors: int = MAX_ERRORS) -> None:
        self.state = State.AWAITING_HELLO
        self.errors = 0
        self.max_errors = max_errors
        self.positions: dict[str, Cursor] = {}

    def receive(self, data: str | bytes) -> Event:
        """Parse one client frame into the event the endpoint must act on."""
        if self.state is State.CLOSED:
            raise InvalidState(self.state, "receive")
        raw = data.encode() if isinstance(data, str) else data
        if len(raw) > MAX_FRAME:
            return self._close(1009, "frame too big (limit 65536 bytes)")
        try:
            envelope = _envelope_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            return self._reject(None, "invalid_envelope", f"frame is not a valid envelope: {exc}")
        except msgspec.DecodeError as exc:
            return self._reject(None, "malformed_json", f"frame is not JSON: {exc}")
        if envelope.op == "hello":
            if self.state is State.OPEN:
                return self._reject(envelope.id, "already_joined", "hello was already accepted on this connection")
            try:
                hello = _hello_decoder.decode(envelope.d)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                return self._close(4501, f"bad hello: {exc}")
            if hello.v != VERSION:
                return self._close(4505, f"protocol version {hello.v} unsupported; this server speaks {VERSION}")
            return Hello(envelope.id, hello)
        if self.state is State.AWAITING_HELLO:
            return self._reject(envelope.id, "hello_required", "send hello first")
        if envelope.op == "ping":
            return Ping(envelope.id)
        if envelope.op == "subscribe":
            try:
                sub = _sub_decoder.decode(envelope.d)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                return self._reject(envelope.id, "invalid_request", f"subscribe: {exc}")
            return Subscribe(envelope.id, sub.topics, sub.resume)
        return Request(envelope.id, envelope.op, envelope.d)

    def joined(self) -> None:
        if self.state is not State.AWAITING_HELLO:
            raise InvalidState(self.state, "join")
        self.state = State.OPEN

    def closed(self) -> None:
        self.state = State.CLOSED

    def invalid(self, request_id: RequestId, code: str, message: str, **extra: Any) -> Event:
        """Count a client mistake found past parsing (unknown op, bad fields) and reject it."""
        return self._reject(request_id, code, message, **extra)

    def admit(self, topic: str, seq: int, epoch: str) -> Admit:
        """Decide what to do with a push: deliver it, drop a duplicate, or report a gap to repair."""
        last = self.positions.get(topic)
        if last is not None and last.epoch == "" and last.seq == 0 and seq == 1:
            last = None  # the topic's first ever push: its epoch is born with it
        if last is not None and last.epoch == epoch:
            if seq <= last.seq:
                return Admit.DUPLICATE
            if seq > last.seq + 1:
                return Admit.GAP
        elif last is not None:
            return Admit.GAP
        self.positions[topic] = Cursor(seq, epoch)
        return Admit.DELIVER

    def at(self, topic: str, seq: int, epoch: str) -> None:
        """Record that the client now holds ``topic`` up to ``seq`` (after a snapshot or replay)."""
        self.positions[topic] = Cursor(seq, epoch)

    def _reject(self, request_id: RequestId, code: str, message: str, **extra: Any) -> Event:
        self.errors += 1
        if self.errors > self.max_errors:
            return self._close(1008, "too many protocol errors")
        return Reject(error(request_id, code, message, **extra))

    def _close(self, code: int, reason: str) -> Fail:
        self.state = State.CLOSED
        return Fail(code, reason[:120])


def describe(event: Event) -> str:
    """A short label for logs and metrics; exhaustive over :data:`Event`."""
    match event:
        case Hello():
            return "hello"
        case Ping():
            return "ping"
        case Subscribe():
            return "subscribe"
        case Request(op=op):
            return op
        case Reject():
            return "reject"
        case Fail():
            return "fail"
        case _:
            assert_never(event)


Kind = Literal["push", "snapshot", "direct", "ack", "error", "welcome", "pong"]
