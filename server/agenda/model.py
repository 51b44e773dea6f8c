"""The agenda model: an event and its segments in order, as declared in an event file."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec


class Kind(enum.StrEnum):
    OPENING = "opening"
    SPEECH = "speech"
    VIDEO_MESSAGE = "video_message"
    ANNOUNCEMENT = "announcement"
    PANEL = "panel"
    CASE_STUDY = "case_study"
    QA = "qa"
    BREAK = "break"
    CLOSING = "closing"


class Part(enum.StrEnum):
    SPEAKER = "speaker"
    MODERATOR = "moderator"
    PANELIST = "panelist"
    HOST = "host"


class Person(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    part: Part = Part.SPEAKER
    title: str | None = None
    organisation: str | None = None
    country: str | None = None
    id: str | None = None  # the speaker id a WHIP token carries, when set

    @property
    def key(self) -> str:
        return self.id or _slug(self.name)


class Segment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    kind: Kind
    title: str
    start: str  # "HH:MM", venue time
    duration: int  # minutes
    people: list[Person] = []
    media: str | None = None  # a video_message's clip, relative to the agenda folder
    description: str | None = None


class EventInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    title: str
    date: dt.date
    timezone: str
    venue: str
    subtitle: str | None = None
    hosts: list[str] = []
    languages: list[str] = []
    url: str | None = None
    note: str | None = None


class EventFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    event: EventInfo
    segments: list[Segment]


class Event(msgspec.Struct, frozen=True):
    """A loaded event: its info, its segments, and where it came from."""

    info: EventInfo
    segments: list[Segment]
    path: str = ""

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.info.timezone)

    def planned_start(self, segment: Segment) -> dt.datetime:
        hour, minute = (int(x) for x in segment.start.split(":"))
        return dt.datetime.combine(self.info.date, dt.time(hour, minute), tzinfo=self.tz)

    def planned_end(self, segment: Segment) -> dt.datetime:
        return self.planned_start(segment) + dt.timedelta(minutes=segment.duration)

    @property
    def starts_at(self) -> dt.datetime:
        return self.planned_start(self.segments[0])

    @property
    def ends_at(self) -> dt.datetime:
        return self.planned_end(self.segments[-1])

    def index_of(self, segment_id: str) -> int | None:
        for i, segment in enumerate(self.segments):
            if segment.id == segment_id:
                return i
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.info.title,
            "subtitle": self.info.subtitle,
            "venue": self.info.venue,
            "date": self.info.date.isoformat(),
            "timezone": self.info.timezone,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "segments": len(self.segments),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **msgspec.to_builtins(self.info),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "segments": [
                {
                    **msgspec.to_builtins(s),
                    "planned_start": self.planned_start(s).isoformat(),
                    "planned_end": self.planned_end(s).isoformat(),
                }
                for s in self.segments
            ],
        }


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)
