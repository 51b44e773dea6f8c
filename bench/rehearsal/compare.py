"""Fetch what the system reports (as an organizer and a moderator would) and list every difference.

Sources: ``GET /attendance`` (JSON figures), ``GET /attendance.csv`` (questions and chat per
segment, as the organizer downloads them), ``GET /agenda/state`` (the actual timeline) and
``GET /agenda/log`` (every transition). Exact figures must be equal; times must fall inside the
moderator's click-to-ack span.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from bench.rehearsal.truth import Truth

SLACK_MS = 5  # the server stamps with its clock, the moderator with the same machine's: rounding only


def fetch(url: str, event: str, organizer: str, moderator: str) -> dict[str, Any]:
    org = {"Authorization": f"Bearer {organizer}"}
    mod = {"Authorization": f"Bearer {moderator}"}
    base = f"{url}/api/events/{event}"
    with httpx.Client(timeout=30) as http:
        figures = http.get(f"{base}/attendance", headers=org)
        report = http.get(f"{base}/attendance.csv", headers=org)
        state = http.get(f"{base}/agenda/state")
        log = http.get(f"{base}/agenda/log", headers=mod)
    for resp in (figures, report, state, log):
        resp.raise_for_status()
    return {"figures": figures.json(), "csv": list(csv.DictReader(io.StringIO(report.text))),
            "state": state.json(), "log": log.json()["entries"]}


def _eq(out: list[str], what: str, reported: Any, truth: Any) -> None:
    if reported != truth:
        out.append(f"{what}: system {reported}, truth {truth}")


def compare(truth: Truth, system: dict[str, Any], segment_ids: list[str]) -> list[str]:
    out: list[str] = []
    fig = system["figures"]
    for name in ("online_now", "unique_online", "reached", "peak_online", "checked_in_total",
                 "peak_in_person"):
        _eq(out, name, fig.get(name), getattr(truth, name))
    _eq(out, "in_person_now", fig.get("in_person_now"), truth.in_person_now)
    rows = {row["id"]: row for row in fig["segments"]}
    csv_rows = {row["segment"]: row for row in system["csv"]}
    by_id = {seg.id: seg for seg in truth.segments}
    _eq(out, "segments run", len(truth.segments), len(segment_ids))
    for seg_id in segment_ids:
        row, seg, line = rows.get(seg_id), by_id.get(seg_id), csv_rows.get(seg_id)
        if row is None or seg is None or line is None:
            out.append(f"{seg_id}: missing (system row {row is not None}, csv {line is not None}, "
                       f"run {seg is not None})")
            continue
        if row.get("started_at") is None or row.get("ended_at") is None:
            out.append(f"{seg_id}: attendance never recorded it live (started_at {row.get('started_at')}, "
                       f"ended_at {row.get('ended_at')})")
        _eq(out, f"{seg_id} unique_viewers", row["unique_viewers"], len(seg.viewers))
        _eq(out, f"{seg_id} in_person", row["in_person"], len(seg.in_person))
        _eq(out, f"{seg_id} questions (csv)", int(line["questions"] or 0), seg.questions)
        _eq(out, f"{seg_id} chat_messages (csv)", int(line["chat_messages"] or 0), seg.chat)
    out += _timeline(truth, system, segment_ids)
    out += truth.scan_answers
    return out


def _timeline(truth: Truth, system: dict[str, Any], segment_ids: list[str]) -> list[str]:
    out: list[str] = []
    ok = [c for c in truth.clicks if c["status"] == 200]
    log = system["log"]
    _eq(out, "agenda log actions", [e.get("action") for e in log], [c["action"] for c in ok])
    for entry, click in zip(log, ok, strict=False):
        lo, hi = click["click_ns"] // 1_000_000 - SLACK_MS, click["ack_ns"] // 1_000_000 + SLACK_MS
        if not lo <= int(entry["at"]) <= hi:
            out.append(f"agenda log {entry['action']} v{entry.get('version')} at {entry['at']} outside the "
                       f"click [{lo}, {hi}]")
    entered = [c for c in ok if c["action"] in ("start", "next")]
    moves = [e.get("to_segment") for e in log if e.get("action") in ("start", "next")]
    _eq(out, "agenda log segments entered", moves, [c["segment"] for c in entered])
    _eq(out, "segments entered, in order", [c["segment"] for c in entered], segment_ids)
    timeline = {row["id"]: row for row in system["state"].get("timeline", [])}
    _eq(out, "agenda status at the end", system["state"].get("status"), "ended")
    for click in entered:
        seg_id = str(click["segment"])
        row = timeline.get(seg_id, {})
        start = row.get("actual_start")
        if start is None or not _within(start, click):
            out.append(f"{seg_id} actual_start {start} is not its click")
        leaving = ok[ok.index(click) + 1] if ok.index(click) + 1 < len(ok) else None
        end = row.get("actual_end")
        if leaving is not None and (end is None or not _within(end, leaving)):
            out.append(f"{seg_id} actual_end {end} is not the next click")
    return out


def _within(ms: int, click: dict[str, Any]) -> bool:
    return bool(click["click_ns"] // 1_000_000 - SLACK_MS <= ms <= click["ack_ns"] // 1_000_000 + SLACK_MS)


def agenda_delivery(truth: Truth, crowds: list[dict[str, Any]]) -> tuple[list[float], list[str]]:
    """Moderator click to the last client seeing each version; and versions some client missed."""
    latencies: list[float] = []
    out: list[str] = []
    for click in truth.clicks:
        if click["status"] != 200:
            continue
        version = int(click["version"])
        last = [c["seen_last_ns"].get(version, 0) for c in crowds]
        seen = sum(c["seen_count"].get(version, 0) for c in crowds)
        if max(last, default=0):
            latencies.append((max(last) - click["click_ns"]) / 1e6)
        if seen < truth.agenda_reach.get(version, 0):
            out.append(f"agenda v{version} ({click['action']}) reached {seen} of the "
                       f"{truth.agenda_reach[version]} clients online throughout")
    return latencies, out


def explain_viewers(redis_url: str, prefix: str, event: str, truth: Truth,
                    crowds: list[dict[str, Any]]) -> list[str]:
    """For a segment whose viewer count differs: who differs, and when they joined or left.

    Reads the segment's viewer SET straight from Redis (a diagnostic the API does not offer), so a
    report can say *why* a figure is off, not only that it is.
    """
    import redis

    from server.store import keys

    keys.configure(prefix)
    spans: dict[str, list[list[float | None]]] = {}
    for crowd in crowds:
        for uid, user_spans in crowd["intervals"].items():
            spans.setdefault(uid, []).extend(user_spans)
    starts = sorted(seg.start for seg in truth.segments)
    out: list[str] = []
    client = redis.Redis.from_url(redis_url)
    try:
        for seg in truth.segments:
            members = {m.decode() for m in client.smembers(keys.Keys(event).segment_viewers(seg.id))}
            for uid in sorted(members ^ seg.viewers)[:5]:
                side = "system only" if uid in members else "truth only"
                moves = []
                for a, b in spans.get(uid, []):
                    for label, t in (("joined", a), ("left", b)):
                        if t is None or not starts:
                            continue
                        last = max((s for s in starts if s <= t), default=starts[0])
                        moves.append(f"{label} {t - last:+.2f} s after the click at {last:.2f}")
                out.append(f"{seg.id}: {uid} ({side}): {'; '.join(moves) or 'no interval'}")
    finally:
        client.close()
    return out
