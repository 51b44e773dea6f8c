"""``python -m bench rehearsal``: the whole reference session, played by simulated people, checked.

Starts K nodes on one Redis, then the actors as separate processes on 127.0.0.1 (a moderator on a
compressed clock, N online attendees who join in a storm, chat, ask, upvote, react, drop and come
back, two door scanners), keeps its own ground truth, compares it with every figure the system
reports, and prints a summary (stderr) and one JSON line (stdout, last). Exit status 1 when
anything differs or failed. See bench/rehearsal/README.md.
"""

from __future__ import annotations

import argparse
import sys

from bench.rehearsal import plan


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench rehearsal", description=__doc__.split("\n\n")[0])
    ap.add_argument("--attendees", type=int, default=2000, help="online attendees (default 2000)")
    ap.add_argument("--minute-seconds", type=float, default=1.0,
                    help="seconds of rehearsal per planned minute (default 1.0: the session takes ~3 min)")
    ap.add_argument("--nodes", type=int, default=2, help="app nodes on one Redis (default 2)")
    ap.add_argument("--in-person", type=int, default=None,
                    help="badges scanned at the doors (default: a fifth of --attendees)")
    ap.add_argument("--viewers", type=int, default=0,
                    help="WHEP viewers decoding the stage (default 0: see the report's 'media' line)")
    ap.add_argument("--presence-ttl", type=int, default=10,
                    help="PLENARY_PRESENCE_TTL for the nodes (default 10 s)")
    ap.add_argument("--guard-after", type=float, default=plan.GUARD_AFTER,
                    help="seconds after each click in which nobody acts (default %(default)s; see plan.py)")
    ap.add_argument("--guard-before", type=float, default=plan.GUARD_BEFORE,
                    help="seconds before each click in which nobody acts (default %(default)s)")
    args = ap.parse_args(argv)
    if args.in_person is None:
        args.in_person = args.attendees // 5
    for name in ("attendees", "nodes"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if args.minute_seconds <= 0 or args.in_person < 0 or args.viewers < 0:
        ap.error("--minute-seconds must be positive, --in-person and --viewers not negative")
    return args


def main(argv: list[str]) -> int:
    from bench.rehearsal.session import run

    result = run(parse(argv))
    return 1 if result["errors"] or result["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
