"""Load generator: many Plenary WebSocket clients per process, several processes per run.

Each client is a bare ``asyncio.Protocol`` speaking just enough RFC 6455 (a handshake, masked
frames out, unmasked frames in, pong for ping) so that receiving costs the load generator as
little CPU as possible: the machine has two cores and the server under test needs one of them.

Every benchmark message carries a marker ``#b<run>.<ts_ns>.<source>.<n>#`` anywhere in its JSON
(a push's ``d``, or a chat message's text), so receivers need no JSON parsing and do not depend
on the exact shape of a capability's push. ``ts_ns`` is the wall clock at (scheduled) send time,
shared by all processes of the machine; ``n`` counts 0, 1, 2... per source, which gives gaps and
duplicates per client and per source.

A worker talks to the driver over a pipe: ``ready`` -> ``go`` -> ``sent`` -> ``expect`` ->
``result``; every wait in it is bounded by the driver's deadlines.
"""

from __future__ import annotations

import array
import asyncio
import base64
import itertools
import json
import multiprocessing
import os
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

MAX_PER_PROCESS = 5000  # 20,000 open files per process, and one core can parse only so much
CONNECT_TIMEOUT = 30.0
DEBUG_DUPS = bool(os.environ.get("BENCH_DEBUG_DUPS"))


def marker(run: str, ts_ns: int, source: int, n: int) -> str:
    return f"#b{run}.{ts_ns}.{source}.{n}#"


def masked_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A client frame: FIN, ``opcode``, masked as RFC 6455 requires of clients."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    if not n:
        return head + mask
    key = (mask * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + mask + body


@dataclass
class Totals:
    """What one worker process saw, summed over its clients."""

    pattern: re.Pattern[bytes]
    latencies: array.array = field(default_factory=lambda: array.array("q"))  # type: ignore[type-arg]
    received: int = 0
    first_rx: int = 0
    last_rx: int = 0
    target: int = 1 << 62
    done: int = 0
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    clients: int = 0
    closed: int = 0
    close_codes: dict[int, int] = field(default_factory=dict)


class WsClient(asyncio.Protocol):
    """One WebSocket client; joins with ``hello`` and then counts marked messages."""

    def __init__(self, totals: Totals, host: str, port: int, path: str, hello: dict[str, Any],
                 topic: str) -> None:
        self.totals = totals
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: plenary.v1\r\n\r\n"
        ).encode()
        self.hello = hello
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.buf = bytearray()
        self.fragments: list[bytes] = []
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[dict[str, Any]] = loop.create_future()
        # the welcome comes before the topics are synced: a client is in the room once its snapshot is
        self.synced: asyncio.Future[None] = loop.create_future()
        self.snapshot_tag = b'"type":"snapshot","topic":%s' % json.dumps(topic).encode()
        self.last: dict[int, int] = {}
        self.count = 0
        self.gaps = 0
        self.dups = 0
        self.is_closed = False

    # --- requests ---------------------------------------------------------------------------------

    def call(self, op: str, d: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        request_id = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = fut
        self.send(json.dumps({"op": op, "id": request_id, "d": d}).encode())
        return fut

    def send(self, payload: bytes, opcode: int = 1) -> None:
        if self.transport is not None and not self.is_closed:
            self.transport.write(masked_frame(payload, opcode))

    # --- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but they write all the same
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.is_closed:
            self.is_closed = True
            self.totals.closed += 1
        for fut in (self.joined, self.synced):
            if not fut.done():
                fut.set_exception(ConnectionError(f"closed before joining ({exc})"))
                fut.exception()  # whoever awaits it still gets it; nobody else needs a log line
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection closed"))
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[:end + 4]
            if b" 101 " not in status:
                self.joined.set_exception(ConnectionError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            self.pending[0] = self.joined
            self.send(json.dumps({"op": "hello", "id": 0, "d": self.hello}).encode())
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            self.frame(b0, bytes(buf[pos + head:end]))
            pos = end
        if pos:
            del buf[:pos]

    def frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        if opcode == 9:
            self.send(payload, 10)
            return
        if opcode == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.totals.close_codes[code] = self.totals.close_codes.get(code, 0) + 1
            self.send(payload[:2], 8)
            self.is_closed = True
            self.totals.closed += 1
            assert self.transport is not None
            self.transport.close()
            return
        if opcode in (0, 1, 2):
            if not b0 & 0x80:
                self.fragments.append(payload)
                return
            if self.fragments:
                payload = b"".join([*self.fragments, payload])
                self.fragments = []
            self.message(payload)

    def message(self, payload: bytes) -> None:
        if not self.synced.done() and self.snapshot_tag in payload:
            self.synced.set_result(None)
        if DEBUG_DUPS:
            self.seen = [*getattr(self, "seen", [])[-3:], payload[:300]]
        if self.pending and (b'"type":"ack"' in payload or b'"type":"error"' in payload):
            for msg in json.loads(payload):
                if msg.get("type") in ("ack", "error"):
                    fut = self.pending.pop(msg.get("id"), None)  # type: ignore[arg-type]
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
        totals = self.totals
        found = totals.pattern.findall(payload)
        if not found:
            return
        now = time.time_ns()
        last = self.last
        append = totals.latencies.append
        for ts, source, n in found:
            src, seq = int(source), int(n)
            prev = last.get(src, -1)
            if seq <= prev:
                self.dups += 1
                if DEBUG_DUPS and self.dups <= 2:
                    print(f"duplicate {source}.{n} after {prev}: {payload[:1500]!r}\n  earlier: {self.seen!r}",
                          file=sys.stderr, flush=True)
                continue
            if seq > prev + 1:
                self.gaps += seq - prev - 1
            last[src] = seq
            append(now - int(ts))
            self.count += 1
            if self.count == totals.target:
                totals.done += 1
                if totals.done >= totals.clients:
                    totals.all_done.set()
        totals.received += len(found)
        if not totals.first_rx:
            totals.first_rx = now
        totals.last_rx = now


# --- the worker process --------------------------------------------------------------------------

async def _connect(totals: Totals, host: str, port: int, path: str, hello: dict[str, Any], topic: str,
                   sem: asyncio.Semaphore, fails: list[str]) -> WsClient | None:
    loop = asyncio.get_running_loop()
    async with sem:
        err = ""
        for _ in range(3):
            try:
                _, client = await asyncio.wait_for(
                    loop.create_connection(lambda: WsClient(totals, host, port, path, hello, topic), host, port),
                    CONNECT_TIMEOUT)
                reply = await asyncio.wait_for(client.joined, CONNECT_TIMEOUT)
                if reply.get("type") != "ack":
                    raise ConnectionError(f"hello refused: {reply.get('code')}: {reply.get('message')}")
                await asyncio.wait_for(client.synced, CONNECT_TIMEOUT)
                return client
            except (OSError, TimeoutError, ConnectionError) as exc:
                err = repr(exc)[:160]
                await asyncio.sleep(0.2)
        fails.append(err)
        return None


def _hello(spec: dict[str, Any], index: int) -> dict[str, Any]:
    if spec.get("secret"):
        from server.auth import mint

        token = mint(spec["secret"], event=spec["event"], role=spec.get("role", "attendee"),
                     name=f"Bench {index}", sub=f"bench-{spec['run']}-{index}", ttl=3600)
        d: dict[str, Any] = {"token": token}
    else:
        d = {"guest": {"name": f"Bench {index}"}}
    if spec.get("topics") is not None:
        d["topics"] = spec["topics"]
    return d


async def _send_loop(client: WsClient, source: int, spec: dict[str, Any], until: float,
                     stats: dict[str, Any]) -> None:
    """One sender: chat messages at ``rate`` per second until ``until``; a refused send is retried later."""
    period = 1.0 / spec["per_sender_rate"]
    await asyncio.sleep((source * 0.618 % 1.0) * period)  # spread senders over the period
    n = 0
    attempts = 0
    while time.time() < until and attempts < 100_000:
        attempts += 1
        started = time.time()
        text = f"{spec['text_prefix']}{marker(spec['run'], time.time_ns(), source, n)}"
        d = {spec["room_field"]: spec["room"], spec["text_field"]: text, spec["cid_field"]: f"b{source}-{n}"}
        try:
            reply = await asyncio.wait_for(client.call(spec["op"], d), 10.0)
        except (TimeoutError, ConnectionError):
            stats["timeouts"] += 1
            break
        if reply.get("type") == "ack":
            stats["acked"] += 1
            stats["ack_ms"].append((time.time() - started) * 1000)
            n += 1
        elif reply.get("code") == "rate_limited":
            stats["rate_limited"] += 1
            wait = float(reply.get("retry_after") or reply.get("retry_after_ms", 1000) / 1000)
            await asyncio.sleep(min(max(wait, 0.05), 5.0))
            continue
        else:
            stats["errors"] += 1
            if len(stats["error_sample"]) < 3:
                stats["error_sample"].append({k: reply.get(k) for k in ("code", "message")})
        await asyncio.sleep(max(0.0, period - (time.time() - started)))
    stats["per_source"][source] = n


async def _worker(pipe: Connection, spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    totals = Totals(re.compile(rb"#b" + spec["run"].encode() + rb"\.(\d+)\.(\d+)\.(\d+)#"))
    sem = asyncio.Semaphore(spec.get("concurrency", 100))
    fails: list[str] = []
    first, count, urls = spec["first"], spec["n"], spec["urls"]
    t0 = time.time()
    attempts = [
        _connect(totals, *urls[(first + i) % len(urls)], spec["path"], _hello(spec, first + i), spec["topic"],
                 sem, fails)
        for i in range(count)
    ]
    results = await asyncio.gather(*attempts)
    t1 = time.time()
    clients = [c for c in results if c is not None]
    by_index = {first + i: c for i, c in enumerate(results) if c is not None}
    totals.clients = len(clients)
    pipe.send(("ready", {"connected": len(clients), "failed": len(fails), "fail_sample": fails[:3],
                         "t_start": t0, "t_ready": t1}))

    kind, go = await loop.run_in_executor(None, pipe.recv)
    assert kind == "go"
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    tg = time.monotonic()
    stats: dict[str, Any] = {"acked": 0, "rate_limited": 0, "errors": 0, "timeouts": 0, "error_sample": [],
                             "ack_ms": [], "per_source": {}}
    senders = [(i, by_index[i]) for i in go.get("senders", []) if i in by_index]
    if senders:
        await asyncio.gather(*(_send_loop(c, i, go, go["until"], stats) for i, c in senders))
    pipe.send(("sent", stats))

    kind, expect = await loop.run_in_executor(None, pipe.recv)
    assert kind == "expect"
    totals.target = expect["per_client"]
    totals.done = sum(1 for c in clients if c.count >= totals.target)
    if totals.done >= totals.clients:
        totals.all_done.set()
    timed_out = False
    try:
        await asyncio.wait_for(totals.all_done.wait(), max(0.5, expect["deadline"] - time.time()))
    except TimeoutError:
        timed_out = True
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - tg
    # lost: acknowledged messages a client never got (a hole, or missing at the end of a source)
    acked: dict[int, int] | None = expect.get("acked")
    lost = None
    if acked is not None:
        lost = sum(c.gaps for c in clients) + sum(
            max(0, count - (c.last.get(int(src), -1) + 1)) for c in clients for src, count in acked.items())
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    pipe.send(("result", {
        "clients": len(clients), "received": totals.received, "unique": sum(c.count for c in clients),
        "gaps": sum(c.gaps for c in clients), "duplicates": sum(c.dups for c in clients), "lost": lost,
        "clients_short": sum(1 for c in clients if c.count < totals.target), "timed_out": timed_out,
        "first_rx": totals.first_rx, "last_rx": totals.last_rx, "closed": totals.closed,
        "close_codes": totals.close_codes,
        "client_cpu_pct": 100 * cpu / max(wall, 1e-3),
        "latencies": totals.latencies.tobytes(),
    }))


def worker_main(pipe: Connection, spec: dict[str, Any]) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.run(_worker(pipe, spec))
    except Exception as exc:
        pipe.send(("crashed", repr(exc)))
    finally:
        pipe.close()
        os._exit(0)  # skip closing thousands of sockets one by one


class Fleet:
    """The client processes of one run, driven step by step; every wait bounded."""

    def __init__(self, total: int, base_spec: dict[str, Any], per_process: int = MAX_PER_PROCESS,
                 processes: int | None = None) -> None:
        procs = processes or max(1, -(-total // per_process))
        procs = max(procs, -(-total // MAX_PER_PROCESS))
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        start = 0
        for i in range(procs):
            n = total // procs + (1 if i < total % procs else 0)
            parent, child = ctx.Pipe()
            spec = dict(base_spec, first=start, n=n)
            proc = ctx.Process(target=worker_main, args=(child, spec), daemon=True)
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)
            start += n

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _collect(self, kind: str, timeout: float) -> list[Any]:
        out = []
        deadline = time.monotonic() + timeout
        for pipe in self.pipes:
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"a client process sent no {kind!r} within {timeout:.0f} s")
            got, data = pipe.recv()
            if got != kind:
                raise RuntimeError(f"client process: expected {kind!r}, got {got!r}: {data}")
            out.append(data)
        return out

    def ready(self, timeout: float) -> list[dict[str, Any]]:
        return self._collect("ready", timeout)

    def go(self, **go: Any) -> None:
        for pipe in self.pipes:
            pipe.send(("go", go))

    def sent(self, timeout: float) -> list[dict[str, Any]]:
        return self._collect("sent", timeout)

    def expect(self, per_client: int, deadline: float, acked: dict[int, int] | None = None
               ) -> list[dict[str, Any]]:
        for pipe in self.pipes:
            pipe.send(("expect", {"per_client": per_client, "deadline": deadline, "acked": acked}))
        return self._collect("result", deadline - time.time() + 30)

    def close(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=5)
        for pipe in self.pipes:
            pipe.close()


def merge(results: list[dict[str, Any]]) -> tuple[dict[str, Any], list[int]]:
    """Sum the workers' counters and pool their latencies (ns), sorted."""
    lat = array.array("q")
    for res in results:
        lat.frombytes(res.pop("latencies"))
    merged: dict[str, Any] = {}
    for key in ("clients", "received", "unique", "gaps", "duplicates", "clients_short", "closed"):
        merged[key] = sum(res[key] for res in results)
    merged["first_rx"] = min((res["first_rx"] for res in results if res["first_rx"]), default=0)
    merged["last_rx"] = max((res["last_rx"] for res in results), default=0)
    merged["timed_out"] = any(res["timed_out"] for res in results)
    losts = [res["lost"] for res in results if res["lost"] is not None]
    merged["lost"] = sum(losts) if losts else None
    merged["client_cpu_pct"] = round(sum(res["client_cpu_pct"] for res in results), 1)
    codes: dict[str, int] = {}
    for res in results:
        for code, n in res["close_codes"].items():
            codes[str(code)] = codes.get(str(code), 0) + n
    merged["close_codes"] = codes
    return merged, sorted(lat)
