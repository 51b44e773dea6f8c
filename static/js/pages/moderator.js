import { boot, mount } from "/static/js/pages/common.js";
import * as control from "/static/js/agenda/control.js";
import * as stage from "/static/js/media/stage-control.js";
import * as moderation from "/static/js/chat/moderation.js";

const { ctx, event, client } = await boot({ needToken: true });
if (client) {
  const page = { ...ctx, event };
  mount(control, "agenda-control", client, page);
  mount(stage, "stage-control", client, page);
  mount(moderation, "moderation", client, page);
  client.start();
}
