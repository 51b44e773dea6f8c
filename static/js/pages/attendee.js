import { boot, mount } from "/static/js/pages/common.js";
import * as agenda from "/static/js/agenda/panel.js";
import * as chat from "/static/js/chat/panel.js";
import * as qa from "/static/js/chat/qa.js";
import * as player from "/static/js/media/player.js";

function askName() {
  const saved = localStorage.getItem("plenary.guest");
  if (saved) return Promise.resolve(JSON.parse(saved));
  const form = document.getElementById("join");
  form.hidden = false;
  return new Promise((resolve) => {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      const guest = { name: data.name.trim() };
      if (data.country) guest.country = data.country.trim();
      if (data.organisation) guest.organisation = data.organisation.trim();
      localStorage.setItem("plenary.guest", JSON.stringify(guest));
      form.hidden = true;
      resolve(guest);
    });
  });
}

const ctx0 = new URLSearchParams(location.hash.slice(1)).get("token") || sessionStorage.getItem("plenary.token");
const guest = ctx0 ? null : await askName();
const { ctx, event, client } = await boot({ guest });
const page = { ...ctx, event };
mount(player, "stage", client, page);
mount(agenda, "agenda", client, page);
mount(chat, "chat", client, page);
mount(qa, "qa", client, page);
client.start();
