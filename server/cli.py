"""The ``plenary`` command: serve, mint tokens, check and import agendas, print badges."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from server.config import ConfigError, Settings, ensure_secret, load_settings, markdown_table


def _fail(message: str, code: int = 2) -> int:
    print(f"plenary: {message}", file=sys.stderr)
    return code


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.agenda.files import AgendaError, load_events
    from server.auth import Role, mint
    from server.logs import configure
    from server.store.connection import EmbeddedRedis, check_reachable

    try:
        settings = ensure_secret(load_settings(host=args.host, port=args.port))
    except ConfigError as exc:
        return _fail(str(exc))
    configure(settings.log_level)
    try:
        events = load_events(Path(settings.agenda_dir))
    except AgendaError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return _fail("PLENARY_AGENDA_DIR: the event files above have problems")
    busy = _port_in_use(settings.host, settings.port)
    if busy:
        return _fail(f"PLENARY_PORT: cannot listen on {settings.host}:{settings.port}: {busy}")
    embedded: EmbeddedRedis | None = None
    try:
        if settings.redis_url is None:
            embedded = EmbeddedRedis(settings.var_path / "redis")
            settings = dataclasses.replace(settings, redis_url=embedded.start())
        assert settings.redis_url is not None
        asyncio.run(check_reachable(settings.redis_url))
    except ConfigError as exc:
        if embedded is not None:
            embedded.stop()
        return _fail(str(exc))
    try:
        from server.app import create_app

        app = create_app(settings)
        _banner(settings, events, mint, Role)
        server = _Server(uvicorn.Config(
            app, host=settings.host, port=settings.port, ws="websockets-sansio", ws_max_size=64 * 1024,
            ws_ping_interval=10, ws_ping_timeout=15, timeout_graceful_shutdown=int(settings.shutdown_grace),
            log_config=None, access_log=False, lifespan="on", server_header=False,
            ws_per_message_deflate=False, backlog=4096,
        ), app=app, drain=settings.drain_seconds,
            deadline=settings.drain_seconds + settings.shutdown_grace + 5,
            on_deadline=embedded.stop if embedded is not None else None)
        # uvicorn re-raises the signal it caught once it has shut down; with this handler that
        # becomes a clean exit that still runs the finally below (and stops the embedded Redis)
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            server.run()
        except OSError as exc:
            return _fail(f"PLENARY_PORT: cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
        return 0 if server.started else 1
    finally:
        if embedded is not None:
            embedded.stop()


def _port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound now, or None; checked before anything else starts."""
    import socket

    if port == 0:
        return None
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


class _Server:
    """uvicorn's server, with a drain step first: /readyz says 503 before sockets are closed."""

    def __init__(self, config: Any, app: Any, drain: float, deadline: float,
                 on_deadline: Any = None) -> None:
        import uvicorn

        outer = self

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                if not outer.watching:
                    # the promise is an exit within the grace period: if anything hangs, leave anyway
                    outer.watching = True
                    watchdog = threading.Timer(outer.deadline, outer.give_up)
                    watchdog.daemon = True
                    watchdog.start()
                if app.state.draining or outer.drain <= 0:
                    super().handle_exit(sig, frame)
                    return
                app.state.draining = True  # /readyz answers 503 from now on
                # uvicorn polls should_exit every 0.1 s, so a timer thread may set it; scheduling on
                # the event loop from inside a signal handler is not reliable under uvloop
                stop = super().handle_exit
                timer = threading.Timer(outer.drain, stop, args=(sig, frame))
                timer.daemon = True
                timer.start()

        self.drain = drain
        self.watching = False
        self.deadline = deadline
        self.on_deadline = on_deadline
        self.server = Server(config)

    def give_up(self) -> None:
        import logging
        import os

        logging.getLogger("plenary.app").error("shutdown took over %.0f s; exiting now", self.deadline)
        if self.on_deadline is not None:
            self.on_deadline()
        os._exit(3)

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def run(self) -> None:
        self.server.run()


def _banner(settings: Settings, events: dict[str, Any], mint: Any, role: Any) -> None:
    base = settings.base_url
    lines = [f"Plenary is serving {len(events)} event(s) at {base}", ""]
    for event in events.values():
        moderator = mint(settings.secret, event=event.id, role=role.MODERATOR, name="Moderator",
                         sub="moderator-console", ttl=7 * 86400)
        organizer = mint(settings.secret, event=event.id, role=role.ORGANIZER, name="Organizer",
                         sub="organizer-console", ttl=7 * 86400)
        checkin = mint(settings.secret, event=event.id, role=role.CHECKIN, name="Door staff",
                       sub="checkin-desk", ttl=7 * 86400)
        q = f"?event={event.id}"
        lines += [
            f"  {event.info.title} ({event.id})",
            f"    attendees  {base}/{q}",
            f"    hall screen {base}/screen{q}",
            f"    speaker    {base}/speaker{q}   (needs a speaker token: plenary token --role speaker ...)",
            f"    moderator  {base}/moderator{q}#token={moderator}",
            f"    organizer  {base}/organizer{q}#token={organizer}",
            f"    check-in   {base}/checkin{q}#token={checkin}",
            "",
        ]
    print("\n".join(lines), flush=True)


def token(args: argparse.Namespace) -> int:
    from server.auth import MINTABLE_ROLES, Role, mint

    try:
        settings = ensure_secret(load_settings())
    except ConfigError as exc:
        return _fail(str(exc))
    if args.role not in {r.value for r in MINTABLE_ROLES}:
        return _fail(f"--role must be one of {', '.join(r.value for r in MINTABLE_ROLES)}")
    traits = dict(t.split("=", 1) for t in args.trait or [])
    assert settings.secret is not None
    print(mint(settings.secret, event=args.event, role=Role(args.role), name=args.name, ttl=args.ttl,
               sub=args.sub, traits=traits or None))
    return 0


def agenda_check(args: argparse.Namespace) -> int:
    from server.agenda.files import check

    problems = check([Path(p) for p in args.files])
    for line in problems:
        print(line)
    if not problems:
        print(f"{len(args.files)} file(s) OK")
    return 1 if problems else 0


def agenda_import(args: argparse.Namespace) -> int:
    from server.agenda.formats import import_frab

    try:
        text = import_frab(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return _fail(f"{args.file}: {exc}", 1)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def badges(args: argparse.Namespace) -> int:
    from server.attendance.badges import cli as badges_cli

    return badges_cli(args)


def config(args: argparse.Namespace) -> int:
    print(markdown_table())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="plenary", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the events in PLENARY_AGENDA_DIR")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.set_defaults(func=serve)
    t = sub.add_parser("token", help="print a signed token (JWT)")
    t.add_argument("--event", required=True)
    t.add_argument("--role", required=True)
    t.add_argument("--name", required=True)
    t.add_argument("--ttl", type=float, default=12 * 3600, help="seconds (default 12 h)")
    t.add_argument("--sub", help="user id (default: random)")
    t.add_argument("--trait", action="append", help="key=value, e.g. country=Egypt")
    t.set_defaults(func=token)
    a = sub.add_parser("agenda", help="event files").add_subparsers(dest="agenda_command", required=True)
    c = a.add_parser("check", help="validate event files; exit 1 with one line per problem")
    c.add_argument("files", nargs="+")
    c.set_defaults(func=agenda_check)
    i = a.add_parser("import", help="turn a frab/pretalx schedule.json into an event file")
    i.add_argument("file")
    i.add_argument("--out")
    i.set_defaults(func=agenda_import)
    b = sub.add_parser("badges", help="write printable QR badges and a CSV")
    b.add_argument("--event", required=True)
    group = b.add_mutually_exclusive_group(required=True)
    group.add_argument("--csv", help="registrants CSV with a name column (and optional id, organisation, country)")
    group.add_argument("--count", type=int)
    b.add_argument("--out", required=True)
    b.set_defaults(func=badges)
    g = sub.add_parser("config", help="print the configuration table (Markdown)")
    g.set_defaults(func=config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
