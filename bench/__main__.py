"""``python -m bench <name> [args]``: runs ``bench.<name>.main(argv)``."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("fanout", "chat", "presence", "relay", "rehearsal")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench {{{','.join(BENCHES)}}} [options]  (each takes --help)")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHES:
        print(f"bench: unknown benchmark {name!r}; choose one of {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        # only a missing bench module is "not written yet"; a missing dependency inside it is a real error
        if exc.name != f"bench.{name}":
            raise
        print(f"bench: bench/{name}.py does not exist yet (benchmark {name!r} is not available)",
              file=sys.stderr)
        return 2
    result = module.main(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
