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


@cache
def source(name: str) -> str:
    return files("server.store").joinpath("lua", f"{name}.lua").read_text()


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
