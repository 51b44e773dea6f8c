"""Run Plenary as a real process (``plenary serve``) on a free port against a real Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-0123456789abcdef0123456789abcdef"
EVENT = "zgc-sco-2021"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


@dataclass
class Node:
    """One ``plenary serve`` process."""

    redis_url: str
    var_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    agenda_dir: Path = ROOT / "agenda"
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLENARY_")}
        env.update({
            "REDIS_URL": self.redis_url,
            "PLENARY_SECRET": SECRET,
            "PLENARY_VAR_DIR": str(self.var_dir),
            "PLENARY_AGENDA_DIR": str(self.agenda_dir),
            "PLENARY_CONNECT_RATE": "5000",
            "PLENARY_SHUTDOWN_GRACE": "5",
            "PLENARY_DRAIN_SECONDS": "0.5",
            "PLENARY_LOG_LEVEL": "warning",
            "PLENARY_ICE_ADDRESSES": "127.0.0.1",
        })
        # helpers working side by side on one Redis keep apart by prefix (channels ignore db numbers)
        env["PLENARY_KEY_PREFIX"] = os.environ.get("TEST_KEY_PREFIX", "plenary-test")
        env.update(self.env)
        return env

    def start(self, wait: bool = True) -> Node:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.var_dir / f"node-{self.port}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.environ(), stdout=log, stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"node exited with {self.process.returncode}:\n{self.log()}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, what=f"{self.url}/readyz")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path and self.log_path.exists() else ""

    def terminate(self, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stacks = _dump_stacks(self.process.pid)
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"node did not exit within {timeout} s of SIGTERM\n{stacks}\n{self.log()}") from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def get(self, path: str, token: str | None = None, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.get(self.url + path, headers=headers, timeout=10, **kw)

    def post(self, path: str, token: str | None = None, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.post(self.url + path, headers=headers, timeout=10, **kw)


def _dump_stacks(pid: int) -> str:
    """What a stuck node is doing, for the failure message (py-spy, when installed)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return "(install py-spy to see the stuck node's stacks)"
    try:
        return subprocess.run([str(spy), "dump", "--pid", str(pid), "--locals"], capture_output=True, text=True,
                              timeout=20).stdout[-6000:]
    except (subprocess.TimeoutExpired, OSError) as exc:
        return f"(py-spy failed: {exc})"


@contextlib.contextmanager
def running(redis_url: str, var_dir: Path, **kw) -> Iterator[Node]:  # type: ignore[no-untyped-def]
    node = Node(redis_url, var_dir, **kw).start()
    try:
        yield node
    finally:
        try:
            node.terminate()
        finally:
            node.kill()
