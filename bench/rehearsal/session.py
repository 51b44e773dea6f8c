"""The driver: nodes up, actors spawned, storm, session on the compressed clock, compare, report.

Every wait is bounded; however the run ends, the actors are ended by their own process ids and the
nodes are stopped (``bench.common.nodes``). Keys live under a prefix of the rehearsal's own, which
is cleaned before the run (and after it).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import secrets
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import httpx

from bench import common
from bench.rehearsal import actors, compare, plan, report, truth
from bench.rehearsal.truth import Truth

DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
PER_PROCESS = 1500
COUNTRIES = ["China", "Russia", "Kazakhstan", "Uzbekistan", "Tajikistan", "Pakistan", "India", "Egypt"]


class Actor:
    def __init__(self, ctx: Any, name: str, target: Callable[..., None], spec: dict[str, Any]) -> None:
        self.name = name
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(child, spec), name=f"rehearsal-{name}", daemon=True)
        self.proc.start()
        child.close()

    def send(self, kind: str, data: Any = None) -> None:
        self.pipe.send((kind, data))

    def expect(self, kind: str, timeout: float) -> Any:
        if not self.pipe.poll(timeout):
            raise TimeoutError(f"{self.name}: no {kind!r} within {timeout:.0f} s")
        got, data = self.pipe.recv()
        if got != kind:
            raise RuntimeError(f"{self.name}: expected {kind!r}, got {got!r}: {str(data)[:500]}")
        return data

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)


def _wait(predicate: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return None


def _figures(url: str, token: str) -> dict[str, Any]:
    resp = httpx.get(f"{url}/api/events/{common.EVENT}/attendance", timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    resp.raise_for_status()
    data: dict[str, Any] = resp.json()
    return data


def run(args: Any) -> dict[str, Any]:
    from server.auth import mint

    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    prefix = f"{os.environ.get('TEST_KEY_PREFIX') or 'rehearsal'}-run"
    secret = secrets.token_hex(24)
    script = plan.make(args.attendees, args.minute_seconds, args.in_person,
                       guards=(args.guard_after, args.guard_before))
    segment_ids = [s.id for s in script.segments]
    asyncio.run(common.delete_prefix(url, prefix))
    env = {"REDIS_URL": url, "PLENARY_PRESENCE_TTL": str(args.presence_ttl),
           "PLENARY_CONNECT_RATE": "1000000"}
    errors: list[str] = []
    result: dict[str, Any] = {"event": common.EVENT, "attendees": args.attendees, "nodes": args.nodes,
                              "in_person": args.in_person, "minute_seconds": args.minute_seconds,
                              "viewers": args.viewers}
    ctx = multiprocessing.get_context("spawn")
    with ExitStack() as stack:
        nodes = stack.enter_context(common.nodes(args.nodes, prefix, secret, env))
        urls = [n.url for n in nodes]
        org = mint(secret, event=common.EVENT, role="organizer", name="Rehearsal organizer", sub="org-1")
        mod = mint(secret, event=common.EVENT, role="moderator", name="Rehearsal moderator", sub="mod-1")
        desk = mint(secret, event=common.EVENT, role="checkin", name="Door staff", sub="door-1")
        common.log(f"{len(nodes)} node(s) up; plan: {len(script.segments)} segments in {script.end:.1f} s, "
                   f"{len(script.windows)} quiet windows, {len(script.storm)} in the storm")
        index = {plan.user(i): i for i in range(args.attendees)}
        users = list(script.attendees)
        shares = max(1, math.ceil(args.attendees / PER_PROCESS))
        crowds: list[Actor] = []
        windows = [[w.segment, w.start, w.end] for w in script.windows]
        for p in range(shares):
            mine = users[p::shares]
            spec = {"event": common.EVENT, "secret": secret, "ports": [n.port for n in nodes], "index": index,
                    "countries": COUNTRIES, "storm": [u for u in mine if u in set(script.storm)],
                    "actions": {u: script.attendees[u] for u in mine}, "windows": windows, "end": script.end,
                    "guard_before": script.guard_before}
            crowds.append(Actor(ctx, f"attendees-{p}", actors.attendees_main, spec))
        clicks = [[0.0, "start"]] + [[s.start, "next"] for s in script.segments[1:]] + [[script.end, "end"]]
        moderator = Actor(ctx, "moderator", actors.moderator_main,
                          {"event": common.EVENT, "url": urls[0], "token": mod, "clicks": clicks})
        doors = Actor(ctx, "doors", actors.scanners_main,
                      {"event": common.EVENT, "urls": urls, "token": desk, "secret": secret,
                       "scans_a": script.scans_a, "scans": script.scans, "end": script.end})
        stage: Actor | None = None
        if args.viewers > 0:
            from bench.rehearsal.media import media_main

            segs = [{"id": s.id, "kind": s.kind, "start": s.start, "speaker": s.speaker, "name": s.speaker_name}
                    for s in script.segments]
            # media is node-local: the stage, its speakers and its viewers are all on the first node
            stage = Actor(ctx, "stage", media_main, {"event": common.EVENT, "url": urls[0], "ws": nodes[0].ws_url,
                                                     "secret": secret, "viewers": args.viewers,
                                                     "segments": segs, "end": script.end})
        everyone = [*crowds, moderator, doors, *([stage] if stage else [])]
        stack.callback(lambda: [a.stop() for a in everyone])
        for a in everyone:
            a.expect("ready", 120)

        # the storm, with the doors opening meanwhile
        for c in crowds:
            c.send("storm")
        doors.send("doors")
        storms = [c.expect("joined", 300) for c in crowds]
        before = doors.expect("opened", 300)
        joined = sum(s["joined"] for s in storms)
        span = max(s["t_end"] for s in storms) - min(s["t_start"] for s in storms)
        result["joined"] = joined
        result["join_per_s"] = common.r(joined / span if span > 0 else None)
        for s in storms:
            errors += s["errors"]
        common.log(f"storm: {joined} joined in {span:.1f} s; {len(before['scans'])} scans at the doors")
        seen = _wait(lambda: _figures(urls[0], org)["online_now"] == joined, 30)
        if not seen:
            errors.append(f"online_now never reached the {joined} joined (last "
                          f"{_figures(urls[0], org)['online_now']})")

        # the session
        redis0 = _redis_cpu(url)
        cpus = [common.CpuWindow([n.pid]) for n in nodes]
        t0 = time.time() + 1.0
        for cpu in cpus:
            cpu.start()
        for a in everyone:
            if a is not doors:
                a.send("go", t0)
        doors.send("go", t0)
        rss = 0
        deadline = t0 + script.end + 90
        done: dict[str, Any] = {}
        while len(done) < len(everyone) and time.time() < deadline:
            for a in everyone:
                if a.name not in done and a.pipe.poll(0.2):
                    kind, data = a.pipe.recv()
                    if kind != "done":
                        raise RuntimeError(f"{a.name}: {kind}: {str(data)[:500]}")
                    done[a.name] = data
            rss = max(rss, max(common.rss_kb(n.pid) for n in nodes))
        for cpu in cpus:
            cpu.stop()
        # Redis is shared with whatever else runs on this machine: its figure includes their load
        result["redis_cpu_pct"] = common.r(100 * (_redis_cpu(url) - redis0) / max(cpus[0].wall, 1e-3))
        missing = [a.name for a in everyone if a.name not in done]
        if missing:
            raise TimeoutError(f"actors {missing} did not finish by the deadline")
        common.log("session over; letting the ticker record the end")
        _wait(lambda: _figures(urls[0], org)["current_segment"] is None, 10)
        time.sleep(1.2)  # the ticker's end mark and the last attendance push are per-second work

        crowd_results = [done[c.name] for c in crowds]
        clicks_done = done["moderator"]["clicks"]
        facts = truth.build(segment_ids, crowd_results, clicks_done, done["doors"]["scans"])
        system = compare.fetch(urls[-1], common.EVENT, org, mod)
        mismatches = compare.compare(facts, system, segment_ids)
        advance, missed = compare.agenda_delivery(facts, crowd_results)
        mismatches += missed
        if any("unique_viewers" in m for m in mismatches):
            result["diagnosis"] = compare.explain_viewers(url, prefix, common.EVENT, facts, crowd_results)
            for line in result["diagnosis"]:
                common.log(f"diagnosis: {line}")
        for click in clicks_done:
            if click["status"] != 200:
                errors.append(f"moderator {click['action']}: {click['status']} {click['error']}")
        for c in crowd_results:
            errors += c["errors"]
            closed = {k: v for k, v in c["close_codes"].items() if k != 1000}
            if closed:
                errors.append(f"server closed attendee sockets: {closed}")
        if stage is not None:
            media = done["stage"]
            errors += media["errors"]
            result["viewer_fps_min"] = min(media["fps"], default=None)
            result["viewer_freeze_max_ms"] = max(media["freeze_ms"], default=None)
            result["stage_switches"] = media["shows"]
        late = sum(c["counts"]["late_acks"] for c in crowd_results)
        if late:
            errors.append(f"{late} joins, chat lines or questions completed after their window's guard: the "
                          "machine fell behind, so figures near those clicks are not exactly checkable")
        ends = {w.segment: w.end for w in script.windows}
        late_scans = [x for x in done["doors"]["scans"]
                      if x["segment"] and x["t"] > t0 + ends[x["segment"]] + script.guard_before]
        if late_scans:
            errors.append(f"{len(late_scans)} badge scans were answered after their window's guard "
                          "(the in-hall figures near those clicks are not exactly checkable)")

        # everyone leaves; online now must drop to zero
        for c in crowds:
            c.send("close")
        for c in crowds:
            c.expect("closed", 60)
        empty = _wait(lambda: _figures(urls[0], org)["online_now"] == 0, args.presence_ttl + 5)
        if not empty:
            mismatches.append(f"online_now after everyone left: system {_figures(urls[0], org)['online_now']}, "
                              "truth 0")
        node_cpu = [cpu.pct for cpu in cpus]
        result.update(_figures_out(facts, crowd_results, advance, script, result))
        result.update({
            "node_cpu_pct": common.r(sum(node_cpu) / len(node_cpu)),
            "node_cpu_pct_each": [common.r(c) for c in node_cpu],
            "node_rss_mb": common.r(rss / 1024), "errors": errors, "mismatches": mismatches,
            "rate_limited": sum(c["counts"]["rate_limited"] for c in crowd_results),
        })
    asyncio.run(common.delete_prefix(url, prefix))
    report.emit(result, facts)
    return result


def _redis_cpu(url: str) -> float:
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _figures_out(facts: Truth, crowds: list[dict[str, Any]], advance: list[float],
                 script: plan.Plan, so_far: dict[str, Any]) -> dict[str, Any]:
    import array

    lat = array.array("q")
    for c in crowds:
        lat.frombytes(c["latencies"])
    ms = sorted(x / 1e6 for x in lat)
    return {
        "segments_run": len(facts.segments),
        "session_s": round(script.end, 1),
        "chat_sent": facts.chat_total,
        "chat_deliveries": len(ms),
        "chat_p50_ms": common.r(common.percentile(ms, 50)),
        "chat_p99_ms": common.r(common.percentile(ms, 99)),
        "chat_ack_p99_ms": common.r(common.percentile(sorted(x for c in crowds for x in c["counts"]["ack_ms"]), 99)),
        "questions": facts.questions_total,
        "upvotes": sum(c["counts"]["upvotes"] for c in crowds),
        "reactions": sum(c["counts"]["reactions"] for c in crowds),
        "client_cpu_pct": [common.r(c["cpu_pct"]) for c in crowds],
        "agenda_advance_p99_ms": common.r(common.percentile(sorted(advance), 99)),
        "agenda_advance_max_ms": common.r(max(advance, default=0.0)),
        "peak_online": facts.peak_online, "unique_online": facts.unique_online, "reached": facts.reached,
        "segments": [[s.id, len(s.viewers), len(s.in_person), s.chat, s.questions] for s in facts.segments],
        "viewer_fps_min": so_far.get("viewer_fps_min"),
        "media": (f"{so_far['viewers']} WHEP viewers on node 1: min {so_far.get('viewer_fps_min')} fps, longest "
                  f"freeze {so_far.get('viewer_freeze_max_ms')} ms, {so_far.get('stage_switches')} stage switches"
                  if so_far["viewers"] else "not run (--viewers 0)"),
    }
