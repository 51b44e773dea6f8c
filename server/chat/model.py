"""Every chat, Q&A, reaction and moderation payload, declared once.

Op payloads forbid unknown fields, so a typo in a client gets ``invalid_request`` naming the field
instead of being silently ignored. Text arrives raw (bounded only to keep frames small) and is
cleaned and length-checked by :mod:`server.chat.limits`, which gives a clearer error than a schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Room = Literal["main", "backstage"]
ROOMS: tuple[str, ...] = ("main", "backstage")
ClientId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
StreamId = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,20}-[0-9]{1,20}$")]
QuestionId = Annotated[str, msgspec.Meta(pattern=r"^q[0-9]{1,12}$")]
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
RawText = Annotated[str, msgspec.Meta(max_length=8000)]
Reason = Annotated[str, msgspec.Meta(max_length=300)]

# The fixed reaction set: a closed list keeps the aggregate small and the screen readable.
EMOJI: tuple[str, ...] = ("👏", "❤️", "👍", "😂", "😮", "🎉")


class Message(msgspec.Struct, frozen=True):
    """A chat line as stored (``id`` empty: the stream assigns it) and as sent to clients."""

    room: str
    kind: Literal["message", "announcement"]
    user: str
    name: str
    role: str
    at: int  # unix milliseconds
    text: str
    cid: str = ""
    segment: str | None = None
    id: str = ""


class Question(msgspec.Struct, frozen=True):
    """A question as stored. Readers get :func:`server.chat.qa.view`, which hides anonymous authors."""

    id: str
    text: str
    author: str
    name: str
    role: str
    anonymous: bool
    at: int
    status: Literal["pending", "open", "answered", "rejected"]
    segment: str | None = None
    votes: int = 0


class LogEntry(msgspec.Struct, frozen=True):
    """One moderation action: who did what to whom, when."""

    at: int
    by: str
    by_name: str
    action: str
    target: str = ""
    target_name: str = ""
    detail: str = ""
    id: str = ""


# --- op payloads ------------------------------------------------------------------------------

class SendChat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: RawText
    cid: ClientId
    room: Room = "main"


class DeleteChat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: StreamId
    room: Room = "main"


class PinChat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: StreamId | None = None  # None unpins
    room: Room = "main"


class Announce(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: RawText
    room: Room = "main"


class SlowMode(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)]
    room: Room = "main"


class Mute(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    user: UserId
    minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 10
    name: Reason = ""
    reason: Reason = ""


class Ban(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    user: UserId
    name: Reason = ""
    reason: Reason = ""


class Unban(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    user: UserId


class Ask(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: RawText
    cid: ClientId
    anonymous: bool = False


class Upvote(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: QuestionId


class Approve(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: QuestionId
    approve: bool = True  # False rejects: the question stays hidden


class MarkAnswered(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: QuestionId
    answered: bool = True


class Highlight(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: QuestionId | None = None  # None clears the screen


class QaSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    review: bool


class React(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    emoji: Annotated[str, msgspec.Meta(max_length=16)]
