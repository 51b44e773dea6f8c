"""Questions to the panel: ask (optionally anonymous), upvote, review, answer, highlight.

Anonymity is towards other attendees only: the stored question keeps its author, staff always see
it (``qa`` snapshots for staff, and the ``mod`` topic), and the public pushes on ``qa`` never carry
it. Votes live in a SET per question plus a rank ZSET, changed by one script that also bumps a
per-question version, so a vote push that overtakes a newer one on another node can be dropped.

Pushes on ``qa``: ``{"kind": "question", "q"}``, ``{"kind": "votes", "id", "votes", "v"}``,
``{"kind": "highlight", "q" | null}``, ``{"kind": "settings", "review"}``. A pending question goes
to its author alone (``direct``) and to staff on ``mod``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from server.auth import Claims
from server.chat import history, limits
from server.chat.model import Approve, Ask, Highlight, MarkAnswered, QaSettings, Question, Upvote
from server.chat.moderation import log_action
from server.chat.stats import segment_now
from server.realtime.hub import OpContext, OpError
from server.services import Services
from server.store.keys import Keys

DEDUPE_SECONDS = 600
SHOWN = 1000
PUBLIC = ("open", "answered")

_decode = msgspec.json.Decoder(Question).decode


def view(q: Question, reader: Claims | None, votes: int | None = None, version: int = 0) -> dict[str, Any]:
    """The question as ``reader`` may see it (None: anyone on the public topic)."""
    data: dict[str, Any] = msgspec.to_builtins(q)
    data["votes"] = q.votes if votes is None else votes
    data["v"] = version
    staff = reader is not None and reader.is_staff
    mine = reader is not None and reader.sub == q.author
    data["mine"] = mine
    if q.anonymous and not staff and not mine:
        data["author"] = None
        data["name"] = "Anonymous"
        data["role"] = None
    return data


async def _load(svc: Services, event: str, qid: str) -> Question:
    raw = await svc.redis.hget(Keys(event).questions, qid)
    if raw is None:
        raise OpError("not_found", f"there is no question {qid}")
    return _decode(raw)


async def _save(svc: Services, event: str, q: Question) -> None:
    key = Keys(event).questions
    await svc.redis.hset(key, q.id, msgspec.json.encode(q))
    await svc.redis.expire(key, svc.key_ttl)


async def _votes(svc: Services, event: str, qid: str) -> tuple[int, int]:
    keys = Keys(event)
    score = await svc.redis.zscore(keys.question_votes_rank, qid)
    version = await svc.redis.hget(keys.question_vote_versions, qid)
    return int(score or 0), int(version or 0)


async def review_on(svc: Services, event: str) -> bool:
    return (await svc.redis.hget(Keys(event).qa_settings, "review")) == b"1"


async def _announce(svc: Services, ctx: OpContext, q: Question) -> None:
    """Tell everyone who may see ``q`` that it changed."""
    votes, version = await _votes(svc, ctx.event, q.id)
    if q.status in PUBLIC:
        await ctx.hub.publish(ctx.event, "qa", {"kind": "question", "q": view(q, None, votes, version)})
    else:
        author = Claims(sub=q.author, name=q.name, role=ctx.claims.role, event=ctx.event, exp=0)
        await ctx.hub.direct(ctx.event, q.author, "qa",
                             {"kind": "question", "q": view(q, author, votes, version) | {"mine": True}})
    staff_view = msgspec.to_builtins(q) | {"votes": votes, "v": version, "mine": False}
    await ctx.hub.publish(ctx.event, "mod", {"kind": "question", "q": staff_view})


async def ask(svc: Services, ctx: OpContext, d: Ask) -> dict[str, Any]:
    claims = ctx.claims
    keys = Keys(ctx.event)
    dedupe = keys.qa_dedupe(claims.sub, d.cid)
    first = await svc.redis.get(dedupe)
    if first is not None:
        return {"id": history.text(first), "duplicate": True}
    await limits.check_muted(svc, ctx.event, claims.sub)
    text = limits.clean_text(d.text, svc.settings.chat_max_chars)
    await limits.take_rate(svc, ctx.event, "qa", claims.sub)
    qid = f"q{await svc.redis.incr(keys.question_seq)}"
    await svc.redis.expire(keys.question_seq, svc.key_ttl)
    if not await svc.redis.set(dedupe, qid, nx=True, ex=DEDUPE_SECONDS):
        first = await svc.redis.get(dedupe)
        return {"id": history.text(first or b""), "duplicate": True}
    pending = await review_on(svc, ctx.event) and not claims.is_staff
    segment = await segment_now(svc, ctx.event)
    q = Question(id=qid, text=text, author=claims.sub, name=limits.clean_name(claims.name) or "someone",
                 role=claims.role.value, anonymous=d.anonymous, at=int(time.time() * 1000),
                 status="pending" if pending else "open", segment=segment)
    await _save(svc, ctx.event, q)
    async with svc.redis.pipeline(transaction=False) as pipe:
        pipe.zadd(keys.question_votes_rank, {qid: 0})
        pipe.expire(keys.question_votes_rank, svc.key_ttl)
        pipe.hincrby(keys.chat_stats, "questions", 1)
        if segment:
            pipe.hincrby(keys.chat_stats, f"questions:{segment}", 1)
        pipe.hincrby(keys.chat_user_stats, f"{claims.sub}:questions", 1)
        pipe.expire(keys.chat_stats, svc.key_ttl)
        pipe.expire(keys.chat_user_stats, svc.key_ttl)
        await pipe.execute()
    await _announce(svc, ctx, q)
    return {"id": qid, "status": q.status, "duplicate": False}


async def upvote(svc: Services, ctx: OpContext, d: Upvote) -> dict[str, Any]:
    """Toggle: the first call votes, the second takes the vote back."""
    q = await _load(svc, ctx.event, d.id)
    if q.status not in PUBLIC:
        raise OpError("not_open", f"question {d.id} is not open for votes")
    keys = Keys(ctx.event)
    voted, votes, version = await svc.scripts.run(
        "qa_vote", [keys.question_voters(d.id), keys.question_votes_rank, keys.question_vote_versions],
        [ctx.claims.sub, d.id, svc.key_ttl],
    )
    push = {"kind": "votes", "id": d.id, "votes": int(votes), "v": int(version)}
    await ctx.hub.publish(ctx.event, "qa", push)
    return {"id": d.id, "voted": bool(int(voted)), "votes": int(votes)}


async def approve(svc: Services, ctx: OpContext, d: Approve) -> dict[str, Any]:
    q = await _load(svc, ctx.event, d.id)
    if q.status != "pending":
        raise OpError("not_pending", f"question {d.id} is {q.status}, not pending")
    q = msgspec.structs.replace(q, status="open" if d.approve else "rejected")
    await _save(svc, ctx.event, q)
    await _announce(svc, ctx, q)
    await log_action(svc, ctx, "approve" if d.approve else "reject", q.author, q.name, q.text[:200])
    return {"id": q.id, "status": q.status}


async def answer(svc: Services, ctx: OpContext, d: MarkAnswered) -> dict[str, Any]:
    q = await _load(svc, ctx.event, d.id)
    if q.status not in PUBLIC:
        raise OpError("not_open", f"question {d.id} is {q.status}")
    q = msgspec.structs.replace(q, status="answered" if d.answered else "open")
    await _save(svc, ctx.event, q)
    await _announce(svc, ctx, q)
    await log_action(svc, ctx, "answered" if d.answered else "reopened", q.author, q.name, q.text[:200])
    return {"id": q.id, "status": q.status}


async def highlight(svc: Services, ctx: OpContext, d: Highlight) -> dict[str, Any]:
    key = Keys(ctx.event).qa_settings
    shown: dict[str, Any] | None = None
    if d.id is None:
        await svc.redis.hdel(key, "highlighted")
    else:
        q = await _load(svc, ctx.event, d.id)
        if q.status not in PUBLIC:
            raise OpError("not_open", f"question {d.id} is {q.status}; approve it first")
        await svc.redis.hset(key, "highlighted", q.id)
        await svc.redis.expire(key, svc.key_ttl)
        shown = view(q, None, *await _votes(svc, ctx.event, q.id))
    await ctx.hub.publish(ctx.event, "qa", {"kind": "highlight", "q": shown})
    detail = shown["text"][:200] if shown else ""
    await log_action(svc, ctx, "highlight" if shown else "unhighlight", detail=detail)
    return {"id": d.id}


async def settings(svc: Services, ctx: OpContext, d: QaSettings) -> dict[str, Any]:
    key = Keys(ctx.event).qa_settings
    await svc.redis.hset(key, "review", "1" if d.review else "0")
    await svc.redis.expire(key, svc.key_ttl)
    await ctx.hub.publish(ctx.event, "qa", {"kind": "settings", "review": d.review})
    await log_action(svc, ctx, "review_queue", detail="on" if d.review else "off")
    return {"review": d.review}


async def questions(svc: Services, event: str, reader: Claims) -> list[dict[str, Any]]:
    """Every question ``reader`` may see, most votes first, then oldest first."""
    keys = Keys(event)
    async with svc.redis.pipeline(transaction=False) as pipe:  # one round trip: joins read this
        pipe.hgetall(keys.questions)
        pipe.zrange(keys.question_votes_rank, 0, -1, withscores=True)
        pipe.hgetall(keys.question_vote_versions)
        raw, ranked, versions = await pipe.execute()
    ranks = dict(ranked)
    out: list[dict[str, Any]] = []
    for qid, blob in raw.items():
        q = _decode(blob)
        if not reader.is_staff and q.status not in PUBLIC and q.author != reader.sub:
            continue
        out.append(view(q, reader, int(ranks.get(qid, 0)), int(versions.get(qid, 0))))
    out.sort(key=lambda item: (-item["votes"], item["at"]))
    return out[:SHOWN]


async def snapshot(svc: Services, event: str, reader: Claims) -> dict[str, Any]:
    listed = await questions(svc, event, reader)
    keys = Keys(event)
    async with svc.redis.pipeline(transaction=False) as pipe:
        for item in listed:
            pipe.sismember(keys.question_voters(item["id"]), reader.sub)
        pipe.hget(keys.qa_settings, "highlighted")
        pipe.hget(keys.qa_settings, "review")
        *flags, highlighted_id, review = await pipe.execute()
    voted = [item["id"] for item, flag in zip(listed, flags, strict=True) if flag]
    highlighted = None
    if highlighted_id is not None:
        highlighted = next((q for q in listed if q["id"] == history.text(highlighted_id)), None)
        stored = await svc.redis.hget(keys.questions, highlighted["id"]) if highlighted else None
        if highlighted is not None and stored is not None and not reader.is_staff:
            highlighted = view(_decode(stored), None, highlighted["votes"], highlighted["v"])
    return {"questions": listed, "voted": voted, "highlighted": highlighted,
            "review": review == b"1", "max_chars": svc.settings.chat_max_chars}
