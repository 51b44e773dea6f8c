"""Lua scripts, one file each under ``lua/``, loaded once per client and run by SHA.

Each script's header names its KEYS and ARGV. Callers go through a small Python function that
builds the keys and arguments, so no key name is ever assembled inside Lua.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

INCLUDE = "--#include "


@cache
def source(name: str) -> str:
    """A script's text, with ``--#include lib_x`` lines replaced by that library's text.

    Redis 6.2 (the embedded server) has no functions, so shared Lua is inlined at load time.
    """
    text = files("server.store").joinpath("lua", f"{name}.lua").read_text()
    out = []
    for line in text.splitlines():
        if line.startswith(INCLUDE):
            out.append(source(line[len(INCLUDE):].strip()))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


class Scripts:
    """Registered scripts for one client; EVALSHA with a transparent reload after SCRIPT FLUSH."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts: dict[str, AsyncScript] = {}

    def __getitem__(self, name: str) -> AsyncScript:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self._redis.register_script(source(name))
        return script

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return await self[name](keys=keys, args=args)
