"""Door check-in on a real node: one 201 per badge, forged badges refused, walk-ins, printed badges."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from server.attendance.badges import sign
from tests.attendance.conftest import ORGANIZER, figures, post, wait_figures
from tests.support.servers import EVENT, ROOT, SECRET, Node
from tests.support.wsclient import Client, token


async def test_ten_concurrent_scans_of_one_badge_check_in_once(node: Node) -> None:
    badge = sign(SECRET, EVENT, "att-42", "Niu Wenwen")
    scans = (post(node, "/checkins", {"badge": badge, "gate": "north"}) for _ in range(10))
    replies = await asyncio.gather(*scans)
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [200] * 9 + [201]
    assert {r.json()["status"] for r in replies} == {"checked_in", "already_checked_in"}
    data = await figures(node)
    assert data["checked_in_total"] == 1 and data["in_person_now"] == 1


async def test_tampered_or_other_event_badges_get_invalid_badge(node: Node) -> None:
    good = sign(SECRET, EVENT, "att-7", "Zheng Han")
    head, body, mac = good.split(".")
    forged_name = sign(SECRET, EVENT, "att-8", "Someone Else").split(".")[1]
    cases = [
        f"{head}.{forged_name}.{mac}",           # payload swapped under the old signature
        f"{head}.{body}.{mac[:-2]}AA",           # signature altered
        sign("another-secret-" * 3, EVENT, "att-7", "Zheng Han"),  # signed with another key
        sign(SECRET, "other-event", "att-7", "Zheng Han"),         # genuine, but for another event
        "hello", "",
    ]
    for text in cases:
        r = await post(node, "/checkins", {"badge": text})
        assert r.status_code == 422, (text, r.text)
        assert r.json()["code"] == "invalid_badge"
    sideways = await post(node, "/checkins", {"badge": good, "direction": "sideways"})
    assert sideways.json()["code"] == "invalid_request"
    assert (await post(node, "/checkins", {"badge": good}, tok=token("attendee", "A"))).status_code == 403
    assert (await figures(node))["checked_in_total"] == 0


async def test_exits_and_reentries_keep_in_hall_equal_to_entries_minus_exits(node: Node) -> None:
    a, b = (sign(SECRET, EVENT, f"att-{i}", f"Person {i}") for i in (1, 2))
    assert (await post(node, "/checkins", {"badge": a})).status_code == 201
    assert (await post(node, "/checkins", {"badge": b})).status_code == 201
    out = await post(node, "/checkins", {"badge": a, "direction": "out"})
    assert out.json()["status"] == "checked_out"
    again = await post(node, "/checkins", {"badge": a, "direction": "out"})
    assert again.json()["status"] == "not_in_hall"  # a second exit changes nothing
    data = await figures(node)
    assert (data["in_person_now"], data["checked_in_total"], data["peak_in_person"]) == (1, 2, 2)
    back = await post(node, "/checkins", {"badge": a})
    assert back.status_code == 200 and back.json()["reentered"] is True
    assert (await figures(node))["in_person_now"] == 2


async def test_a_walk_in_gets_a_badge_and_is_checked_in_at_once(node: Node) -> None:
    r = await post(node, "/walkins", {"name": "Neil Kothari", "organisation": "Inclusion Foundation"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "checked_in" and "<svg" in body["svg"]
    assert (await figures(node))["in_person_now"] == 1
    # the badge they were handed works at the door like any other
    assert (await post(node, "/checkins", {"badge": body["badge"]})).json()["status"] == "already_checked_in"
    assert (await post(node, "/walkins", {"name": "   "})).json()["code"] == "invalid_name"


async def test_someone_in_the_hall_who_also_watches_online_is_reached_once(node: Node) -> None:
    for attendee, name in (("att-9", "Azizjon Azimi"), ("att-10", "Other")):
        r = await post(node, "/checkins", {"badge": sign(SECRET, EVENT, attendee, name)})
        assert r.status_code == 201
    viewer = await Client.connect(node.ws_url, token=token("attendee", "Azizjon Azimi", sub="att-9"),
                                  topics=[])
    online_only = await Client.connect(node.ws_url, token=token("attendee", "Remote", sub="att-11"),
                                       topics=[])
    data = await wait_figures(node, lambda f: f["online_now"] == 2, 5, "two online")
    assert (data["reached"], data["in_person_now"], data["unique_online"]) == (3, 2, 2)
    r = node.get(f"/api/events/{EVENT}/attendees.csv", token=ORGANIZER)
    rows = {row["attendee_id"]: row for row in csv.DictReader(r.text.splitlines())}
    assert (rows["att-9"]["online"], rows["att-9"]["in_person"]) == ("yes", "yes")
    assert (rows["att-11"]["online"], rows["att-11"]["in_person"]) == ("yes", "no")
    report = node.get(f"/api/events/{EVENT}/attendance.csv", token=ORGANIZER)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    segments = list(csv.DictReader(report.text.splitlines()))
    assert len(segments) == len((await figures(node))["segments"]) and "chat_messages" in segments[0]
    assert node.get(f"/api/events/{EVENT}/attendance", token=token("attendee", "X")).status_code == 403
    await viewer.close()
    await online_only.close()


async def test_plenary_badges_writes_svgs_and_a_csv_whose_badges_check_in(node: Node, tmp_path: Path) -> None:
    registrants = tmp_path / "registrants.csv"
    registrants.write_text("name,id,organisation,country\nTimur Malikov,reg-1,IT Park,Uzbekistan\n"
                           "Sherif Abdelsamie,reg-2,,Egypt\n", encoding="utf-8")
    env = {**os.environ, "PLENARY_SECRET": SECRET, "PLENARY_AGENDA_DIR": str(ROOT / "agenda"),
           "PLENARY_VAR_DIR": str(tmp_path / "var")}

    def badges(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "server", "badges", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    out = tmp_path / "badges"
    done = await asyncio.to_thread(badges, "--event", EVENT, "--csv", str(registrants), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "badges.csv").open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["reg-1", "reg-2"]
    for row in rows:
        drawing = ElementTree.parse(out / row["file"]).getroot()
        assert drawing.tag.endswith("svg")
        assert row["name"] in ElementTree.tostring(drawing, encoding="unicode")
        r = await post(node, "/checkins", {"badge": row["badge"]})
        assert r.status_code == 201 and r.json()["attendee"]["id"] == row["id"]
    counted = await asyncio.to_thread(badges, "--event", EVENT, "--count", "3", "--out", str(tmp_path / "n"))
    assert counted.returncode == 0 and len(list((tmp_path / "n").glob("*.svg"))) == 3
    wrong = await asyncio.to_thread(badges, "--event", "nope", "--count", "1", "--out", str(tmp_path / "x"))
    assert wrong.returncode == 2 and "no event" in wrong.stderr
