"""The rehearsal's script: the compressed agenda clock, the quiet windows, and who does what when.

Everything here is decided before anyone connects, from the arguments and a seed, so a run can be
replayed. Times are seconds after ``T0``, the moment the moderator clicks "start".

Why quiet windows: the system attributes a join, a chat line, a question or a badge scan to the
segment its node *believes* is on. The attendance ticker records a segment change at the next
whole second (one node claims the tick), other nodes learn it on their own next tick, and chat
caches the live segment for a second. So for about two seconds after each transition the system's
idea of "now" legitimately lags the agenda, and just before a transition a request still in flight
may land on either side. Actors therefore act only inside each segment's quiet window
``[start + GUARD_AFTER, end - GUARD_BEFORE]``; outside it nobody joins, leaves, chats, asks or
scans, which makes every per-segment figure exactly checkable from outside.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT

EVENT_FILE = ROOT / "agenda" / "zgc-sco-2021.yaml"
# defaults for a loaded machine: the ticker records a change within ~1 s and other nodes learn it
# ~1 s later when their loops are idle, but at 2,000 attendees on two busy cores a node's cached
# segment was seen lagging the click by more than 2.6 s; and a chat ack took up to 1.6 s
GUARD_AFTER = 0.5
GUARD_BEFORE = 0.5
MIN_WINDOW = 0.8    # a shorter quiet stretch is left empty
MIN_SEGMENT = 2.0   # the 1 s ticker must see every segment at least once, with room for a late tick
EMOJI = ("👏", "❤️", "👍", "😂", "😮", "🎉")


@dataclass(frozen=True)
class Seg:
    id: str
    kind: str
    minutes: int
    seconds: float
    start: float  # offset of the click that enters it
    speaker: str = ""  # who is on stage: the speaker, or the panel's moderator ("" for none)
    speaker_name: str = ""


@dataclass(frozen=True)
class Window:
    index: int
    segment: str
    start: float
    end: float

    def at(self, fraction: float) -> float:
        return self.start + (self.end - self.start) * fraction


@dataclass
class Plan:
    segments: list[Seg]
    windows: list[Window]
    end: float  # offset of the "end" click
    guard_before: float = GUARD_BEFORE
    attendees: dict[str, list[list[Any]]] = field(default_factory=dict)  # user -> [[t, action, arg...]]
    storm: list[str] = field(default_factory=list)
    scans_a: list[list[Any]] = field(default_factory=list)   # before the start: [gate, id, dir, expect]
    scans: list[list[Any]] = field(default_factory=list)     # in windows: [t, gate, id, dir, expect, seg]
    in_person: list[str] = field(default_factory=list)


def load_segments(path: Path = EVENT_FILE) -> list[tuple[str, str, int, str, str]]:
    from server.agenda.files import parse

    parsed, problems = parse(path)
    if parsed is None:
        raise RuntimeError(f"cannot read {path}: {problems}")
    out = []
    for s in parsed.segments:
        person = next((p for p in s.people if str(p.part) in ("speaker", "moderator", "host")), None)
        pid = str(getattr(person, "id", "") or "") if person else ""
        out.append((s.id, str(s.kind), s.duration, pid, person.name if person else ""))
    return out


def clock(minute_seconds: float, guard_after: float = GUARD_AFTER, guard_before: float = GUARD_BEFORE
          ) -> tuple[list[Seg], list[Window], float]:
    segs: list[Seg] = []
    windows: list[Window] = []
    t = 0.0
    for seg_id, kind, minutes, speaker, name in load_segments():
        seconds = max(minutes * minute_seconds, MIN_SEGMENT)
        segs.append(Seg(seg_id, kind, minutes, seconds, t, speaker, name))
        lo, hi = t + guard_after, t + seconds - guard_before
        if hi - lo >= MIN_WINDOW:
            windows.append(Window(len(windows), seg_id, lo, hi))
        t += seconds
    return segs, windows, t


def user(i: int) -> str:
    return f"a-{i}"


def make(attendees: int, minute_seconds: float, in_person: int, seed: int = 8,
         guards: tuple[float, float] = (GUARD_AFTER, GUARD_BEFORE)) -> Plan:
    """Assign every attendee and every badge its actions (see the module docstring for why)."""
    rnd = random.Random(seed)
    segs, windows, end = clock(minute_seconds, *guards)
    plan = Plan(segs, windows, end, guards[1])
    ids = [user(i) for i in range(attendees)]
    late = attendees // 20 if windows else 0
    plan.storm = ids[:attendees - late]
    for uid in ids:
        plan.attendees[uid] = []
    stable = plan.storm[:]
    rnd.shuffle(stable)
    # leavers leave early in a window and late joiners join late in it: online never tops the storm
    leavers = [stable.pop() for _ in range(late)]
    droppers = [stable.pop() for _ in range(attendees // 20 if windows else 0)]
    for n, uid in enumerate(leavers):
        w = windows[n % len(windows)]
        plan.attendees[uid].append([w.at(rnd.uniform(0.02, 0.3)), "leave"])
        plan.attendees[ids[attendees - late + n]].append([w.at(rnd.uniform(0.6, 0.95)), "join"])
    for n, uid in enumerate(droppers):
        w = windows[n % len(windows)]
        t = w.at(rnd.uniform(0.3, 0.45))
        plan.attendees[uid].append([t, "drop", min(t + rnd.uniform(0.1, 0.3), w.at(0.55))])
    senders = stable[:max(4, attendees // 50)]
    askers = stable[len(senders):len(senders) + max(2, attendees // 100)]
    voters = stable[len(senders) + len(askers):][:max(4, attendees // 25)]
    reactors = stable[-max(4, attendees // 25):]
    for w in windows:
        for uid in senders:
            # each sender stays far under the per-user chat bucket (1/s, burst 5): one line per 2.5 s
            t = w.start + rnd.uniform(0, 2.5)
            while t < w.end:
                plan.attendees[uid].append([t, "chat", w.segment])
                t += 2.5
        for uid in askers:
            plan.attendees[uid].append([w.at(rnd.uniform(0, 0.5)), "ask", w.segment])
        for uid in voters:
            plan.attendees[uid].append([w.at(rnd.uniform(0.6, 1.0)), "upvote", w.segment])
        for uid in reactors:
            plan.attendees[uid].append([w.at(rnd.uniform(0, 1.0)), "react", rnd.choice(EMOJI)])
    for actions in plan.attendees.values():
        actions.sort(key=lambda a: a[0])
    _badges(plan, rnd, in_person)
    return plan


def _badges(plan: Plan, rnd: random.Random, count: int) -> None:
    """Half the people in the hall also watch online (same id, so "reached" counts them once)."""
    if count <= 0:
        return
    online = list(plan.storm)
    rnd.shuffle(online)
    people = online[:count // 2] + [f"p-{j}" for j in range(count - count // 2)]
    late = count // 20 if plan.windows else 0
    first, arrivals = people[:count - late], people[count - late:]
    plan.in_person = people
    for n, pid in enumerate(first):
        plan.scans_a.append(["A" if n % 2 == 0 else "B", pid, "in", "checked_in"])
    for n, pid in enumerate(rnd.sample(first, max(1, len(first) // 10))):
        plan.scans_a.append(["B" if n % 2 == 0 else "A", pid, "in", "already_checked_in"])
    for n in range(max(2, count // 100)):
        plan.scans_a.append(["A" if n % 2 else "B", f"p-forged-{n}", "in", "invalid_badge"])
    if not plan.windows:
        return
    exiters = rnd.sample(first, max(2, len(first) // 10))
    for n, pid in enumerate(exiters):
        w = plan.windows[n % len(plan.windows)]
        gate = "A" if n % 2 == 0 else "B"
        t = w.at(rnd.uniform(0.02, 0.3))
        plan.scans.append([t, gate, pid, "out", "checked_out", w.segment])
        if n % 4 == 1:
            plan.scans.append([t + 0.01, gate, pid, "out", "not_in_hall", w.segment])
        if n % 2 == 0:
            # back in later in the same window: fewer come back (plus arrivals) than went out
            plan.scans.append([w.at(rnd.uniform(0.6, 0.95)), gate, pid, "in", "already_checked_in", w.segment])
    # an arrival comes late in the window of an exiter who did not come back: in-hall never tops phase A
    gone = [n for n in range(len(exiters)) if n % 2 == 1]
    for pid, n in zip(arrivals, gone, strict=False):
        w = plan.windows[n % len(plan.windows)]
        plan.scans.append([w.at(rnd.uniform(0.6, 0.95)), "A" if n % 4 == 1 else "B", pid, "in", "checked_in",
                           w.segment])
    plan.scans.sort(key=lambda s: s[0])
