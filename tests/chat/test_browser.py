"""Real Chromium: two attendees chat across two nodes, hostile text stays text, moderation and Q&A show up."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.servers import EVENT, Node
from tests.support.wsclient import token

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless=new", "--disable-background-networking", "--disable-component-update",
        "--disable-gpu", "--disable-dev-shm-usage"]
XSS = "<img src=x onerror=alert(1)>"



@pytest.fixture
def browser(chat_cluster: tuple[Node, Node], clean_redis: redis.Redis) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser: Browser, url: str, dialogs: list[str]) -> Page:
    page = browser.new_context().new_page()

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    return page


def attendee_url(node: Node, name: str, sub: str) -> str:
    return f"{node.url}/?event={EVENT}#token={token('attendee', name, sub=sub)}"


def say(page: Page, text: str) -> None:
    page.locator("#chat .chat-input").fill(text)
    page.locator("#chat .chat-input").press("Enter")


def test_two_attendees_chat_and_hostile_text_stays_text(browser: Browser, chat_cluster: tuple[Node, Node]) -> None:
    a, b = chat_cluster
    dialogs: list[str] = []
    mallory = open_page(browser, attendee_url(a, XSS, "mallory"), dialogs)
    bob = open_page(browser, attendee_url(b, "Bob", "bob"), dialogs)
    for page in (mallory, bob):
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=15_000)

    say(mallory, XSS)
    line = bob.locator("#chat .chat-list li").first
    expect(line.locator(".chat-text")).to_have_text(XSS, timeout=10_000)
    expect(line.locator(".chat-name")).to_have_text(XSS)
    say(bob, "Hello from Bob")
    expect(mallory.locator("#chat .chat-list li .chat-text").nth(1)).to_have_text("Hello from Bob", timeout=10_000)
    for page in (mallory, bob):
        assert page.locator("#chat img").count() == 0

    mod = open_page(browser, f"{a.url}/moderator?event={EVENT}#token={token('moderator', 'Mia', sub='mia')}",
                    dialogs)
    hostile = mod.locator("#moderation .chat-list li", has_text="onerror")
    expect(hostile).to_have_count(1, timeout=15_000)
    hostile.locator(".mod-delete").click()
    for page in (mallory, bob):
        expect(page.locator("#chat .chat-list li")).to_have_count(1, timeout=10_000)
        expect(page.locator("#chat .chat-list li .chat-text")).to_have_text("Hello from Bob")
    expect(mod.locator("#moderation .mod-log tbody tr")).to_have_count(1, timeout=10_000)
    expect(mod.locator("#moderation .mod-log tbody tr")).to_contain_text("delete")

    notice = bob.locator("#chat .chat-notice")
    for i in range(30):  # the burst is 5 and one comes back a second: a quick flood is refused, and shown
        say(bob, f"flood {i}")
        if notice.get_attribute("data-code") == "rate_limited":
            break
    expect(bob.locator("#chat .chat-notice")).to_have_attribute("data-code", "rate_limited", timeout=10_000)
    assert dialogs == []


def test_question_upvoted_and_highlighted_on_the_hall_screen(browser: Browser, chat_cluster: tuple[Node, Node]) -> None:
    a, b = chat_cluster
    dialogs: list[str] = []
    asker = open_page(browser, attendee_url(a, XSS, "mallory"), dialogs)
    voter = open_page(browser, attendee_url(b, "Vera", "vera"), dialogs)
    screen = open_page(browser, f"{b.url}/screen?event={EVENT}", dialogs)
    for page in (asker, voter):
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=15_000)
    asker.locator("#qa .qa-input").fill(f"Question {XSS}")
    asker.locator("#qa button[type=submit]").click()
    item = voter.locator("#qa .qa-item").first
    expect(item.locator(".qa-text")).to_have_text(f"Question {XSS}", timeout=10_000)
    expect(item.locator(".qa-name")).to_have_text(XSS)
    item.locator(".qa-vote").click()
    expect(item.locator(".qa-vote")).to_have_text("▲ 1", timeout=10_000)
    expect(item.locator(".qa-vote")).to_have_attribute("aria-pressed", "true")
    expect(asker.locator("#qa .qa-item .qa-vote")).to_have_text("▲ 1", timeout=10_000)

    mod = open_page(browser, f"{a.url}/moderator?event={EVENT}#token={token('moderator', 'Mia', sub='mia')}",
                    dialogs)
    started = a.post(f"/api/events/{EVENT}/agenda/actions", token("moderator", "Mia", sub="mia"),
                     json={"action": "start", "expected_version": 0})
    assert started.status_code == 200, started.text
    expect(screen.locator(".screen-now .screen-title")).to_have_text("Welcoming remarks", timeout=10_000)
    expect(screen.locator(".screen-now .screen-people")).to_contain_text("Cui Shuqiang")
    expect(screen.locator(".screen-next .screen-people")).to_contain_text("Vladimir Norov")
    mod.locator("#moderation .mod-questions .mod-highlight").first.click(timeout=15_000)
    expect(screen.locator(".screen-question-text")).to_have_text(f"Question {XSS}", timeout=10_000)
    expect(voter.locator("#qa .qa-item.qa-highlighted")).to_have_count(1, timeout=10_000)
    for page in (asker, voter, screen, mod):
        assert page.locator("img").count() == 0
    assert dialogs == []
