import { boot, mount } from "/static/js/pages/common.js";
import * as dashboard from "/static/js/attendance/dashboard.js";

const { ctx, event, client } = await boot({ needToken: true });
if (client) {
  mount(dashboard, "attendance", client, { ...ctx, event });
  client.start();
}
