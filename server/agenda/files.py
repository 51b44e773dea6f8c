"""Event files (YAML): loading, and checks that name the file, the line and the field.

``check`` reports every problem it can find, not just the first: unknown keys, missing fields,
wrong types, duplicate ids, bad durations or times, overlapping segments, missing media.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import yaml

from server.agenda.model import Event, EventFile, EventInfo, Kind, Segment

Marks = dict[tuple[Any, ...], int]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class AgendaError(Exception):
    """An event file is not valid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _build(node: yaml.Node, path: tuple[Any, ...], marks: Marks) -> Any:
    marks[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) \
                else key_node.value
            marks[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, (*path, key), marks)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), marks) for i, item in enumerate(node.value)]
    # scalars: let PyYAML's safe resolver type them (dates, ints, bools)
    return yaml.safe_load(yaml.serialize(node))


def _line(marks: Marks, path: tuple[Any, ...]) -> int:
    while path and path not in marks:
        path = path[:-1]
    return marks.get(path, 1)


def _msgspec_path(message: str) -> tuple[tuple[Any, ...], str]:
    """Turn msgspec's ``... - at `$.segments[3].duration``` into a path and the field's name.

    For an unknown or missing key msgspec points at the enclosing object; the key's own name
    is added so the report says ``segments[1].colour`` at the line of ``colour:``.
    """
    match = re.search(r"at `\$(.*)`", message)
    parts: list[Any] = []
    if match:
        for name, index in re.findall(r"\.([A-Za-z_][\w]*)|\[(\d+)\]", match.group(1)):
            parts.append(int(index) if index else name)
    key = re.search(r"(?:unknown|missing required) field `([^`]+)`", message)
    if key:
        parts.append(key.group(1))
    if not parts:
        return (), ""
    field = ".".join(str(p) for p in parts)
    return tuple(parts), field


def parse(path: Path) -> tuple[EventFile | None, list[str]]:
    """Parse and validate one file; return the event (if valid) and its problems."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [f"{where}:1: cannot read: {exc.strerror}"]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        return None, [f"{where}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]
    if root is None:
        return None, [f"{where}:1: the file is empty"]
    marks: Marks = {}
    data = _build(root, (), marks)
    problems: list[str] = []

    def problem(path_: tuple[Any, ...], field: str, message: str) -> None:
        problems.append(f"{where}:{_line(marks, path_)}: {field or 'file'}: {message}")

    if not isinstance(data, dict):
        return None, [f"{where}:1: file: expected a mapping with 'event' and 'segments'"]
    for key in data:
        if key not in ("event", "segments"):
            problem((key,), str(key), "unknown key (expected event, segments)")
    info: EventInfo | None = None
    try:
        info = msgspec.convert(data.get("event"), EventInfo)
    except msgspec.ValidationError as exc:
        sub, field = _msgspec_path(str(exc))
        problem(("event", *sub), f"event.{field}" if field else "event", str(exc).split(" - at ")[0])
    if info is not None:
        if not _ID.match(info.id):
            problem(("event", "id"), "event.id", "must be lowercase letters, digits and dashes")
        try:
            ZoneInfo(info.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problem(("event", "timezone"), "event.timezone", f"unknown time zone {info.timezone!r}")
            info = None
    raw_segments = data.get("segments")
    segments: list[Segment] = []
    if not isinstance(raw_segments, list) or not raw_segments:
        problem(("segments",), "segments", "missing: an event needs at least one segment")
        raw_segments = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_segments):
        base = ("segments", i)
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str):
            # checked before validation so a duplicate is named even when either copy has other faults
            if raw_id in seen:
                first = f"segments[{seen[raw_id]}]"
                problem((*base, "id"), f"segments[{i}].id", f"duplicate id {raw_id!r} (first at {first})")
            seen.setdefault(raw_id, i)
        try:
            segment = msgspec.convert(raw, Segment)
        except msgspec.ValidationError as exc:
            sub, field = _msgspec_path(str(exc))
            problem((*base, *sub), f"segments[{i}].{field}" if field else f"segments[{i}]",
                    str(exc).split(" - at ")[0])
            continue
        label = f"segments[{i}]"
        if not _ID.match(segment.id):
            problem((*base, "id"), f"{label}.id", "must be lowercase letters, digits and dashes")
        if not _TIME.match(segment.start):
            problem((*base, "start"), f"{label}.start", f"{segment.start!r} is not a time like 14:05")
            continue
        if not 1 <= segment.duration <= 24 * 60:
            problem((*base, "duration"), f"{label}.duration", f"{segment.duration} is not 1-1440 minutes")
            continue
        if segment.kind is Kind.VIDEO_MESSAGE:
            if not segment.media:
                problem(base, f"{label}.media", "missing: a video_message needs the clip it plays")
            elif not (path.parent / segment.media).is_file() and not _generated(path.parent, segment.media):
                problem((*base, "media"), f"{label}.media", f"file {segment.media!r} does not exist")
        segments.append(segment)
    if info is not None and len(segments) == len(raw_segments) and segments:
        event = Event(info, segments, str(path))
        for i in range(1, len(segments)):
            prev, cur = segments[i - 1], segments[i]
            if event.planned_start(cur) < event.planned_end(prev):
                problem(("segments", i, "start"), f"segments[{i}].start",
                        f"{cur.start} overlaps {prev.id!r}, which runs until "
                        f"{event.planned_end(prev).strftime('%H:%M')}")
    if problems or info is None:
        return None, problems
    return EventFile(info, segments), problems


def _generated(folder: Path, media: str) -> bool:
    """Clips under ``clips/`` are generated at start-up (server.media.clips); they need not exist yet."""
    return media.startswith("clips/") and media.endswith(".mp4")


def check(paths: list[Path]) -> list[str]:
    problems: list[str] = []
    ids: dict[str, Path] = {}
    for path in paths:
        parsed, found = parse(path)
        problems.extend(found)
        if parsed is not None:
            if parsed.event.id in ids:
                other = ids[parsed.event.id]
                problems.append(f"{path}:1: event.id: {parsed.event.id!r} is also the id of {other}")
            ids[parsed.event.id] = path
    return problems


def load_events(folder: Path) -> dict[str, Event]:
    """Load every ``*.yaml`` in ``folder``; raise :class:`AgendaError` listing every problem."""
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise AgendaError([f"{folder}: no event files (*.yaml)"])
    problems = check(paths)
    if problems:
        raise AgendaError(problems)
    events: dict[str, Event] = {}
    for path in paths:
        parsed, _ = parse(path)
        assert parsed is not None
        events[parsed.event.id] = Event(parsed.event, parsed.segments, str(path))
    return events


def today(event: Event) -> dt.date:
    return dt.datetime.now(event.tz).date()
