"""Every close code Plenary sends, with its meaning and whether the client should reconnect.

Like Centrifuge's disconnect codes, the application range is split: 4000-4499 means "reconnect
(with backoff)", 4500-4999 means "do not reconnect without a user action". Standard codes keep
their RFC 6455 meaning. Reasons stay under the 123-byte limit of a close frame.
"""

from __future__ import annotations

import enum


class Close(enum.IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008  # repeated protocol abuse
    MESSAGE_TOO_BIG = 1009  # a frame over 64 KiB
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012  # node draining: reconnect, the load balancer sends you elsewhere
    TRY_AGAIN_LATER = 1013  # slow consumer: the outgoing buffer filled
    HELLO_TIMEOUT = 4000  # no hello within the handshake window
    BACKEND_UNAVAILABLE = 4001  # Redis unreachable while joining
    ROLE_CHANGED = 4002  # an organizer changed this user's role: reconnect to get it
    UNAUTHORIZED = 4501  # token missing, forged or expired: get a new link
    FORBIDDEN = 4503  # token for another event
    BANNED = 4504
    UNSUPPORTED_VERSION = 4505
    UNKNOWN_EVENT = 4506

REASONS: dict[int, str] = {
    1000: "bye",
    1001: "going away",
    1008: "too many protocol errors",
    1009: "frame too big (limit 65536 bytes)",
    1011: "internal error",
    1012: "node restarting; reconnect",
    1013: "slow consumer: outgoing buffer full",
    4000: "no hello in time",
    4001: "backend unavailable; reconnect",
    4002: "your role changed; reconnecting",
    4501: "unauthorized",
    4503: "forbidden",
    4504: "banned from this event",
    4505: "unsupported protocol version",
    4506: "unknown event",
}


def should_reconnect(code: int) -> bool:
    """What the browser client does after a close: reconnect with backoff, or stop and say why."""
    if 4500 <= code <= 4999:
        return False
    return code not in (1000, 1008, 1009)


def reason(code: int, detail: str | None = None) -> str:
    text = detail or REASONS.get(code, "")
    encoded = text.encode()
    if len(encoded) <= 123:
        return text
    return encoded[:120].decode(errors="ignore") + "..."
