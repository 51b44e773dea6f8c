import { boot, mount } from "/static/js/pages/common.js";
import * as publisher from "/static/js/media/publisher.js";
import * as chat from "/static/js/chat/panel.js";

const { ctx, event, client } = await boot({ needToken: true });
if (client) {
  const page = { ...ctx, event, room: "backstage" };
  mount(publisher, "publisher", client, page);
  mount(chat, "backstage", client, page);
  client.start();
} else {
  mount(publisher, "publisher", null, { ...ctx, event });
}
