// What every page does first: find the event and token, show the title, start the client.
import { PlenaryClient, api, pageContext, statusBadge } from "/static/js/client.js";

export async function boot({ needToken = false, guest = null, topics = null } = {}) {
  const ctx = pageContext();
  if (ctx.token) sessionStorage.setItem("plenary.token", ctx.token);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search); // keep tokens out of shared URLs
  const status = document.getElementById("status");
  let event = null;
  try {
    event = await api(`/api/events/${encodeURIComponent(ctx.event)}`);
    document.getElementById("event-title").textContent = event.title;
    document.title = `${event.title} · Plenary`;
  } catch (err) {
    status.textContent = `unknown event ${ctx.event}`;
    status.dataset.state = "closed";
    throw err;
  }
  if (needToken && !ctx.token) {
    status.textContent = "this page needs the link with a token (printed by `make run`)";
    status.dataset.state = "closed";
    return { ctx, event, client: null };
  }
  const client = new PlenaryClient({
    event: ctx.event,
    token: ctx.token,
    guest,
    topics,
    onStatus: statusBadge(status),
  });
  return { ctx, event, client };
}

// Mount a capability's module into its section; one failing module must not take the page down.
export function mount(mod, id, client, ctx) {
  const root = document.getElementById(id);
  if (!root) return;
  try {
    mod.mount(root, client, ctx);
  } catch (err) {
    console.error(`mounting ${id} failed`, err);
    root.textContent = `This panel failed to load: ${err.message}`;
  }
}
