/**
 * `limitBody`: reads the body before the route runs, bounded by size (413 over `maxBytes`, whether
 * or not it says its length), by the process's body budget (503) and by the read deadline (408);
 * see `readLimitedBody`. What it took from the budget is given back when the request is done.
 */
import { define } from "../http/route.ts";
import { MAX_BODY_BYTES, readLimitedBody } from "../http/body.ts";

export function limitBody(maxBytes = MAX_BODY_BYTES) {
  return define.middleware(async function limitBody(c, next) {
    const raw = c.req.raw;
    if (!raw.body) return await next();
    const budget = c.get("deps").bodyBudget;
    const bytes = await readLimitedBody(raw, maxBytes, budget);
    // The bytes go to Hono's body cache, where c.req.text()/json()/arrayBuffer()/parseBody() find
    // them. Why not rebuild the Request like hono/body-limit: that costs an AbortSignal and, when
    // the response is done, a DOMException per request, a fifth of the hot path's time.
    const cache = c.req.bodyCache as Record<string, unknown>;
    // arrayBuffer first: Hono converts from the first cached form, and bytes convert losslessly.
    cache.arrayBuffer = Promise.resolve(bytes.buffer);
    if (bytes.byteLength === 0) cache.text = Promise.resolve("");
    try {
      return await next();
    } finally {
      budget.release(bytes.byteLength);
    }
  });
}
