import { boot, mount } from "/static/js/pages/common.js";
import * as screen from "/static/js/chat/screen.js";

// the projector in the hall joins as a guest named after itself
const { ctx, event, client } = await boot({ guest: { name: "Hall screen" } });
mount(screen, "screen", client, { ...ctx, event });
client.start();
