// Chat panel: the room's messages, the pinned message, announcements, a composer, and (in the
// main room) the reaction buttons. Errors such as rate_limited are shown inline, beside the box.
import { el } from "/static/js/client.js";
import { chatRoom, clientId, explain, sendOnce } from "/static/js/chat/view.js";

export function mount(root, client, ctx) {
  const room = ctx.room || "main";
  root.textContent = "";
  const notice = el("div", { class: "chat-notice", role: "alert" });
  const info = el("div", { class: "chat-info muted" });
  const input = el("textarea", { class: "chat-input", rows: 2, maxlength: 500, placeholder: "Write a message",
    "aria-label": "Message" });
  const button = el("button", { type: "submit", class: "chat-send" }, "Send");
  const form = el("form", { class: "chat-composer" }, input, button);
  const { list, pinned } = chatRoom(client, room, {
    onState: (state) => {
      input.maxLength = state.maxChars;
      const parts = [];
      if (state.slowMode) parts.push(`Slow mode: one message every ${state.slowMode} s`);
      if (state.mutedUntil > client.now()) parts.push(`You are muted until ${new Date(state.mutedUntil).toLocaleTimeString()}`);
      info.textContent = parts.join(" · ");
    },
  });
  root.append(el("h2", {}, room === "main" ? "Chat" : "Backstage chat"), pinned, list, notice, form, info);
  if (room === "main") root.append(reactionBar(client));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    button.disabled = true;
    notice.textContent = "";
    try {
      await sendOnce(client, "chat.send", { room, text, cid: clientId() });
      input.value = "";
    } catch (err) {
      notice.textContent = explain(err);
      notice.dataset.code = err.code;
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
}

function reactionBar(client) {
  const bar = el("div", { class: "reaction-bar", "aria-label": "React" });
  client.on("reactions", (msg) => {
    if (msg.type !== "snapshot") return;
    bar.replaceChildren(...(msg.d.emoji || []).map((emoji) => el("button", {
      type: "button", class: "reaction", title: `React ${emoji}`,
      onclick: () => client.request("react", { emoji }).catch(() => {}),
    }, emoji)));
  });
  return bar;
}
