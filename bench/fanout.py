"""``python -m bench fanout``: one topic, N subscribers, M messages/s, through the hub's real path.

Messages go in through :meth:`server.realtime.bus.Bus.publish`, the Lua script every capability's
``hub.publish`` runs (sequence, history, PUBLISH on the event's bus channel); every node then fans
them out to its own sockets. The same schedule is then published to the raw ``websockets``
baseline (``bench/baseline.py``) through plain Redis pub/sub, and both are measured alike.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from typing import Any

from bench.common import EVENT, delete_prefix, key_prefix, log, nodes, print_result, r, redis_url
from bench.loadgen import Fleet, marker
from bench.phase import Target, run_phase
from bench.servers import baselines, topic_declared

TARGETS = {"p99_ms": 250, "gaps": 0, "rss_per_conn_kb": 20, "server_cpu_us_per_msg": 3, "join_per_s": 1000}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench fanout", description=__doc__)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--rate", type=float, default=10, help="messages per second published to the topic")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--nodes", type=int, default=1, help="Plenary nodes; clients are spread round-robin")
    p.add_argument("--topic", default="chat:main")
    p.add_argument("--guests", action="store_true", help="join as guests instead of with attendee tokens")
    p.add_argument("--processes", type=int, default=None, help="client processes (default: 1 per 5,000)")
    p.add_argument("--grace", type=float, default=15, help="seconds to wait for the last deliveries")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--env", action="append", default=[], help="extra node setting, e.g. PLENARY_FLUSH_MS=100")
    args = p.parse_args(argv)
    if not (1 <= args.clients <= 60_000 and 0 < args.rate <= 2000 and 0 < args.seconds <= 600):
        p.error("--clients 1..60000, --rate 0..2000, --seconds 0..600")
    return args


async def _publish(run: str, rate: float, seconds: float, send: Any) -> tuple[int, int]:
    """Publish ``rate * seconds`` marked messages on schedule.

    ``ts`` is the scheduled time, so a server that falls behind shows its backlog as latency.
    """
    count = max(1, int(rate * seconds))
    period = int(1e9 / rate)
    t0 = time.time_ns() + 200_000_000
    for i in range(count):
        scheduled = t0 + i * period
        delay = (scheduled - time.time_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        await send(b'{"b":"%s"}' % marker(run, min(scheduled, time.time_ns()), 0, i).encode())
    return count, t0


async def publish_bus(prefix: str, topic: str, run: str, rate: float, seconds: float) -> tuple[int, int]:
    from redis.asyncio import Redis

    from server.realtime.bus import Bus
    from server.store import keys
    from server.store.scripts import Scripts

    keys.configure(prefix)
    redis = Redis.from_url(redis_url())
    bus = Bus(redis, Scripts(redis), history=2000, ttl=3600)
    try:
        return await _publish(run, rate, seconds, lambda payload: bus.publish(EVENT, topic, payload))
    finally:
        await redis.aclose()


async def publish_plain(channel: str, run: str, rate: float, seconds: float) -> tuple[int, int]:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url())
    try:
        return await _publish(run, rate, seconds, lambda payload: redis.publish(channel, payload))
    finally:
        await redis.aclose()


def main(argv: list[str]) -> int:
    args = parse(argv)
    run, prefix, secret = secrets.token_hex(3), key_prefix(), secrets.token_hex(32)
    extra_env = dict(e.split("=", 1) for e in args.env)
    spec: dict[str, Any] = {"run": run, "event": EVENT, "path": f"/ws/{EVENT}", "topic": args.topic,
                            "secret": None if args.guests else secret}
    result: dict[str, Any] = {"bench": "fanout", "clients": args.clients, "rate": args.rate,
                              "seconds": args.seconds, "nodes": args.nodes, "topic": args.topic}
    try:
        with nodes(1, prefix, secret, extra_env) as probe:
            declared = topic_declared(probe[0].ws_url, args.topic, secret)
        module = "server" if declared else "bench.shim"
        result["topic_source"] = "declared" if declared else "bench-shim"
        if not declared:
            log(f"topic {args.topic!r} is not declared by any capability; using bench.shim to declare it")
        extra_env["BENCH_TOPIC"] = args.topic
        with nodes(args.nodes, prefix, secret, extra_env, module=module) as ours:
            target = Target("plenary", [("127.0.0.1", n.port) for n in ours], [n.pid for n in ours])

            def drive(fleet: Fleet) -> tuple[int, int, dict[str, Any]]:
                fleet.go()
                count, t0 = asyncio.run(publish_bus(prefix, args.topic, run, args.rate, args.seconds))
                fleet.sent(timeout=30)
                return count, t0, {"published": count}

            result.update(run_phase(target, args.clients, spec, args.seconds, drive,
                                    args.processes, args.grace))
        result["expected_per_s"] = r(result["connected"] * args.rate, 0)
        if not args.no_baseline:
            channel = f"{prefix}:bench:baseline"
            with baselines(args.nodes, channel) as (ports, pids):
                base_target = Target("baseline", [("127.0.0.1", p) for p in ports], pids)

                def drive_base(fleet: Fleet) -> tuple[int, int, dict[str, Any]]:
                    fleet.go()
                    count, t0 = asyncio.run(publish_plain(channel, run, args.rate, args.seconds))
                    fleet.sent(timeout=30)
                    return count, t0, {"published": count}

                base = run_phase(base_target, args.clients, dict(spec, secret=None), args.seconds, drive_base,
                                 args.processes, args.grace)
            base["rate"] = args.rate
            base["expected_per_s"] = r(base["connected"] * args.rate, 0)
            result["baseline"] = base
            result["ratio_delivered"] = (r(result["delivered_per_s"] / base["delivered_per_s"], 3)
                                         if base["delivered_per_s"] else None)
        result["targets"] = {k: _meets(k, result.get(k), v) for k, v in TARGETS.items()}
    except Exception as exc:
        log(f"fanout failed: {exc!r}")
        result["error"] = repr(exc)[:500]
        print_result(result)
        return 1
    finally:
        try:
            asyncio.run(delete_prefix(redis_url(), prefix))
        except Exception as exc:
            log(f"could not delete keys under {prefix}: {exc!r}")
    print_result(result)
    return 0


def _meets(name: str, value: Any, limit: float) -> bool | None:
    if value is None:
        return None
    return bool(value >= limit) if name == "join_per_s" else bool(value <= limit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
