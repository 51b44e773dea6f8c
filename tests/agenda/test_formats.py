"""schedule.json (frab/pretalx), schedule.ics (RFC 5545), and `plenary agenda import` round trips."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import icalendar
import msgspec
import pytest
import yaml

from server.agenda.files import load_events, parse
from server.agenda.formats import import_frab, schedule_ics, schedule_json
from server.agenda.model import Event
from tests.support.servers import EVENT, ROOT, Node

REFERENCE = ROOT / "agenda" / "zgc-sco-2021.yaml"


def reference() -> Event:
    return load_events(REFERENCE.parent)[EVENT]


def test_schedule_json_has_the_frab_required_fields(node: Node) -> None:
    r = node.get(f"/api/events/{EVENT}/schedule.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["$schema"] == "https://c3voc.de/schedule/schema.json"
    assert {"name", "version", "url"} <= doc["generator"].keys()
    schedule = doc["schedule"]
    assert isinstance(schedule["version"], str) and schedule["version"]
    conf = schedule["conference"]
    for key in ("acronym", "title", "start", "end", "daysCount", "timeslot_duration", "days", "rooms"):
        assert key in conf, key
    assert re.fullmatch(r"[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?", conf["acronym"])
    assert conf["time_zone_name"] == "Asia/Shanghai" and conf["daysCount"] == len(conf["days"]) == 1
    room_names = {room["name"] for room in conf["rooms"]}
    talks = []
    for day in conf["days"]:
        assert {"index", "date", "day_start", "day_end", "rooms"} <= day.keys()
        for room, events in day["rooms"].items():
            assert room in room_names
            for talk in events:
                assert talk["room"] == room
                talks.append(talk)
    required = {"guid", "id", "date", "start", "duration", "room", "slug", "url", "title", "subtitle",
                "track", "type", "language", "abstract", "persons", "links"}
    for talk in talks:
        assert required <= talk.keys(), required - talk.keys()
        uuid.UUID(talk["guid"])
        assert re.fullmatch(r"[0-9]+:[0-9]{2}", talk["duration"])
        assert re.fullmatch(r"[a-z0-9_-]+[a-z0-9]", talk["slug"])
        assert re.search(r"[+-]\d{2}:\d{2}$", talk["date"]), "date carries its UTC offset"
        assert all(p["name"] for p in talk["persons"])
    assert len(talks) == len(reference().segments)
    assert talks[0]["date"] == "2021-09-26T14:00:00+08:00" and talks[0]["duration"] == "00:08"
    again = node.get(f"/api/events/{EVENT}/schedule.json").json()
    assert [t["guid"] for t in again["schedule"]["conference"]["days"][0]["rooms"][talks[0]["room"]]] == \
        [t["guid"] for t in talks], "guids are stable across exports"
    assert node.get(f"/api/events/{EVENT}/schedule.json",
                    headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_a_revised_agenda_bumps_the_version_and_keeps_guids() -> None:
    event = reference()
    moved = msgspec.structs.replace(event.segments[-1], start="16:50")
    revised = Event(event.info, [*event.segments[:-1], moved])
    before, after = schedule_json(event), schedule_json(revised)
    assert before["schedule"]["version"] != after["schedule"]["version"]
    b = next(iter(before["schedule"]["conference"]["days"][0]["rooms"].values()))[-1]
    a = next(iter(after["schedule"]["conference"]["days"][0]["rooms"].values()))[-1]
    assert a["guid"] == b["guid"] and a["date"] != b["date"]


def test_schedule_ics_parses_and_follows_rfc5545(node: Node) -> None:
    r = node.get(f"/api/events/{EVENT}/schedule.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    raw = r.content
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), "every line ends with CRLF"
    assert all(len(line) <= 75 for line in lines), "lines are folded at 75 octets"
    assert any(line.startswith(b" ") for line in lines), "long lines were folded"
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//plenary//")
    events = cal.walk("VEVENT")
    assert len(events) == len(reference().segments)
    tzids = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    for ev in events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert prop in ev, prop
        assert ev["DTSTART"].params["TZID"] in tzids
    first = events[0]
    assert first.decoded("DTSTART").isoformat() == "2021-09-26T14:00:00+08:00"
    assert (first.decoded("DTEND") - first.decoded("DTSTART")).total_seconds() == 8 * 60
    assert "Cui Shuqiang" in str(first["SUMMARY"])
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    again = icalendar.Calendar.from_ical(node.get(f"/api/events/{EVENT}/schedule.ics").content)
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == uids, "UIDs are stable across exports"


def test_ics_text_with_special_characters_round_trips() -> None:
    event = reference()
    title = 'Q&A; "open", back\\slash\nand a second line'
    odd = msgspec.structs.replace(event.segments[0], title=title, people=[])
    cal = icalendar.Calendar.from_ical(schedule_ics(Event(event.info, [odd])))
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]) == title


def _plain(event: Event) -> list[tuple[str, str, int, list[str]]]:
    return [(s.title, s.start, s.duration, [p.name for p in s.people]) for s in event.segments]


def test_import_round_trip_keeps_titles_times_durations_and_people(node: Node, tmp_path: Path) -> None:
    source = tmp_path / "schedule.json"
    source.write_text(node.get(f"/api/events/{EVENT}/schedule.json").text)
    out = tmp_path / "imported.yaml"
    command = [sys.executable, "-m", "server", "agenda", "import", str(source), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    parsed, problems = parse(out)
    assert problems == [] and parsed is not None
    original = reference()
    assert parsed.segments == original.segments, "the sidecar keeps kinds, ids, parts and media too"
    assert parsed.event == original.info


def test_import_of_a_plain_frab_file_keeps_the_essentials(tmp_path: Path) -> None:
    doc = schedule_json(reference())
    del doc["schedule"]["conference"]["meta"]  # a file from pretalx has no sidecar
    path = tmp_path / "plain.yaml"
    path.write_text(import_frab(json.dumps(doc)))
    _, problems = parse(path)
    assert problems == [] or all("media" in p for p in problems), problems
    data = yaml.safe_load(path.read_text())
    got = [(s["title"], s["start"], s["duration"], [p["name"] for p in s.get("people", [])])
           for s in data["segments"]]
    assert got == _plain(reference())


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "not valid JSON"), ('{"x": 1}', "no 'schedule'"),
     ('{"schedule": {"conference": {"days": []}}}', "no events")],
)
def test_import_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        import_frab(text)


def test_import_refuses_a_schedule_over_several_days() -> None:
    doc = schedule_json(reference())
    talks = next(iter(doc["schedule"]["conference"]["days"][0]["rooms"].values()))
    talks[-1]["date"] = "2021-09-27T14:00:00+08:00"
    with pytest.raises(ValueError, match="spans 2 days"):
        import_frab(json.dumps(doc))
