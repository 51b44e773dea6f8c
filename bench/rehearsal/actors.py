"""The actors, each kind in processes of its own with its own asyncio loop, on 127.0.0.1 only.

- :func:`attendees_main`: a share of the online attendees (bare ``bench.loadgen.WsClient`` sockets,
  so thousands cost little CPU): join in the storm, then play their part of the plan (leave, drop
  and come back, join late, chat, ask, upvote, react) and record what actually happened.
- :func:`moderator_main`: clicks start / next ... / end on the compressed clock over HTTP.
- :func:`scanners_main`: two door gates scanning signed badges (repeats, exits, forged ones).

Each talks to the driver over a pipe (``storm`` / ``go`` / ``close``); every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import resource
import time
from multiprocessing.connection import Connection
from typing import Any

from bench.loadgen import Totals, WsClient

STEP_TIMEOUT = 15.0
CHAT_MARK = re.compile(rb"#r(\d+)\.(\d+)\.(\d+)#")
TOPICS = ["agenda", "chat:main"]


def _run(main: Any, pipe: Connection, spec: dict[str, Any]) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        try:
            import uvloop

            uvloop.run(main(pipe, spec))
        except ImportError:
            asyncio.run(main(pipe, spec))
    except Exception as exc:
        pipe.send(("crashed", repr(exc)))
    finally:
        pipe.close()
        os._exit(0)  # skip closing thousands of sockets one by one


async def _recv(pipe: Connection, timeout: float) -> tuple[str, Any]:
    loop = asyncio.get_running_loop()
    if not await loop.run_in_executor(None, pipe.poll, timeout):
        raise TimeoutError(f"the driver said nothing for {timeout} s")
    kind, data = pipe.recv()
    return str(kind), data


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _sleep_until(epoch: float) -> None:
    await asyncio.sleep(max(0.0, epoch - time.time()))


# --- attendees -----------------------------------------------------------------------------------

class Seen:
    """Per process: the last moment any of its clients saw each agenda version, and how many did."""

    def __init__(self) -> None:
        self.last_ns: dict[int, int] = {}
        self.count: dict[int, int] = {}


class Attendee(WsClient):
    def __init__(self, seen: Seen, *args: Any) -> None:
        super().__init__(*args)
        self.seen = seen
        self.snapshots: set[bytes] = set()

    def message(self, payload: bytes) -> None:
        if not self.synced.done():
            for topic in TOPICS:
                if b'"type":"snapshot","topic":"%s"' % topic.encode() in payload:
                    self.snapshots.add(topic.encode())
            if len(self.snapshots) == len(TOPICS):
                self.synced.set_result(None)
        if b'"type":"snapshot"' in payload:
            # a (re)joining client's snapshot replays recent lines: they are history, not deliveries
            for _ts, source, n in self.totals.pattern.findall(payload):
                self.last[int(source)] = max(self.last.get(int(source), -1), int(n))
        if b'"topic":"agenda"' in payload and b'"type":"push"' in payload:
            now = time.time_ns()
            for msg in json.loads(payload):
                if msg.get("type") == "push" and msg.get("topic") == "agenda":
                    version = int(msg["d"]["version"])
                    self.seen.last_ns[version] = max(self.seen.last_ns.get(version, 0), now)
                    self.seen.count[version] = self.seen.count.get(version, 0) + 1
        super().message(payload)


class Crowd:
    """One attendee process: its clients, and the record of what they really did."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.totals = Totals(CHAT_MARK)
        self.seen = Seen()
        self.sem = asyncio.Semaphore(100)
        self.clients: dict[str, Attendee] = {}
        self.intervals: dict[str, list[list[float | None]]] = {}
        self.joins = 0
        self.errors: list[str] = []
        self.counts: dict[str, Any] = {"chat": {}, "questions": {}, "rate_limited": 0, "upvotes": 0,
                                       "reactions": 0, "late_acks": 0, "ack_ms": []}
        self.questions: list[tuple[str, str]] = []  # (question id, asker)
        self.voted: set[tuple[str, str]] = set()
        self.msg_n: dict[str, int] = {}
        self.chat_n: dict[str, int] = {}  # the marker's per-source sequence: 1, 2, 3... with no holes
        self.window_end = {seg: end for seg, _start, end in spec["windows"]}
        self.t0 = 0.0

    def _node(self, uid: str, attempt: int) -> tuple[str, int]:
        ports = self.spec["ports"]
        return "127.0.0.1", ports[(self.spec["index"][uid] + attempt) % len(ports)]

    def _hello(self, uid: str) -> dict[str, Any]:
        from server.auth import mint

        n = self.spec["index"][uid]
        token = mint(self.spec["secret"], event=self.spec["event"], role="attendee", name=f"Attendee {n}",
                     sub=uid, ttl=4 * 3600, traits={"country": self.spec["countries"][n % len(self.spec["countries"])]})
        return {"token": token, "topics": TOPICS}

    async def join(self, uid: str, attempt: int = 0) -> bool:
        loop = asyncio.get_running_loop()
        host, port = self._node(uid, attempt)
        err = ""
        async with self.sem:
            for _ in range(3):
                client: Attendee | None = None
                try:
                    _, client = await asyncio.wait_for(loop.create_connection(
                        lambda: Attendee(self.seen, self.totals, host, port, f"/ws/{self.spec['event']}",
                                         self._hello(uid), "-"), host, port), STEP_TIMEOUT)
                    reply = await asyncio.wait_for(client.joined, STEP_TIMEOUT)
                    if reply.get("type") != "ack":
                        raise ConnectionError(f"hello refused: {reply.get('code')}: {reply.get('message')}")
                    await asyncio.wait_for(client.synced, STEP_TIMEOUT)
                    self.clients[uid] = client
                    self.intervals.setdefault(uid, []).append([time.time(), None])
                    self.joins += 1
                    return True
                except (OSError, TimeoutError, ConnectionError) as exc:
                    err = repr(exc)[:160]
                    if client is not None and client.transport is not None:
                        # a half-joined socket must not linger: the server might count it online
                        client.is_closed = True
                        client.transport.abort()
                    await asyncio.sleep(0.2)
        self.errors.append(f"{uid} could not join: {err}")
        return False

    def _gone(self, uid: str) -> Attendee | None:
        client = self.clients.pop(uid, None)
        if client is not None:
            self.intervals[uid][-1][1] = time.time()
        return client

    async def leave(self, uid: str) -> None:
        client = self._gone(uid)
        if client is None or client.transport is None:
            return
        client.send(b"\x03\xe8", 8)  # a clean close (1000), as a browser tab closing
        client.is_closed = True
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, client.transport.close)

    def drop(self, uid: str) -> None:
        client = self._gone(uid)
        if client is not None and client.transport is not None:
            client.is_closed = True
            client.transport.abort()  # the network went away: no close frame

    async def call(self, uid: str, op: str, d: dict[str, Any]) -> dict[str, Any] | None:
        client = self.clients.get(uid)
        if client is None:
            return None
        sent = time.time()
        try:
            reply = await asyncio.wait_for(client.call(op, d), STEP_TIMEOUT)
        except (TimeoutError, ConnectionError) as exc:
            self.errors.append(f"{uid} {op}: {exc!r}"[:200])
            return None
        if reply.get("type") == "error":
            if reply.get("code") == "rate_limited":
                self.counts["rate_limited"] += 1
            else:
                self.errors.append(f"{uid} {op}: {reply.get('code')}: {reply.get('message')}"[:200])
            return None
        if op == "chat.send":
            self.counts["ack_ms"].append((time.time() - sent) * 1000)
        return reply

    def _late_join(self, planned: float) -> None:
        """A join that completes after its window's guard straddles a click: the truth is ambiguous."""
        for _seg, start, end in self.spec["windows"]:
            if start <= planned <= end and time.time() > self.t0 + end + self.spec["guard_before"]:
                self.counts["late_acks"] += 1

    def _in_window(self, segment: str) -> bool:
        """An ack after the window's guard could have landed in the next segment: say so."""
        if time.time() > self.t0 + self.window_end[segment] + self.spec["guard_before"]:
            self.counts["late_acks"] += 1
            return False
        return True

    async def act(self, uid: str, action: list[Any]) -> None:
        kind = action[1]
        if kind == "leave":
            await self.leave(uid)
        elif kind == "join":
            await self.join(uid)
            self._late_join(action[0])
        elif kind == "drop":
            self.drop(uid)
            await _sleep_until(self.t0 + action[2])
            await self.join(uid, attempt=1)
            self._late_join(action[2])
        elif kind == "chat":
            n = self.chat_n[uid] = self.chat_n.get(uid, 0) + 1
            src = self.spec["index"][uid]
            text = f"Greetings from attendee {src}, line {n} #r{time.time_ns()}.{src}.{n}#"
            reply = await self.call(uid, "chat.send", {"room": "main", "text": text, "cid": f"{uid}-c{n}"})
            if reply is not None and not reply["d"].get("duplicate") and self._in_window(action[2]):
                self.counts["chat"][action[2]] = self.counts["chat"].get(action[2], 0) + 1
        elif kind == "ask":
            n = self.msg_n[uid] = self.msg_n.get(uid, 0) + 1
            text = f"How will the initiative help young founders, asks attendee {self.spec['index'][uid]} ({n})?"
            reply = await self.call(uid, "qa.ask", {"text": text, "anonymous": n % 3 == 0, "cid": f"{uid}-q{n}"})
            if reply is not None and not reply["d"].get("duplicate") and self._in_window(action[2]):
                self.counts["questions"][action[2]] = self.counts["questions"].get(action[2], 0) + 1
                self.questions.append((str(reply["d"]["id"]), uid))
        elif kind == "upvote":
            choices = [q for q, asker in self.questions if asker != uid and (uid, q) not in self.voted]
            if choices:
                qid = random.choice(choices)
                self.voted.add((uid, qid))
                if await self.call(uid, "qa.upvote", {"id": qid}) is not None:
                    self.counts["upvotes"] += 1
        elif kind == "react":
            if await self.call(uid, "react", {"emoji": action[2]}) is not None:
                self.counts["reactions"] += 1

    async def play(self, uid: str, actions: list[list[Any]]) -> None:
        for action in actions:
            await _sleep_until(self.t0 + action[0])
            await self.act(uid, action)

    def result(self) -> dict[str, Any]:
        return {
            "intervals": self.intervals, "joins": self.joins, "errors": self.errors, "counts": self.counts,
            "seen_last_ns": self.seen.last_ns, "seen_count": self.seen.count,
            "latencies": self.totals.latencies.tobytes(), "close_codes": self.totals.close_codes,
            "gaps": sum(c.gaps for c in self.clients.values()),
        }


async def _attendees(pipe: Connection, spec: dict[str, Any]) -> None:
    crowd = Crowd(spec)
    pipe.send(("ready", None))
    kind, _ = await _recv(pipe, 120)
    assert kind == "storm", kind
    t_start = time.time()
    await asyncio.gather(*(crowd.join(uid) for uid in spec["storm"]))
    pipe.send(("joined", {"joined": len(crowd.clients), "t_start": t_start, "t_end": time.time(),
                          "errors": crowd.errors[:20]}))
    kind, t0 = await _recv(pipe, 300)
    assert kind == "go", kind
    crowd.t0 = float(t0)
    cpu0, wall0 = _cpu(), time.monotonic()
    players = [crowd.play(uid, actions) for uid, actions in spec["actions"].items() if actions]
    deadline = crowd.t0 + spec["end"] + 60
    try:
        await asyncio.wait_for(asyncio.gather(*players), max(1.0, deadline - time.time()))
    except TimeoutError:
        crowd.errors.append("actions still running 60 s after the end click")
    await _sleep_until(crowd.t0 + spec["end"] + 1.0)
    # the load generator shares the cores: a saturated one inflates every latency it measures
    load = 100 * (_cpu() - cpu0) / max(time.monotonic() - wall0, 1e-3)
    pipe.send(("done", {**crowd.result(), "cpu_pct": load}))
    kind, _ = await _recv(pipe, 300)
    assert kind == "close", kind
    for uid in list(crowd.clients):
        await crowd.leave(uid)
    await asyncio.sleep(1.2)
    pipe.send(("closed", None))


def attendees_main(pipe: Connection, spec: dict[str, Any]) -> None:
    _run(_attendees, pipe, spec)


# --- moderator -----------------------------------------------------------------------------------

def _fresh() -> Any:
    import httpx

    return httpx.Limits(max_keepalive_connections=0)


FRESH = _fresh()

async def _moderator(pipe: Connection, spec: dict[str, Any]) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {spec['token']}"}
    base = f"{spec['url']}/api/events/{spec['event']}/agenda"
    # no keep-alive: clicks are seconds apart, and a POST on a connection the server has just closed
    # for idleness (uvicorn: 5 s) fails with a ReadError that httpx does not retry
    async with httpx.AsyncClient(headers=headers, timeout=STEP_TIMEOUT, limits=FRESH) as http:
        version = int((await http.get(f"{base}/state")).json()["version"])
        pipe.send(("ready", version))
        kind, t0 = await _recv(pipe, 600)
        assert kind == "go", kind
        clicks: list[dict[str, Any]] = []
        for offset, action in spec["clicks"]:
            await _sleep_until(t0 + offset)
            click_ns = time.time_ns()
            try:
                resp = await http.post(f"{base}/actions", json={"action": action, "expected_version": version})
                body = resp.json()
                status = resp.status_code
            except (httpx.HTTPError, ValueError) as exc:
                body, status = {"error": repr(exc)}, 0
            ack_ns = time.time_ns()
            if status == 200:
                version = int(body["version"])
            current = body.get("segment") if isinstance(body, dict) else None
            clicks.append({"action": action, "status": status, "version": version if status == 200 else None,
                           "click_ns": click_ns, "ack_ns": ack_ns, "offset": offset,
                           "body_status": body.get("status") if isinstance(body, dict) else None,
                           "segment": current.get("id") if isinstance(current, dict) else None,
                           "error": None if status == 200 else json.dumps(body)[:300]})
        pipe.send(("done", {"clicks": clicks}))


def moderator_main(pipe: Connection, spec: dict[str, Any]) -> None:
    _run(_moderator, pipe, spec)


# --- door scanners -------------------------------------------------------------------------------

def badge(secret: str, event: str, pid: str) -> str:
    from server.attendance.badges import sign

    text = sign(secret, event, pid, f"Guest {pid}")
    if pid.startswith("p-forged-"):
        # one character of the signature changed: what a photocopied, edited badge looks like
        text = text[:-1] + ("A" if text[-1] != "A" else "B")
    return text


async def _scan(http: Any, spec: dict[str, Any], gate: str, pid: str, direction: str) -> dict[str, Any]:
    import httpx

    url = spec["urls"][0 if gate == "A" else -1]
    try:
        resp = await http.post(f"{url}/api/events/{spec['event']}/checkins",
                               json={"badge": badge(spec["secret"], spec["event"], pid), "gate": gate,
                                     "direction": direction})
        body = resp.json()
        got = body.get("status") if resp.status_code < 400 else body.get("code")
        return {"http": resp.status_code, "got": got, "t": time.time()}
    except (httpx.HTTPError, ValueError) as exc:
        return {"http": 0, "got": repr(exc)[:120], "t": time.time()}


async def _gate(http: Any, spec: dict[str, Any], items: list[list[Any]], t0: float | None,
                out: list[dict[str, Any]]) -> None:
    for item in items:
        if t0 is not None:
            at, gate, pid, direction, expect, seg = item
            await _sleep_until(t0 + at)
        else:
            gate, pid, direction, expect = item
            seg = ""
        done = await _scan(http, spec, gate, pid, direction)
        out.append({"gate": gate, "id": pid, "dir": direction, "expect": expect, "segment": seg, **done})


async def _scanners(pipe: Connection, spec: dict[str, Any]) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {spec['token']}"}
    async with httpx.AsyncClient(headers=headers, timeout=STEP_TIMEOUT, limits=FRESH) as http:
        pipe.send(("ready", None))
        kind, _ = await _recv(pipe, 120)
        assert kind == "doors", kind
        before: list[dict[str, Any]] = []
        first = [s for s in spec["scans_a"] if s[3] == "checked_in"]
        rest = [s for s in spec["scans_a"] if s[3] != "checked_in"]
        for batch in (first, rest):  # a repeat scan must come after the first one
            await asyncio.gather(*(_gate(http, spec, [s for s in batch if s[0] == g], None, before)
                                   for g in ("A", "B")))
        pipe.send(("opened", {"scans": before}))
        kind, t0 = await _recv(pipe, 300)
        assert kind == "go", kind
        during: list[dict[str, Any]] = []
        await asyncio.wait_for(
            asyncio.gather(*(_gate(http, spec, [s for s in spec["scans"] if s[1] == g], float(t0), during)
                             for g in ("A", "B"))),
            spec["end"] + 60)
        pipe.send(("done", {"scans": before + during}))


def scanners_main(pipe: Connection, spec: dict[str, Any]) -> None:
    _run(_scanners, pipe, spec)
