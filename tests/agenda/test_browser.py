"""Real Chromium: a moderator clicks Next and an attendee's page follows without a reload."""

from __future__ import annotations

import shutil

from playwright.sync_api import expect, sync_playwright

from tests.support.servers import EVENT, Node
from tests.support.wsclient import token

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless=new", "--disable-background-networking", "--disable-component-update",
        "--disable-gpu", "--disable-dev-shm-usage"]


def test_moderator_next_moves_the_attendee_page(node: Node) -> None:
    mod = token("moderator", "Tim Luan")
    assert node.post(f"/api/events/{EVENT}/agenda/actions", mod,
                     json={"action": "start", "expected_version": 0}).status_code == 200
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            moderator = browser.new_context().new_page()
            attendee = browser.new_context().new_page()
            for page in (moderator, attendee):
                page.on("pageerror", lambda exc: errors.append(str(exc)))
            attendee.goto(f"{node.url}/?event={EVENT}#token={token('attendee', 'Aida')}")
            now = attendee.locator("#agenda .agenda-now")
            expect(now).to_have_attribute("data-segment", "welcome-cui-shuqiang", timeout=15_000)
            expect(attendee.locator("#agenda .agenda-item.live")).to_have_attribute(
                "data-segment", "welcome-cui-shuqiang")
            expect(attendee.locator("#agenda .agenda-countdown")).to_contain_text("left")

            moderator.goto(f"{node.url}/moderator?event={EVENT}#token={mod}")
            next_button = moderator.locator("#agenda-control button[data-action=next]")
            expect(next_button).to_be_enabled(timeout=15_000)
            attendee.evaluate("window.__same_document = true")  # gone if the page reloads
            next_button.click()

            expect(now).to_have_attribute("data-segment", "video-vladimir-norov", timeout=10_000)
            expect(now).to_contain_text("Vladimir Norov")
            expect(attendee.locator("#agenda .agenda-item.live")).to_have_attribute(
                "data-segment", "video-vladimir-norov")
            expect(attendee.locator("#agenda .agenda-next")).to_contain_text("Saidzoda Zohir Ozod")
            assert attendee.evaluate("window.__same_document") is True
            expect(moderator.locator("#agenda-control .agenda-log tbody tr")).to_have_count(2, timeout=10_000)

        finally:
            browser.close()
    assert not errors, errors
