"""Ground truth: what the actors actually did, reduced to the figures the system must report.

Built only from the actors' own records (each connection's join and leave time, each acknowledged
chat line and question, each badge scan and its answer, each moderator click), never from the
system's figures. Segment bounds are the moderator's clicks; because actors stay out of the guard
windows around clicks (see ``bench.rehearsal.plan``), the system's own bounds (its ticker marks)
contain the same people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SegmentTruth:
    id: str
    start: float  # the click entering it (unix s)
    end: float    # the click leaving it
    viewers: set[str] = field(default_factory=set)
    in_person: set[str] = field(default_factory=set)
    chat: int = 0
    questions: int = 0


@dataclass
class Truth:
    online_now: int
    unique_online: int
    reached: int
    peak_online: int
    in_person_now: int
    peak_in_person: int
    checked_in_total: int
    segments: list[SegmentTruth]
    clicks: list[dict[str, Any]]
    agenda_reach: dict[int, int]  # version -> clients online through its click (all must see it)
    scan_answers: list[str]       # scans the system answered otherwise than a correct system would
    chat_total: int
    questions_total: int


def _intervals(crowds: list[dict[str, Any]]) -> dict[str, list[tuple[float, float | None]]]:
    found: dict[str, list[tuple[float, float | None]]] = {}
    for crowd in crowds:
        for uid, spans in crowd["intervals"].items():
            found.setdefault(uid, []).extend((float(a), None if b is None else float(b)) for a, b in spans)
    return found


def _peak(spans: dict[str, list[tuple[float, float | None]]]) -> int:
    moves: list[tuple[float, int]] = []
    for user_spans in spans.values():
        for a, b in user_spans:
            moves.append((a, 1))
            if b is not None:
                moves.append((b, -1))
    # at one instant a leave goes first: the system never counts both
    moves.sort(key=lambda m: (m[0], m[1]))
    now = best = 0
    for _, step in moves:
        now += step
        best = max(best, now)
    return best


def build(segment_ids: list[str], crowds: list[dict[str, Any]], clicks: list[dict[str, Any]],
          scans: list[dict[str, Any]]) -> Truth:
    spans = _intervals(crowds)
    ok = [c for c in clicks if c["status"] == 200]
    entered = [c for c in ok if c["action"] in ("start", "next")]
    segments: list[SegmentTruth] = []
    for click in entered:
        leaving = ok[ok.index(click) + 1] if ok.index(click) + 1 < len(ok) else None
        end = leaving["click_ns"] / 1e9 if leaving else float("inf")
        # the segment the server says the click entered (a refused click enters none)
        if click["segment"] in segment_ids:
            segments.append(SegmentTruth(click["segment"], click["click_ns"] / 1e9, end))
    for uid, user_spans in spans.items():
        for seg in segments:
            if any(a < seg.end and (b is None or b > seg.start) for a, b in user_spans):
                seg.viewers.add(uid)
    for crowd in crowds:
        for kind in ("chat", "questions"):
            for seg_id, n in crowd["counts"][kind].items():
                for seg in segments:
                    if seg.id == seg_id:
                        setattr(seg, kind, getattr(seg, kind) + n)
    reach: dict[int, int] = {}
    for click in ok:
        t0, t1 = click["click_ns"] / 1e9, click["ack_ns"] / 1e9 + 1.0
        reach[int(click["version"])] = sum(
            1 for user_spans in spans.values()
            if any(a <= t0 and (b is None or b >= t1) for a, b in user_spans))
    hall, ever, peak_hall, wrong = _doors(scans, segments)
    online_ever = {uid for uid, user_spans in spans.items() if user_spans}
    return Truth(
        online_now=sum(1 for user_spans in spans.values() if user_spans and user_spans[-1][1] is None),
        unique_online=len(online_ever),
        reached=len(online_ever | ever),
        peak_online=_peak(spans),
        in_person_now=len(hall),
        peak_in_person=peak_hall,
        checked_in_total=len(ever),
        segments=segments,
        clicks=clicks,
        agenda_reach=reach,
        scan_answers=wrong,
        chat_total=sum(s.chat for s in segments),
        questions_total=sum(s.questions for s in segments),
    )


def _doors(scans: list[dict[str, Any]], segments: list[SegmentTruth]
           ) -> tuple[set[str], set[str], int, list[str]]:
    """Replay the scans in the order they were answered: who is in, who ever came, the peak."""
    hall: set[str] = set()
    ever: set[str] = set()
    peak = 0
    wrong: list[str] = []
    started = {seg.id: False for seg in segments}
    for scan in sorted(scans, key=lambda s: s["t"]):
        for seg in segments:
            # the hall as it was when the segment began counts for it (scans never straddle a click)
            if not started[seg.id] and seg.start <= scan["t"]:
                seg.in_person |= hall
                started[seg.id] = True
        expect, pid, direction = scan["expect"], scan["id"], scan["dir"]
        if expect == "invalid_badge":
            if scan["http"] != 422 or scan["got"] != "invalid_badge":
                wrong.append(f"forged badge {pid} at gate {scan['gate']}: got {scan['http']} {scan['got']}")
            continue
        if scan["got"] != expect:
            wrong.append(f"badge {pid} {direction} at gate {scan['gate']}: expected {expect}, got "
                         f"{scan['http']} {scan['got']}")
        if scan["http"] not in (200, 201):
            continue
        if direction == "in":
            hall.add(pid)
            ever.add(pid)
            for seg in segments:
                if seg.start <= scan["t"] < seg.end:
                    seg.in_person.add(pid)
        else:
            hall.discard(pid)
        peak = max(peak, len(hall))
    for seg in segments:
        if not started[seg.id]:
            seg.in_person |= hall
    return hall, ever, peak, wrong
