"""Every Redis key Plenary uses, named in one place.

All keys of one event carry the hash tag ``{ev:<id>}`` so that, on Redis Cluster, they share a
slot and a Lua script may touch several of them. Every key gets a TTL after the event ends
(``Keys.ttl``); a crashed node's leftovers go by expiry, never by a cleanup it would have had to run.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "plenary"  # set once at start-up from PLENARY_KEY_PREFIX (server.store.keys.configure)


def configure(prefix: str) -> None:
    global PREFIX
    PREFIX = prefix


@dataclass(frozen=True)
class Keys:
    event: str

    @property
    def base(self) -> str:
        return f"{PREFIX}:{{ev:{self.event}}}"

    # realtime: one pub/sub channel per event, and per topic a sequence and a bounded history
    @property
    def bus(self) -> str:
        return f"{self.base}:bus"

    def topic_meta(self, topic: str) -> str:
        """HASH seq, epoch."""
        return f"{self.base}:topic:{topic}:meta"

    def topic_history(self, topic: str) -> str:
        """STREAM of pushes, id = <seq>-0, bounded to PLENARY_HISTORY entries."""
        return f"{self.base}:topic:{topic}:history"

    def connect_rate(self, address: str, second: int) -> str:
        return f"{self.base}:ratelimit:connect:{address}:{second}"

    @property
    def roles(self) -> str:
        """HASH user -> role an organizer changed them to, or "revoked"."""
        return f"{self.base}:roles"

    # agenda
    @property
    def agenda(self) -> str:
        """HASH: status, index, version, started_at, paused_at, segment_started_at, extensions ..."""
        return f"{self.base}:agenda"

    @property
    def agenda_log(self) -> str:
        """STREAM of transitions: who, when, action, from, to."""
        return f"{self.base}:agenda:log"

    # chat, Q&A, reactions, moderation
    def chat(self, room: str) -> str:
        return f"{self.base}:chat:{room}"

    def chat_dedupe(self, user: str, client_id: str) -> str:
        return f"{self.base}:chat:dedupe:{user}:{client_id}"

    def chat_deleted(self, room: str) -> str:
        return f"{self.base}:chat:{room}:deleted"

    def ratelimit(self, kind: str, user: str) -> str:
        return f"{self.base}:ratelimit:{kind}:{user}"

    def slowmode(self, room: str, user: str) -> str:
        return f"{self.base}:slowmode:{room}:{user}"

    @property
    def rooms(self) -> str:
        """HASH room -> settings JSON (slow mode seconds)."""
        return f"{self.base}:rooms"

    @property
    def mutes(self) -> str:
        """ZSET user -> muted until (unix seconds)."""
        return f"{self.base}:mutes"

    @property
    def bans(self) -> str:
        """HASH user -> ban record JSON."""
        return f"{self.base}:bans"

    @property
    def pinned(self) -> str:
        return f"{self.base}:chat:pinned"

    def pinned_in(self, room: str) -> str:
        """STRING the message JSON pinned in ``room``."""
        return f"{self.base}:chat:{room}:pinned"

    @property
    def modlog(self) -> str:
        return f"{self.base}:modlog"

    @property
    def questions(self) -> str:
        """HASH question id -> question JSON."""
        return f"{self.base}:qa:questions"

    @property
    def question_votes_rank(self) -> str:
        """ZSET question id -> votes."""
        return f"{self.base}:qa:rank"

    def question_voters(self, qid: str) -> str:
        return f"{self.base}:qa:voters:{qid}"

    @property
    def question_vote_versions(self) -> str:
        """HASH question id -> how many vote changes it has had (orders vote pushes)."""
        return f"{self.base}:qa:vote_versions"

    @property
    def question_seq(self) -> str:
        return f"{self.base}:qa:seq"

    @property
    def qa_settings(self) -> str:
        return f"{self.base}:qa:settings"

    @property
    def reactions(self) -> str:
        """HASH emoji -> count since the last aggregate push."""
        return f"{self.base}:reactions"

    def reaction_debounce(self, user: str) -> str:
        return f"{self.base}:reactions:debounce:{user}"

    @property
    def reactions_lock(self) -> str:
        """STRING held for one second by the node that publishes the reaction aggregate."""
        return f"{self.base}:reactions:lock"

    def qa_dedupe(self, user: str, client_id: str) -> str:
        return f"{self.base}:qa:dedupe:{user}:{client_id}"

    @property
    def chat_stats(self) -> str:
        """HASH chat / questions / chat:<segment> / questions:<segment> -> count."""
        return f"{self.base}:chat:stats"

    @property
    def chat_user_stats(self) -> str:
        """HASH <user>:chat / <user>:questions -> count."""
        return f"{self.base}:chat:user_stats"

    # attendance
    @property
    def presence_conns(self) -> str:
        """ZSET connection id -> expires_at."""
        return f"{self.base}:presence:conns"

    @property
    def presence_conn_user(self) -> str:
        """HASH connection id -> user id."""
        return f"{self.base}:presence:conn_user"

    @property
    def presence_users(self) -> str:
        """ZSET user id -> expires_at (online now = ZCOUNT now..+inf)."""
        return f"{self.base}:presence:users"

    @property
    def presence_user_conns(self) -> str:
        """HASH user id -> live connection count."""
        return f"{self.base}:presence:user_conns"

    @property
    def people(self) -> str:
        """HASH user id -> profile JSON (name, role, country, organisation)."""
        return f"{self.base}:people"

    @property
    def unique_online(self) -> str:
        return f"{self.base}:attendance:unique_online"

    @property
    def reached(self) -> str:
        return f"{self.base}:attendance:reached"

    @property
    def peaks(self) -> str:
        """HASH online, online_at, in_person, in_person_at."""
        return f"{self.base}:attendance:peaks"

    def segment_viewers(self, segment: str) -> str:
        return f"{self.base}:attendance:segment:{segment}:viewers"

    def segment_in_person(self, segment: str) -> str:
        return f"{self.base}:attendance:segment:{segment}:in_person"

    @property
    def segment_marks(self) -> str:
        """HASH <segment>:start_online / end_online ... -> count."""
        return f"{self.base}:attendance:segment_marks"

    @property
    def watch_time(self) -> str:
        """HASH user id -> seconds watched."""
        return f"{self.base}:attendance:watch_time"

    @property
    def timeseries(self) -> str:
        """STREAM one point per 10 s: online, in_person."""
        return f"{self.base}:attendance:series"

    @property
    def checkin(self) -> str:
        """SET badge ids ever checked in (exact; a repeat scan adds nothing)."""
        return f"{self.base}:checkin"

    @property
    def in_hall(self) -> str:
        """SET badge ids in the hall now (entries minus exits)."""
        return f"{self.base}:checkin:in_hall"

    @property
    def checkin_log(self) -> str:
        return f"{self.base}:checkin:log"

    @property
    def registrants(self) -> str:
        """HASH badge id -> registrant JSON (walk-ins and imported lists)."""
        return f"{self.base}:registrants"

    @property
    def presence_since(self) -> str:
        """HASH user id -> unix time their current online stretch began (for watch time)."""
        return f"{self.base}:presence:since"

    @property
    def attendance_totals(self) -> str:
        """HASH watch_total, since_sum, since_n: total watch time without scanning every user."""
        return f"{self.base}:attendance:totals"

    @property
    def online_by(self) -> str:
        """HASH "country:<x>" / "organisation:<x>" -> users online now."""
        return f"{self.base}:attendance:online_by"

    @property
    def unique_by(self) -> str:
        """HASH "country:<x>" / "organisation:<x>" -> distinct users ever online."""
        return f"{self.base}:attendance:unique_by"

    @property
    def segment_now(self) -> str:
        """HASH id, started_at: the segment attendance last saw as live."""
        return f"{self.base}:attendance:segment_now"

    def attendance_slot(self, kind: str, slot: int) -> str:
        """STRING set NX by the one node that does ``kind`` work for this time slot."""
        return f"{self.base}:attendance:slot:{kind}:{slot}"

    @property
    def attendance_pushed(self) -> str:
        """STRING digest of the figures last pushed on the attendance topic."""
        return f"{self.base}:attendance:pushed"

    # media
    @property
    def stage(self) -> str:
        """HASH: on_stage (publisher id), kind (speaker|clip|slate), version."""
        return f"{self.base}:stage"

    @property
    def publishers(self) -> str:
        """HASH speaker id -> JSON {node, resource, since}."""
        return f"{self.base}:media:publishers"

    def all_prefix(self) -> str:
        return f"{self.base}:*"
