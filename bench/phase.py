"""One measured phase: connect the clients to some servers, drive the traffic, collect every figure.

The same function measures Plenary's nodes and the raw ``websockets`` baseline, so the two sets
of figures in one result line are computed the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import CpuWindow, log, percentile, r, rss_kb
from bench.loadgen import Fleet, merge


@dataclass
class Target:
    """Servers under test: where clients connect and which processes' CPU and memory count."""

    name: str
    urls: list[tuple[str, int]]
    pids: list[int]


# drive(fleet) sends the traffic and returns (messages each client must get, first send ns, extras)
Driver = Callable[[Fleet], tuple[int, int, dict[str, Any]]]


def run_phase(target: Target, clients: int, spec: dict[str, Any], seconds: float, drive: Driver,
              processes: int | None = None, grace: float = 15.0, idle_seconds: float = 2.0) -> dict[str, Any]:
    rss0 = sum(rss_kb(p) for p in target.pids)
    fleet = Fleet(clients, dict(spec, urls=target.urls), processes=processes)
    try:
        readies = fleet.ready(timeout=60 + clients / 100)
        connected = sum(x["connected"] for x in readies)
        join_s = max(x["t_ready"] for x in readies) - min(x["t_start"] for x in readies)
        rss1 = sum(rss_kb(p) for p in target.pids)
        fails = [f for x in readies for f in x["fail_sample"]][:3]
        log(f"{target.name}: {connected}/{clients} connected in {join_s:.1f} s"
            + (f"; failures e.g. {fails}" if fails else ""))
        # what the servers burn with everyone connected and nothing sent (tickers, presence refresh):
        # part of the per-message figure below, reported so it can be told apart
        idle = CpuWindow(target.pids)
        idle.start()
        time.sleep(idle_seconds)
        idle.stop()
        window = CpuWindow(target.pids)
        window.start()
        per_client, t0_ns, extra = drive(fleet)
        deadline = time.time() + grace
        merged, lat = merge(fleet.expect(per_client, deadline, extra.pop("acked_per_source", None)))
        window.stop()
    finally:
        fleet.close()
    elapsed = max(seconds, (merged["last_rx"] - t0_ns) / 1e9) if merged["last_rx"] else seconds
    delivered = merged["unique"]
    result: dict[str, Any] = {
        "clients": clients,
        "connected": connected,
        "join_per_s": r(connected / join_s if join_s > 0 else 0.0, 0),
        "delivered": delivered,
        "delivered_per_s": r(delivered / elapsed, 0),
        "expected": per_client * connected,
        "p50_ms": r(_ms(percentile(lat, 50))),
        "p90_ms": r(_ms(percentile(lat, 90))),
        "p99_ms": r(_ms(percentile(lat, 99))),
        "max_ms": r(_ms(lat[-1] if lat else None)),
        "gaps": merged["gaps"],
        "duplicates": merged["duplicates"],
        "clients_short": merged["clients_short"],
        "lost": merged["lost"],
        "closed_by_server": merged["closed"],
        "close_codes": merged["close_codes"],
        "server_cpu_pct": r(window.pct),
        "server_cpu_us_per_msg": r(window.cpu * 1e6 / delivered, 2) if delivered else None,
        "server_idle_cpu_pct": r(idle.pct),
        "server_cpu_us_per_msg_net_of_idle": (
            r(max(0.0, window.cpu - idle.cpu / idle.wall * window.wall) * 1e6 / delivered, 2) if delivered else None),
        "rss_per_conn_kb": r((rss1 - rss0) / connected, 1) if connected else None,
        "server_rss_mb": r(rss1 / 1024),
        "client_cpu_pct": merged["client_cpu_pct"],
        "connect_failures": clients - connected,
    }
    result.update(extra)
    return result


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e6
