import { boot, mount } from "/static/js/pages/common.js";
import * as scanner from "/static/js/attendance/scanner.js";

// door staff work over HTTP; the page needs no socket
const { ctx, event } = await boot({ needToken: true });
mount(scanner, "scanner", null, { ...ctx, event });
