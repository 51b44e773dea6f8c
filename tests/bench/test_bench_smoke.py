"""The fan-out benchmark runs end to end and reports every figure the hub issue asks for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("clients", "connected", "rate", "delivered_per_s", "expected_per_s", "p50_ms", "p99_ms", "max_ms",
            "gaps", "duplicates", "server_cpu_pct", "server_cpu_us_per_msg", "rss_per_conn_kb", "join_per_s")


def test_fanout_bench_reports_every_figure_with_no_gap_or_duplicate() -> None:
    env = dict(os.environ)
    db = os.environ.get("TEST_REDIS_DB", "10")
    env.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{db}")
    env.setdefault("TEST_KEY_PREFIX", "t-bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "fanout", "--clients", "50", "--rate", "5", "--seconds", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in REQUIRED:
        assert key in result, f"{key} missing from {result}"
        assert key in result["baseline"], f"baseline.{key} missing from {result['baseline']}"
    assert "ratio_delivered" in result
    assert result["connected"] == result["clients"] == 50
    assert result["gaps"] == 0 and result["duplicates"] == 0
    assert result["baseline"]["connected"] == 50
    assert result["baseline"]["gaps"] == 0 and result["baseline"]["duplicates"] == 0
    # every published message reached every client, in ours and in the baseline
    assert result["delivered"] == result["published"] * 50
    assert result["baseline"]["delivered"] == result["baseline"]["published"] * 50
