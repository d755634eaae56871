/**
 * The peer of `deno task bench`: what a team would build instead of dream-api, the Redis design
 * of Autumn and Upstash Ratelimit. One `Deno.serve` process in front of one `redis-server`, with
 * the `ioredis` client; per request one Lua script (EVALSHA) checks the end-user's period counter
 * against the limit and increments it atomically.
 *
 * It honours the same contract with the same care as our hot path: the same headers
 * (`Authorization: Bearer` key → SHA-256 → platform, cached in-process for 5 s like
 * `CACHE_TTL_MS`; `X-User-Id`; `X-User-Plan` → tier, unknown is 400; `Idempotency-Key` read),
 * the POST body's `amount` (default 1), a refusal counts nothing, and the same JSON answer,
 * `RateLimit-*` / `Retry-After` headers and `X-Request-Id` as `lib/usage/response.ts`.
 * Platforms live in Redis as `dream:key:<sha256 hex>` → `{ platformId, tiers }` JSON (the bench
 * writes it). Not implemented: idempotent replays and Stripe plans (the bench sends neither).
 *
 * Auto-pipelining (ioredis's `enableAutoPipelining`: the commands of one event-loop turn go out in
 * one write) is on in the bench: measured against off on 2026-12-02 (one peer each on the same
 * Redis, alternating, 3 rounds of 6 s, POST spread and hot), it halved Redis's CPU per request
 * (10–16 µs against 21–27 µs) and lowered peer + Redis CPU per request in 4 of 6 pairs; throughput
 * was within the noise of a machine at load 13. `deno task bench --peer-auto-pipelining off`
 * measures the other choice.
 *
 * Usage: `deno run -A bench/redis_peer.ts <http port|0> <redis port> [--auto-pipelining]`;
 * prints `listening <port>`.
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";

interface Tier {
  id: string;
  price: number;
  limit: number | null;
  period: "month" | "day";
}
interface Platform {
  platformId: string;
  tiers: Tier[];
}

const httpPort = Number(Deno.args[0] ?? 0);
const redisPort = Number(Deno.args[1] ?? 6379);
const autoPipelining = Deno.args.includes("--auto-pipelining");

const redis = new Redis({
  host: "127.0.0.1",
  port: redisPort,
  enableAutoPipelining: autoPipelining,
  // A request fails (503) rather than wait through retries when Redis is away.
  maxRetriesPerRequest: 1,
});

/**
 * Check and count in one round trip. KEYS[1] the end-user's counter for the period; ARGV amount,
 * limit (-1: unlimited), the period's end in ms (the counter expires a day after it).
 * Returns { 1 | 0, count }: granted and the new count, or refused and the unchanged count.
 */
const TAKE = `
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if limit >= 0 then
  local count = tonumber(redis.call('GET', KEYS[1]) or '0')
  if count + amount > limit then return {0, count} end
end
local count = redis.call('INCRBY', KEYS[1], amount)
if count == amount then redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[3]) + 86400000) end
return {1, count}
`;
redis.defineCommand("take", { numberOfKeys: 1, lua: TAKE });
const take = (redis as unknown as {
  take(key: string, amount: number, limit: number, endMs: number): Promise<[number, number]>;
}).take.bind(redis);

const TTL_MS = 5_000;
const platforms = new Map<string, { at: number; value: Platform | null }>();

/** The platform of a key hash: from the in-process cache while fresh, else one Redis GET. */
function platformOf(hash: string, now: number): Platform | null | Promise<Platform | null> {
  const hit = platforms.get(hash);
  if (hit && now - hit.at < TTL_MS) return hit.value;
  return redis.get(`dream:key:${hash}`).then((text) => {
    const value = text === null ? null : JSON.parse(text) as Platform;
    if (platforms.size >= 10_000) platforms.clear();
    platforms.set(hash, { at: now, value });
    return value;
  });
}

interface Period {
  key: string;
  start: string;
  end: string;
  endMs: number;
}
const periods: Partial<Record<Tier["period"], Period>> = {};
/** The current period of `unit`, memoised until it ends (as `lib/usage/period.ts`). */
function periodOf(unit: Tier["period"], now: number): Period {
  const last = periods[unit];
  if (last && now < last.endMs && now >= Date.parse(last.start)) return last;
  const d = new Date(now);
  const y = d.getUTCFullYear(), m = d.getUTCMonth();
  const start = unit === "day" ? Date.UTC(y, m, d.getUTCDate()) : Date.UTC(y, m, 1);
  const end = unit === "day" ? Date.UTC(y, m, d.getUTCDate() + 1) : Date.UTC(y, m + 1, 1);
  return periods[unit] = {
    key: d.toISOString().slice(0, unit === "day" ? 10 : 7),
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    endMs: end,
  };
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const KEY_SHAPE = /^dk_(live|test)_[A-Za-z0-9_-]{43,}$/;
const USER_ID = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;
const PREFIX = crypto.randomUUID().slice(0, 8) + "-";
let counter = 0;

function json(body: unknown, status: number, headers: Record<string, string>): Response {
  headers["content-type"] = "application/json";
  return new Response(JSON.stringify(body), { status, headers });
}

function error(status: number, code: string, message: string, requestId: string): Response {
  return json(
    { success: false, error: { code, message, requestId } },
    status,
    { "x-request-id": requestId },
  );
}

async function handle(req: Request): Promise<Response> {
  const requestId = PREFIX + (++counter).toString(36);
  const url = req.url;
  const path = url.slice(url.indexOf("/", url.indexOf("://") + 3)).split("?")[0];
  const post = req.method === "POST" && path === "/api/data";
  if (!post && !(req.method === "GET" && path === "/api/usage")) {
    return error(404, "not_found", "Not found.", requestId);
  }
  const text = post && req.body ? await req.text() : "";
  const match = BEARER.exec(req.headers.get("authorization") ?? "");
  if (!match || match[1].length > 200 || !KEY_SHAPE.test(match[1])) {
    return error(401, "unauthorized", "Missing or invalid API key.", requestId);
  }
  const now = Date.now();
  const hash = createHash("sha256").update(match[1]).digest("hex");
  const found = platformOf(hash, now);
  const platform = found instanceof Promise ? await found : found;
  if (!platform) return error(401, "unauthorized", "Missing or invalid API key.", requestId);
  const userId = req.headers.get("x-user-id") ?? "";
  if (!USER_ID.test(userId)) {
    return error(400, "invalid_request", "X-User-Id: 1 to 256 printable characters", requestId);
  }
  const planHeader = req.headers.get("x-user-plan");
  const tier = planHeader === null
    ? platform.tiers.find((t) => t.price === 0)!
    : platform.tiers.find((t) => t.id === planHeader);
  if (!tier) return error(400, "invalid_request", `X-User-Plan '${planHeader}'`, requestId);
  req.headers.get("idempotency-key");
  let amount = 1;
  if (text !== "") {
    try {
      const parsed = JSON.parse(text)?.amount ?? 1;
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > 1_000_000) throw new Error();
      amount = parsed;
    } catch {
      return error(400, "invalid_request", "amount: an integer from 1 to 1000000", requestId);
    }
  }
  const period = periodOf(tier.period, now);
  const key = `dream:usage:${platform.platformId}:${period.key}:${userId}`;
  let ok = true;
  let count: number;
  try {
    if (post) {
      const [granted, n] = await take(key, amount, tier.limit ?? -1, period.endMs);
      ok = granted === 1;
      count = n;
    } else {
      count = Number(await redis.get(key) ?? 0);
    }
  } catch {
    return error(503, "unavailable", "Storage unavailable; retry.", requestId);
  }
  const reset = String(Math.max(1, Math.ceil((period.endMs - now) / 1000)));
  const headers: Record<string, string> = { "RateLimit-Reset": reset, "x-request-id": requestId };
  const remaining = tier.limit === null ? null : Math.max(0, tier.limit - count);
  if (tier.limit !== null) {
    headers["RateLimit-Limit"] = String(tier.limit);
    headers["RateLimit-Remaining"] = String(remaining);
  }
  const body = {
    success: ok,
    usage: { count, limit: tier.limit, remaining },
    plan: tier.id,
    planSource: planHeader === null ? "default" : "header",
    period: { start: period.start, end: period.end },
  };
  if (ok) return json(body, 200, headers);
  headers["Retry-After"] = reset;
  return json(
    {
      ...body,
      success: false,
      error: {
        code: "limit_exceeded",
        message:
          `Usage limit reached: ${amount} more would exceed ${tier.limit} for plan '${tier.id}' this period.`,
        requestId,
      },
    },
    429,
    headers,
  );
}

await redis.ping();
Deno.serve({
  port: httpPort,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`listening ${port}`),
}, handle);
