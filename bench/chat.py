"""``python -m bench chat``: N clients in the main room, K of them chatting through ``chat.send``.

Senders are ordinary attendees (tokens minted with the node's secret, one user each, so the real
per-user rate limit applies); each waits for its ack before the next send and retries a
``rate_limited`` send after the ``retry_after`` it was given. Every client, senders included,
must receive every acknowledged message exactly once: ``lost`` and ``duplicates`` count the
difference. The same clients and schedule are then run against the raw ``websockets`` baseline,
which acks and broadcasts each message with no storage, limits or coalescing.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from typing import Any

from bench.common import EVENT, delete_prefix, key_prefix, log, nodes, percentile, print_result, r, redis_url
from bench.loadgen import Fleet
from bench.phase import Target, run_phase
from bench.servers import baselines

TARGETS = {"p99_ms": 250, "lost": 0, "duplicates": 0}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench chat", description=__doc__)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--senders", type=int, default=50)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--rate", type=float, default=20, help="chat messages per second, all senders together")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--room", default="main")
    p.add_argument("--op", default="chat.send")
    p.add_argument("--processes", type=int, default=None)
    p.add_argument("--grace", type=float, default=15)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--env", action="append", default=[], help="extra node setting, e.g. PLENARY_CHAT_RATE=5")
    args = p.parse_args(argv)
    if not (1 <= args.senders <= args.clients <= 60_000 and 0 < args.rate <= 5000
            and 0 < args.seconds <= 600):
        p.error("need 1 <= --senders <= --clients <= 60000, 0 < --rate <= 5000, 0 < --seconds <= 600")
    return args


def _driver(args: argparse.Namespace, run: str) -> Any:
    senders = sorted({i * args.clients // args.senders for i in range(args.senders)})

    def drive(fleet: Fleet) -> tuple[int, int, dict[str, Any]]:
        t0 = time.time_ns()
        fleet.go(run=run, senders=senders, until=time.time() + args.seconds,
                 per_sender_rate=args.rate / len(senders),
                 op=args.op, room=args.room, room_field="room", text_field="text", cid_field="cid",
                 text_prefix="bench message ")
        sent = fleet.sent(timeout=args.seconds + 60)
        acked = sum(s["acked"] for s in sent)
        per_source = {int(src): n for s in sent for src, n in s["per_source"].items()}
        ack_ms = sorted(x for s in sent for x in s["ack_ms"])
        extra = {
            "senders": len(senders), "sent": acked,
            "rate_limited": sum(s["rate_limited"] for s in sent),
            "send_errors": sum(s["errors"] for s in sent),
            "send_timeouts": sum(s["timeouts"] for s in sent),
            "send_error_sample": [e for s in sent for e in s["error_sample"]][:3],
            "ack_p50_ms": r(percentile(ack_ms, 50)), "ack_p99_ms": r(percentile(ack_ms, 99)),
            "acked_per_source": per_source,
        }
        return acked, t0, extra

    return drive


def main(argv: list[str]) -> int:
    args = parse(argv)
    run, prefix, secret = secrets.token_hex(3), key_prefix(), secrets.token_hex(32)
    extra_env = dict(e.split("=", 1) for e in args.env)
    spec: dict[str, Any] = {"run": run, "event": EVENT, "path": f"/ws/{EVENT}", "secret": secret,
                            "topic": f"chat:{args.room}"}
    result: dict[str, Any] = {"bench": "chat", "clients": args.clients, "seconds": args.seconds,
                              "rate": args.rate, "nodes": args.nodes}
    try:
        with nodes(args.nodes, prefix, secret, extra_env) as ours:
            target = Target("plenary", [("127.0.0.1", n.port) for n in ours], [n.pid for n in ours])
            result.update(run_phase(target, args.clients, spec, args.seconds, _driver(args, run),
                                    args.processes, args.grace))
        if not args.no_baseline:
            with baselines(args.nodes, f"{prefix}:bench:baseline") as (ports, pids):
                base_target = Target("baseline", [("127.0.0.1", p) for p in ports], pids)
                base = run_phase(base_target, args.clients, dict(spec, secret=None), args.seconds,
                                 _driver(args, run), args.processes, args.grace)
            result["baseline"] = base
            result["ratio_delivered"] = (r(result["delivered_per_s"] / base["delivered_per_s"], 3)
                                         if base["delivered_per_s"] else None)
        result["targets"] = {
            "p99_ms": None if result["p99_ms"] is None else result["p99_ms"] <= TARGETS["p99_ms"],
            "lost": result["lost"] == 0, "duplicates": result["duplicates"] == 0,
        }
    except Exception as exc:
        log(f"chat failed: {exc!r}")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
