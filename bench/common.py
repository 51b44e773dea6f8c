"""What every benchmark shares: nodes as subprocesses, /proc sampling, percentiles, the result line.

Nodes are real ``plenary serve`` processes (or ``python -m bench.shim serve``, the same server with
one extra topic declared, when a benchmark needs a topic no capability declares yet). They share
the Redis named by ``REDIS_URL`` (default ``redis://127.0.0.1:6379/10``) under a key prefix of
their own, so a benchmark never touches anyone else's keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
EVENT = "zgc-sco-2021"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS


def key_prefix() -> str:
    """Our own prefix: one per run, so history and chat rooms of earlier runs never mix in."""
    base = os.environ.get("TEST_KEY_PREFIX") or "bench"
    return f"{base}-{secrets.token_hex(3)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(message: str) -> None:
    """Progress goes to stderr; stdout's last line is the result."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def print_result(result: dict[str, Any]) -> None:
    print(json.dumps(result, separators=(",", ":")), flush=True)


# --- /proc sampling --------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class CpuWindow:
    """CPU used by a set of processes between :meth:`start` and :meth:`stop`."""

    pids: Sequence[int]
    cpu0: float = 0.0
    t0: float = 0.0
    cpu: float = 0.0
    wall: float = 0.0

    def start(self) -> None:
        self.cpu0 = sum(cpu_seconds(p) for p in self.pids)
        self.t0 = time.monotonic()

    def stop(self) -> None:
        self.cpu = sum(cpu_seconds(p) for p in self.pids) - self.cpu0
        self.wall = time.monotonic() - self.t0

    @property
    def pct(self) -> float:
        return 100.0 * self.cpu / self.wall if self.wall > 0 else 0.0


# --- statistics ------------------------------------------------------------------------------

def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence (``q`` in 0..100)."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[rank])


def r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# --- nodes -----------------------------------------------------------------------------------

@dataclass
class Node:
    """One server process: ``plenary serve`` by default."""

    env: dict[str, str]
    var_dir: Path
    module: str = "server"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.var_dir / f"node-{self.port}.log"

    def start(self) -> Node:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )
        out.close()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node {self.url} not ready after {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def node_env(prefix: str, secret: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLENARY_")}
    env.update({
        "REDIS_URL": redis_url(),
        "PLENARY_SECRET": secret,
        "PLENARY_KEY_PREFIX": prefix,
        "PLENARY_AGENDA_DIR": str(ROOT / "agenda"),
        # a join storm from one address is the point of the benchmark, not an attack
        "PLENARY_CONNECT_RATE": "1000000",
        "PLENARY_LOG_LEVEL": "warning",
        "PLENARY_SHUTDOWN_GRACE": "3",
        "PLENARY_DRAIN_SECONDS": "0",
        "PLENARY_ICE_ADDRESSES": "127.0.0.1",
    })
    env.update(extra or {})
    return env


@contextlib.contextmanager
def nodes(count: int, prefix: str, secret: str, extra_env: dict[str, str] | None = None,
          module: str = "server") -> Iterator[list[Node]]:
    """``count`` nodes on free ports, stopped (and their temp dir removed) however the block ends."""
    # BENCH_NODE_MODULE runs the nodes through another entry point (a profiler wrapper, say)
    module = os.environ.get("BENCH_NODE_MODULE") or module
    var = Path(tempfile.mkdtemp(prefix="plenary-bench-"))
    started: list[Node] = []
    try:
        for i in range(count):
            started.append(Node(node_env(prefix, secret, extra_env), var / f"n{i}", module=module).start())
        for node in started:
            node.wait_ready()
        yield started
    except BaseException:
        for node in started:
            log(f"node {node.port} log tail:\n{node.tail()}")
        raise
    finally:
        for node in started:
            try:
                node.stop()
            except Exception as exc:  # keep stopping the others
                log(f"stopping node {node.port} failed: {exc}")
        shutil.rmtree(var, ignore_errors=True)


async def delete_prefix(url: str, prefix: str) -> int:
    """Remove this run's keys (and nothing else) once it is over."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await client.delete(*batch)
                batch = []
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted
