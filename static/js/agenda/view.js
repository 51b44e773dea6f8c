// Shared by the attendee panel and the moderator console: formatting and the agenda store.
import { el } from "/static/js/client.js";

export const KIND_LABELS = {
  opening: "Opening",
  speech: "Speech",
  video_message: "Video message",
  announcement: "Announcement",
  panel: "Panel",
  case_study: "Case study",
  qa: "Q&A",
  break: "Break",
  closing: "Closing",
};

export const STATUS_LABELS = { not_started: "Not started", live: "Live", paused: "Paused", ended: "Ended" };

// Keep the newest state only: pushes of two quick actions may arrive out of order.
export function agendaStore(client, onChange) {
  let state = null;
  const accept = (next) => {
    if (!next || (state && next.version < state.version)) return false;
    state = next;
    onChange(state);
    return true;
  };
  client.on("agenda", (msg) => accept(msg.d));
  return { get: () => state, accept };
}

export function clock(ms, timeZone) {
  const opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (timeZone) opts.timeZone = timeZone;
  return new Intl.DateTimeFormat(undefined, opts).format(new Date(ms));
}

// "14:05 (venue 14:05 CST)" collapses to one time when the viewer is in the venue's zone.
export function bothTimes(ms, venueZone) {
  const mine = clock(ms);
  const venue = clock(ms, venueZone);
  const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (viewerZone === venueZone || mine === venue) return [mine, null];
  return [mine, `${venue} venue`];
}

export function countdownText(state, now) {
  if (!state || !state.segment) return "";
  if (state.status === "paused") return `paused · ${formatSpan(state.remaining_ms)} left`;
  if (state.segment_ends_at == null) return "";
  const left = state.segment_ends_at - now;
  return left >= 0 ? `${formatSpan(left)} left` : `${formatSpan(-left)} over time`;
}

export function formatSpan(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

export function people(list) {
  if (!list || !list.length) return null;
  return el("ul", { class: "agenda-people" }, list.map((p) => el("li", {},
    el("span", { class: "agenda-person" }, p.name),
    p.part && p.part !== "speaker" ? el("span", { class: "agenda-part" }, ` ${p.part}`) : null,
    [p.title, p.organisation, p.country].filter(Boolean).length
      ? el("span", { class: "muted" }, ` · ${[p.title, p.organisation, p.country].filter(Boolean).join(", ")}`)
      : null)));
}

export function segmentCard(label, seg, cls) {
  if (!seg) return el("div", { class: `agenda-card ${cls} empty` }, el("div", { class: "agenda-label" }, label), "—");
  return el("div", { class: `agenda-card ${cls}`, dataset: { segment: seg.id } },
    el("div", { class: "agenda-label" }, `${label} · ${KIND_LABELS[seg.kind] || seg.kind}`),
    el("div", { class: "agenda-title" }, seg.title),
    people(seg.people));
}
