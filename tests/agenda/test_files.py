"""`plenary agenda check` names the file, the line and the field of every problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.servers import ROOT

HEAD = """event:
  id: bad-event
  title: A test event
  venue: Hall A
  timezone: Europe/Berlin
  date: 2025-06-12
segments:
"""
GOOD = """  - id: opening
    kind: opening
    title: Opening
    start: "14:00"
    duration: 10
"""


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "agenda", "check", *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "event.yaml"
    path.write_text(HEAD + GOOD + body)
    return path


def line_of(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} is not in {path}")


def test_the_reference_event_passes() -> None:
    done = check(ROOT / "agenda" / "zgc-sco-2021.yaml")
    assert done.returncode == 0 and "OK" in done.stdout


def test_each_problem_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, """  - id: talk
    kind: speech
    title: A talk
    start: "14:10"
    duration: 15
    colour: red
  - id: talk
    kind: speech
    title: The same id again
    start: "14:25"
    duration: 10
  - id: no-title
    kind: speech
    start: "14:35"
    duration: 5
  - id: forever
    kind: speech
    title: Too long
    start: "14:40"
    duration: 9999
  - id: clip
    kind: video_message
    title: A message
    start: "14:45"
    duration: 5
    media: media/missing.mp4
""")
    done = check(path)
    assert done.returncode == 1
    out = done.stdout.splitlines()
    expected = [
        (line_of(path, "colour: red"), "colour", "unknown"),
        (line_of(path, "title: The same id again") - 2, "segments[2].id", "duplicate id 'talk'"),
        (line_of(path, "id: no-title"), "title", "missing"),
        (line_of(path, "duration: 9999"), "segments[4].duration", "9999"),
        (line_of(path, "media: media/missing.mp4"), "segments[5].media", "does not exist"),
    ]
    for line, field, words in expected:
        hits = [o for o in out
                if o.startswith(f"{path}:{line}: ") and field in o and words.lower() in o.lower()]
        assert hits, f"no '{path}:{line}: …{field}…{words}' in:\n" + "\n".join(out)


def test_overlapping_segments_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, """  - id: early
    kind: speech
    title: Starts before the opening ends
    start: "14:05"
    duration: 10
""")
    done = check(path)
    line = line_of(path, '"14:05"')
    assert done.returncode == 1
    assert f"{path}:{line}: segments[1].start: 14:05 overlaps 'opening'" in done.stdout


def test_a_missing_event_field_is_named(tmp_path: Path) -> None:
    path = tmp_path / "event.yaml"
    path.write_text(HEAD.replace("  venue: Hall A\n", "") + GOOD)
    done = check(path)
    assert done.returncode == 1 and f"{path}:" in done.stdout and "venue" in done.stdout
