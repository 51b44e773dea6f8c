// Q&A panel: ask (optionally anonymously), upvote (again to take it back), sort by votes or time.
// Your own questions waiting for review carry a "pending" badge; the highlighted one is marked.
import { el } from "/static/js/client.js";
import { clientId, explain, qaStore, sendOnce, throttled } from "/static/js/chat/view.js";

export function mount(root, client, ctx) {
  root.textContent = "";
  let sortBy = "votes";
  const highlight = el("div", { class: "qa-highlight", hidden: true, "aria-live": "polite" });
  const list = el("ol", { class: "qa-list" });
  const notice = el("div", { class: "chat-notice", role: "alert" });
  const input = el("textarea", { class: "qa-input", rows: 2, maxlength: 500, placeholder: "Ask the panel",
    "aria-label": "Question" });
  const anonymous = el("input", { type: "checkbox", class: "qa-anonymous" });
  const ask = el("button", { type: "submit" }, "Ask");
  const reviewNote = el("p", { class: "muted qa-review-note", hidden: true },
    "Questions are reviewed by a moderator before they appear.");
  const sortButton = el("button", { type: "button", class: "qa-sort" }, "Sort: most votes");
  const form = el("form", { class: "qa-composer" }, input,
    el("label", { class: "qa-anon-label" }, anonymous, " Ask anonymously"), ask);

  const render = throttled((store) => {
    reviewNote.hidden = !store.review;
    input.maxLength = store.maxChars;
    const hl = store.highlighted;
    highlight.hidden = !hl;
    highlight.replaceChildren(...(hl ? [el("span", { class: "qa-highlight-label" }, "On screen"),
      el("p", { class: "qa-text" }, hl.text), el("span", { class: "muted" }, hl.name)] : []));
    list.replaceChildren(...store.sorted(sortBy).filter((q) => q.status !== "rejected" || q.mine).map((q) => {
      const voted = store.voted.has(q.id);
      const open = q.status === "open" || q.status === "answered";
      return el("li", { class: `qa-item qa-${q.status}${hl && hl.id === q.id ? " qa-highlighted" : ""}`,
        dataset: { id: q.id, status: q.status } },
        el("button", { type: "button", class: "qa-vote", "aria-pressed": voted ? "true" : "false", disabled: !open,
          title: voted ? "Take back your vote" : "Upvote", onclick: () => vote(q.id) }, `▲ ${q.votes}`),
        el("div", { class: "qa-body" },
          el("p", { class: "qa-text" }, q.text),
          el("span", { class: "qa-name muted" }, q.mine ? `${q.name} (you)` : q.name),
          q.status === "pending" ? el("span", { class: "badge pending" }, "pending review") : null,
          q.status === "rejected" ? el("span", { class: "badge rejected" }, "not approved") : null,
          q.status === "answered" ? el("span", { class: "badge answered" }, "answered") : null,
          hl && hl.id === q.id ? el("span", { class: "badge highlighted" }, "on screen") : null));
    }));
  });
  const store = qaStore(client, render);

  async function vote(id) {
    notice.textContent = "";
    try {
      const res = await client.request("qa.upvote", { id });
      if (res.voted) store.voted.add(id);
      else store.voted.delete(id);
      const q = store.questions.get(id);
      if (q) store.questions.set(id, { ...q, votes: res.votes });
      render(store);
    } catch (err) {
      notice.textContent = explain(err);
    }
  }

  sortButton.addEventListener("click", () => {
    sortBy = sortBy === "votes" ? "time" : "votes";
    sortButton.textContent = sortBy === "votes" ? "Sort: most votes" : "Sort: newest";
    render(store);
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    ask.disabled = true;
    notice.textContent = "";
    try {
      const res = await sendOnce(client, "qa.ask", { text, anonymous: anonymous.checked, cid: clientId() });
      input.value = "";
      const q = store.questions.get(res.id);
      if (q) store.questions.set(res.id, { ...q, mine: true });
      if (res.status === "pending") notice.textContent = "Thanks: your question waits for a moderator.";
      render(store);
    } catch (err) {
      notice.textContent = explain(err);
      notice.dataset.code = err.code;
    } finally {
      ask.disabled = false;
    }
  });
  root.append(el("h2", {}, "Questions"), highlight, el("div", { class: "qa-tools" }, sortButton), reviewNote,
    list, notice, form);
}
