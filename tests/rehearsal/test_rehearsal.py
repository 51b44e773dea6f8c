"""The full rehearsal, small: every figure the system reports matches what the actors did.

Runs ``python -m bench rehearsal`` as a subprocess (its own nodes, actors and key prefix on the
suite's Redis) with 200 attendees over two nodes, 40 badges and one WHEP viewer: the whole reference
agenda on a compressed clock (about 41 s of session, 50 s in all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.rehearsal.report import REQUIRED
from tests.support.servers import ROOT


def test_small_rehearsal_reports_every_figure_exactly(redis_url: str) -> None:
    env = dict(os.environ)
    env["REDIS_URL"] = redis_url  # the suite's Redis (TEST_REDIS_DB, or the embedded one)
    env["TEST_KEY_PREFIX"] = os.environ.get("TEST_KEY_PREFIX", "plenary-test") + "-rehearsal"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "rehearsal", "--attendees", "200", "--nodes", "2",
         "--minute-seconds", "0.2", "--in-person", "40", "--presence-ttl", "6", "--viewers", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no result line; stderr:\n{proc.stderr[-4000:]}"
    result = json.loads(lines[-1])
    assert not [k for k in REQUIRED if k not in result], result
    assert result["mismatches"] == [], proc.stderr[-4000:]
    assert result["errors"] == [], proc.stderr[-4000:]
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert result["attendees"] == 200 and result["nodes"] == 2
    assert result["segments_run"] == 15
    assert result["joined"] == 190  # the other 10 join late, during the session
    # the run really exercised what it checked: people came and went, talked, and were counted
    assert result["unique_online"] == 200 and result["peak_online"] == 190
    assert result["chat_sent"] > 0 and result["questions"] > 0 and result["chat_deliveries"] > 0
    assert result["chat_p99_ms"] is not None and result["agenda_advance_p99_ms"] is not None
    assert len({tuple(s[1:]) for s in result["segments"]}) > 1  # figures differ between segments
    # the stage ran: 13 of the 15 segments have a speaker or a clip to show, and the viewer decoded frames
    assert result["stage_switches"] == 13
    assert result["viewer_fps_min"] > 0
