"""Redis: the connection (embedded when none is configured), key names and Lua scripts."""
