"""A page survives its server going away: it reconnects by itself, without a reload."""

from __future__ import annotations

from pathlib import Path

from tests.support.browser import chromium
from tests.support.servers import Node


def test_page_recovers_without_reload_when_its_node_restarts(
    clean_redis: object, redis_url: str, tmp_path: Path
) -> None:
    node = Node(redis_url, tmp_path / "var").start()
    try:
        with chromium() as browser:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.add_init_script("localStorage.setItem('plenary.guest', JSON.stringify({name: 'Nodira'}))")
            page.goto(f"{node.url}/?event=zgc-sco-2021")
            page.wait_for_selector("#status[data-state='live']", timeout=15_000)
            page.evaluate("window.__sameDocument = true")
            node.kill()
            page.wait_for_selector("#status[data-state='reconnecting']", timeout=15_000)
            node.start()  # the same port, as a supervisor would restart it
            page.wait_for_selector("#status[data-state='live']", timeout=30_000)
            assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"
            assert not errors, errors
    finally:
        node.terminate()
        node.kill()
