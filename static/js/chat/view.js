// Shared pieces of the chat capability's pages: the room list, the Q&A store, error wording.
// Everything user-written is rendered with el()/textContent, never as HTML.
import { el } from "/static/js/client.js";

export function clientId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// A refusal the user can act on, worded for people, with the wait when there is one.
export function explain(err) {
  const wait = err.reply && err.reply.retry_after ? ` (${Math.ceil(err.reply.retry_after / 1000)} s)` : "";
  switch (err.code) {
    case "rate_limited": return `You are sending too fast; try again in a moment${wait}.`;
    case "slow_mode": return `Slow mode is on; you can send again soon${wait}.`;
    case "muted": return `A moderator muted you${wait}.`;
    case "invalid_text": return err.message;
    case "offline": case "timeout": return "Not connected; your message will be retried.";
    default: return err.message || err.code;
  }
}

// Send with retries on a lost connection, always with the same client id: the server stores it once.
export async function sendOnce(client, op, d, attempts = 3) {
  for (let i = 1; ; i += 1) {
    try {
      return await client.request(op, d);
    } catch (err) {
      if (i >= attempts || (err.code !== "offline" && err.code !== "timeout")) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000 * i));
    }
  }
}

// The room's message list, kept in step with snapshots and pushes on chat:<room>.
// decorate(li, message) lets the moderator console add its buttons to each line.
export function chatRoom(client, room, { decorate = null, onState = () => {} } = {}) {
  const topic = `chat:${room}`;
  const list = el("ol", { class: "chat-list", "aria-live": "polite", dataset: { room } });
  const pinned = el("div", { class: "chat-pinned", hidden: true });
  const rows = new Map();
  const state = { slowMode: 0, maxChars: 500, mutedUntil: 0, pinned: null };

  const line = (m) => {
    const li = el("li", { class: `chat-msg chat-${m.kind}`, dataset: { id: m.id, user: m.user, role: m.role } },
      el("time", { class: "chat-time muted" }, clock(m.at)),
      el("span", { class: "chat-name" }, m.name),
      m.role && m.role !== "attendee" && m.role !== "guest" ? el("span", { class: "chat-role" }, m.role) : null,
      el("span", { class: "chat-text" }, m.text));
    if (decorate) decorate(li, m);
    return li;
  };
  const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const add = (m) => {
    if (rows.has(m.id)) return;
    const stick = atBottom();
    const li = line(m);
    rows.set(m.id, li);
    list.append(li);
    while (rows.size > 300) {
      const [first] = rows.keys();
      rows.get(first).remove();
      rows.delete(first);
    }
    if (stick) list.scrollTop = list.scrollHeight;
  };
  const showPin = (m) => {
    state.pinned = m;
    pinned.hidden = !m;
    pinned.replaceChildren(...(m ? [el("span", { class: "chat-pin-label" }, "Pinned"), el("span", { class: "chat-name" }, m.name),
      el("span", { class: "chat-text" }, m.text)] : []));
  };

  client.on(topic, (msg) => {
    const d = msg.d || {};
    if (msg.type === "snapshot") {
      rows.clear();
      list.replaceChildren();
      for (const m of d.messages || []) add(m);
      showPin(d.pinned || null);
      state.slowMode = d.slow_mode || 0;
      state.maxChars = d.max_chars || state.maxChars;
      state.mutedUntil = d.muted_until || 0;
      list.scrollTop = list.scrollHeight;
    } else if (d.kind === "message") {
      add(d.message);
    } else if (d.kind === "delete") {
      const li = rows.get(d.id);
      if (li) li.remove();
      rows.delete(d.id);
      if (state.pinned && state.pinned.id === d.id) showPin(null);
    } else if (d.kind === "pin") {
      showPin(d.message);
    } else if (d.kind === "slow_mode") {
      state.slowMode = d.seconds;
    } else if (d.kind === "muted") {
      state.mutedUntil = d.until;
    }
    onState(state, d.kind || msg.type);
  });
  return { list, pinned, state, rows };
}

// Questions as this reader may see them; staff views merge author details from the mod topic.
export function qaStore(client, onChange) {
  const store = { questions: new Map(), voted: new Set(), highlighted: null, review: false, maxChars: 500 };
  const merge = (q) => {
    const old = store.questions.get(q.id);
    if (old && q.author === null && old.author) q = { ...q, author: old.author, name: old.name, role: old.role };
    if ((old && old.mine) || (client.user && q.author === client.user.id)) q = { ...q, mine: true };
    if (old && old.v > q.v) q = { ...q, votes: old.votes, v: old.v };
    store.questions.set(q.id, q);
    if (store.highlighted && store.highlighted.id === q.id) store.highlighted = { ...store.highlighted, ...q };
  };
  const handle = (msg) => {
    const d = msg.d || {};
    if (msg.type === "snapshot" && msg.topic === "qa") {
      store.questions.clear();
      for (const q of d.questions || []) store.questions.set(q.id, q);
      store.voted = new Set(d.voted || []);
      store.highlighted = d.highlighted || null;
      store.review = Boolean(d.review);
      store.maxChars = d.max_chars || store.maxChars;
    } else if (msg.type === "snapshot" && msg.topic === "mod") {
      for (const q of d.pending || []) merge(q);
    } else if (d.kind === "question") {
      merge(d.q);
    } else if (d.kind === "votes") {
      const q = store.questions.get(d.id);
      if (q && (q.v || 0) < d.v) store.questions.set(d.id, { ...q, votes: d.votes, v: d.v });
    } else if (d.kind === "highlight") {
      store.highlighted = d.q;
    } else if (d.kind === "settings") {
      store.review = d.review;
    } else {
      return;
    }
    onChange(store);
  };
  client.on("qa", handle);
  store.handle = handle;
  store.sorted = (by) => [...store.questions.values()].sort((a, b) =>
    by === "time" ? b.at - a.at : (b.votes - a.votes) || (a.at - b.at));
  return store;
}

// Coalesce many updates into one render per tick (a timer, not rAF: rAF stops in hidden tabs).
export function throttled(render) {
  let queued = false;
  return (...args) => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      render(...args);
    }, 50);
  };
}
