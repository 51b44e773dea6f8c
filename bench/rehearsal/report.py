"""The organizer's summary (stderr, human) and the result (stdout's last line, one JSON object)."""

from __future__ import annotations

import sys
from typing import Any

from bench.common import print_result
from bench.rehearsal.truth import Truth

REQUIRED = ("attendees", "nodes", "segments_run", "join_per_s", "chat_p99_ms", "agenda_advance_p99_ms",
            "viewer_fps_min", "errors", "mismatches", "node_cpu_pct", "node_rss_mb")


def summary(result: dict[str, Any], truth: Truth | None) -> str:
    ok = not result["mismatches"] and not result["errors"]
    lines = [
        "",
        f"Rehearsal of {result['event']}: {result['attendees']} attendees online over {result['nodes']} "
        f"node(s), {result['in_person']} badges at two doors, {result['segments_run']} segments run "
        f"in {result['session_s']} s ({result['minute_seconds']} s per planned minute).",
        f"  join storm      {result['joined']} joined at {result['join_per_s']} joins/s",
        f"  chat            {result['chat_sent']} lines, p50 {result['chat_p50_ms']} ms, p99 "
        f"{result['chat_p99_ms']} ms to every reader; {result['rate_limited']} refused as rate_limited",
        f"  questions       {result['questions']}; upvotes {result['upvotes']}; reactions {result['reactions']}",
        f"  agenda          moderator click to the last client: p99 {result['agenda_advance_p99_ms']} ms",
        f"  nodes           CPU {result['node_cpu_pct']} % of a core each (mean), RSS up to "
        f"{result['node_rss_mb']} MB; attendee processes {result.get('client_cpu_pct')} % each; "
        f"Redis {result.get('redis_cpu_pct')} %",
    ]
    if truth is not None:
        lines.append(
            f"  attendance      peak online {truth.peak_online}, unique {truth.unique_online}, reached "
            f"{truth.reached}, in the hall now {truth.in_person_now} (peak {truth.peak_in_person}), "
            f"checked in {truth.checked_in_total}")
    lines.append(f"  video           {result['media']}")
    if result["errors"]:
        lines.append(f"  ERRORS ({len(result['errors'])}):")
        lines += [f"    - {e}" for e in result["errors"][:20]]
    if result["mismatches"]:
        lines.append(f"  MISMATCHES ({len(result['mismatches'])}): the system reported figures the actors "
                     "contradict:")
        lines += [f"    - {m}" for m in result["mismatches"][:40]]
    lines.append("  verdict         " + ("HELD: every reported figure matches the ground truth" if ok
                                        else "NOT HELD: see above"))
    return "\n".join(lines)


def emit(result: dict[str, Any], truth: Truth | None) -> None:
    missing = [k for k in REQUIRED if k not in result]
    assert not missing, f"result lacks {missing}"
    print(summary(result, truth), file=sys.stderr, flush=True)
    print_result(result)
