"""The organizer page in real Chromium: the online count changes when someone joins."""

from __future__ import annotations

import re

from playwright.async_api import Page, async_playwright

from server.attendance.badges import sign
from tests.attendance.conftest import ORGANIZER, post
from tests.support.servers import EVENT, SECRET, Node
from tests.support.wsclient import Client, token

ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


async def shows(page: Page, figure: str, value: int) -> None:
    """Wait (10 s at most) until the dashboard shows exactly ``value`` for ``figure``."""
    await page.locator(f'[data-figure="{figure}"]', has_text=re.compile(f"^{value}$")).wait_for(timeout=10_000)


async def test_organizer_page_shows_the_online_count_change_after_a_new_connection(node: Node) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{node.url}/organizer?event={EVENT}#token={ORGANIZER}")
            online = page.locator('[data-figure="online_now"]')
            await online.filter(has_text=re.compile(r"^0$")).wait_for(timeout=10_000)
            viewer = await Client.connect(node.ws_url, token=token("attendee", "New Viewer", sub="v-1"),
                                          topics=[])
            # the push arrives within the once-a-second tick
            await shows(page, "online_now", 1)
            scan = await post(node, "/checkins", {"badge": sign(SECRET, EVENT, "att-1", "Hall Guest")})
            assert scan.status_code == 201
            await shows(page, "in_person_now", 1)
            await shows(page, "reached", 2)
            await viewer.close()
            await shows(page, "online_now", 0)
            assert errors == []
        finally:
            await browser.close()


async def test_checkin_page_shows_green_then_orange_for_a_repeated_badge(node: Node) -> None:
    desk = token("checkin", "Door", sub="desk-2")
    badge = sign(SECRET, EVENT, "att-5", "Albert Krisskoy")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{node.url}/checkin?event={EVENT}#token={desk}")
            for expected in ("ok", "warn"):
                await page.fill('input[name="badge"]', badge)
                await page.click('form.scan-manual button')
                await page.locator(f'.scan-result[data-state="{expected}"]').wait_for(timeout=10_000)
            await page.fill('input[name="badge"]', badge[:-3] + "xyz")
            await page.click('form.scan-manual button')
            await page.locator('.scan-result[data-state="bad"]').wait_for(timeout=10_000)
        finally:
            await browser.close()
