// Moderator console: the main chat with delete / pin / mute / ban on every line, announcements,
// slow mode, the Q&A with review queue, answered and highlight, and the moderation log.
import { el } from "/static/js/client.js";
import { chatRoom, clock, explain, qaStore, throttled } from "/static/js/chat/view.js";

export function mount(root, client, ctx) {
  root.textContent = "";
  const notice = el("div", { class: "chat-notice", role: "alert" });
  const act = async (op, d, done = "") => {
    notice.textContent = "";
    try {
      await client.request(op, d);
      if (done) notice.textContent = done;
    } catch (err) {
      notice.textContent = `${op}: ${explain(err)}`;
    }
  };

  // chat with per-line actions
  const { list, pinned } = chatRoom(client, "main", {
    decorate: (li, m) => {
      if (m.kind !== "message") return;
      li.append(el("span", { class: "mod-actions" },
        el("button", { type: "button", class: "mod-delete", onclick: () => act("chat.delete", { room: "main", id: m.id }) }, "Delete"),
        el("button", { type: "button", class: "mod-pin", onclick: () => act("chat.pin", { room: "main", id: m.id }) }, "Pin"),
        el("button", { type: "button", class: "mod-mute", onclick: () => {
          const minutes = Number(prompt(`Mute ${m.name} for how many minutes?`, "10"));
          if (minutes > 0) act("mod.mute", { user: m.user, name: m.name, minutes: Math.round(minutes) }, `${m.name} muted`);
        } }, "Mute"),
        el("button", { type: "button", class: "mod-ban", onclick: () => {
          if (confirm(`Ban ${m.name} from this event?`)) act("mod.ban", { user: m.user, name: m.name }, `${m.name} banned`);
        } }, "Ban")));
    },
  });
  const unpin = el("button", { type: "button", onclick: () => act("chat.pin", { room: "main", id: null }) }, "Unpin");

  // announcement and slow mode
  const announcement = el("input", { type: "text", class: "mod-announce-text", maxlength: 500, placeholder: "Announcement to everyone" });
  const announceForm = el("form", { class: "mod-row" }, announcement, el("button", { type: "submit" }, "Announce"));
  announceForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!announcement.value.trim()) return;
    await act("chat.announce", { room: "main", text: announcement.value });
    announcement.value = "";
  });
  const slow = el("input", { type: "number", min: 0, max: 3600, value: 0, class: "mod-slow", "aria-label": "Slow mode seconds" });
  const slowForm = el("form", { class: "mod-row" }, el("label", {}, "Slow mode (s) ", slow), el("button", { type: "submit" }, "Set"));
  slowForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act("chat.slowmode", { room: "main", seconds: Number(slow.value) || 0 });
  });

  // Q&A: review queue first, then the rest
  const review = el("input", { type: "checkbox", class: "mod-review" });
  review.addEventListener("change", () => act("qa.settings", { review: review.checked }));
  const queue = el("ol", { class: "qa-list mod-queue" });
  const questions = el("ol", { class: "qa-list mod-questions" });
  const renderQa = throttled((store) => {
    review.checked = store.review;
    const hl = store.highlighted && store.highlighted.id;
    const all = store.sorted("votes");
    const author = (q) => `${q.name}${q.anonymous ? " (anonymous to attendees)" : ""}`;
    queue.replaceChildren(...all.filter((q) => q.status === "pending").map((q) => el("li", { class: "qa-item qa-pending", dataset: { id: q.id } },
      el("p", { class: "qa-text" }, q.text), el("span", { class: "muted" }, author(q)),
      el("button", { type: "button", class: "mod-approve", onclick: () => act("qa.approve", { id: q.id }) }, "Approve"),
      el("button", { type: "button", class: "mod-reject", onclick: () => act("qa.approve", { id: q.id, approve: false }) }, "Reject"))));
    questions.replaceChildren(...all.filter((q) => q.status === "open" || q.status === "answered").map((q) =>
      el("li", { class: `qa-item qa-${q.status}${hl === q.id ? " qa-highlighted" : ""}`, dataset: { id: q.id } },
        el("span", { class: "qa-votes" }, `▲ ${q.votes}`),
        el("div", { class: "qa-body" }, el("p", { class: "qa-text" }, q.text), el("span", { class: "muted" }, author(q))),
        el("button", { type: "button", class: "mod-answered",
          onclick: () => act("qa.answer", { id: q.id, answered: q.status !== "answered" }) },
        q.status === "answered" ? "Reopen" : "Answered"),
        el("button", { type: "button", class: "mod-highlight",
          onclick: () => act("qa.highlight", { id: hl === q.id ? null : q.id }) },
        hl === q.id ? "Take off screen" : "Put on screen"))));
  });
  const store = qaStore(client, renderQa);

  // moderation log, mutes and bans
  const logBody = el("tbody");
  const people = el("ul", { class: "mod-people" });
  const banned = new Map();
  const renderPeople = () => people.replaceChildren(...[...banned.values()].map((b) => el("li", {},
    el("span", {}, `${b.name || b.user} (banned)`),
    el("button", { type: "button", onclick: () => act("mod.unban", { user: b.user }) }, "Unban"))));
  const addLog = (e) => {
    logBody.prepend(el("tr", {}, el("td", {}, clock(e.at)), el("td", {}, e.by_name), el("td", {}, e.action),
      el("td", {}, e.target_name || e.target), el("td", {}, e.detail)));
    while (logBody.children.length > 200) logBody.lastChild.remove();
    if (e.action === "ban") banned.set(e.target, { user: e.target, name: e.target_name });
    if (e.action === "unban") banned.delete(e.target);
    renderPeople();
  };
  client.on("mod", (msg) => {
    const d = msg.d || {};
    if (msg.type === "snapshot") {
      logBody.replaceChildren();
      banned.clear();
      for (const b of d.bans || []) banned.set(b.user, b);
      for (const e of d.log || []) addLog(e);
      renderPeople();
      slow.value = (d.slow_mode && d.slow_mode.main) || 0;
      store.review = Boolean(d.review);
      store.handle(msg);
    } else if (d.kind === "log") {
      addLog(d.entry);
    } else if (d.kind === "question") {
      store.handle(msg);
    }
  });
  client.on("chat:main", (msg) => {
    if (msg.d && msg.d.kind === "slow_mode") slow.value = msg.d.seconds;
  });

  root.append(
    el("h2", {}, "Chat and Q&A moderation"), notice,
    el("div", { class: "mod-grid" },
      el("section", { class: "mod-chat" }, el("h3", {}, "Chat"), pinned, unpin, list, announceForm, slowForm),
      el("section", { class: "mod-qa" }, el("h3", {}, "Questions"),
        el("label", {}, review, " Review questions before they appear"),
        el("h4", {}, "Review queue"), queue, el("h4", {}, "Open questions"), questions),
      el("section", { class: "mod-log" }, el("h3", {}, "Moderation log"),
        el("table", {}, el("thead", {}, el("tr", {}, ...["When", "Who", "Action", "Target", "Detail"].map((h) => el("th", {}, h)))), logBody),
        el("h4", {}, "Banned"), people)));
}
