"""Real Chromium with a fake camera: /speaker goes live over WHIP and the attendee page plays it."""

from __future__ import annotations

from playwright import async_api as playwright

from tests.support.servers import Node
from tests.support.wsclient import Client, token

ARGS = ["--no-sandbox", "--headless=new", "--disable-background-networking", "--disable-component-update",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required"]


async def test_speaker_page_goes_live_and_attendee_page_plays_it(media_node: Node) -> None:
    speaker = token("speaker", "Olim Alimov", sub="olim-alimov")
    mod = await Client.connect(media_node.ws_url, token=token("moderator", "Mod"))
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            # the pages' CSP forbids eval, which Playwright's wait_for_function needs; the app's own code runs as served
            context = await browser.new_context(bypass_csp=True)
            page = await context.new_page()
            await page.goto(f"{media_node.url}/speaker#token={speaker}")
            go = page.get_by_role("button", name="Go live")
            await go.wait_for()
            await page.wait_for_function("document.querySelector('#publisher button') && "
                                         "!document.querySelector('#publisher button').disabled", timeout=15000)
            await go.click()
            try:
                await page.get_by_text("You are live").wait_for(timeout=20000)
            except Exception:
                raise AssertionError(await page.inner_text("#publisher") + "\n" + media_node.log()) from None

            def live(c: Client) -> bool:
                msgs = c.by_topic["stage"]
                return bool(msgs) and any(s["id"] == "olim-alimov" for s in msgs[-1]["d"]["live_speakers"])

            await mod.wait_for(live, timeout=15, what="speaker live")
            await mod.request("stage.show", {"speaker": "olim-alimov"})

            viewer = await context.new_page()
            await viewer.goto(f"{media_node.url}/#token={token('attendee', 'Watcher')}")
            await viewer.get_by_text("On stage: Olim Alimov").wait_for(timeout=15000)
            await viewer.wait_for_function(
                "(() => { const v = document.querySelector('video.player');"
                " return v && v.videoWidth > 0 && v.currentTime > 1.5; })()", timeout=25000)
            frames = await viewer.evaluate("document.querySelector('video.player').getVideoPlaybackQuality()"
                                           ".totalVideoFrames")
            assert frames > 10
            # the speaker stops: the stage goes back to the slate and the viewer keeps playing it
            await page.get_by_role("button", name="Stop").click()
            await mod.wait_for(lambda c: c.by_topic["stage"][-1]["d"]["kind"] == "slate", timeout=10, what="slate")
        finally:
            await browser.close()
            await mod.close()
