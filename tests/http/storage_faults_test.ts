import assert from "node:assert/strict";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { UsageMeter } from "../../lib/usage/meter.ts";
import {
  json,
  payFounder,
  seedPlatform,
  tenantHeaders,
  type TestApp,
  testApp,
} from "../_helpers/app.ts";

/** What Deno KV (SQLite) throws when the disk is full, as seen on a full tmpfs. */
const DISK_FULL = "database or disk is full";

/**
 * An app whose KV cannot write because its disk is full. As root (where `mount` works) the KV file
 * is on a 1 MiB tmpfs that `fill()` really fills; elsewhere (CI without root) every write of
 * the same real KV throws the exact error Deno KV throws on a full disk.
 */
async function appOnFullDisk(): Promise<
  { t: TestApp; fill(): Promise<void>; free(): Promise<void>; real: boolean } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "dream-api-full-" });
  const mounted = Deno.uid() === 0 &&
    (await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir] })
      .output().catch(() => ({ success: false }))).success;
  const filler = `${dir}/filler`;
  const cleanup = async () => {
    if (mounted) await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  };
  if (mounted) {
    const t = await testApp({ kvPath: `${dir}/app.kv` });
    return {
      t,
      real: true,
      async fill() {
        using file = await Deno.open(filler, { create: true, write: true });
        const chunk = new Uint8Array(16 * 1024);
        for (let size = chunk.length; size > 0; size >>= 1) {
          try {
            for (;;) await file.write(chunk.subarray(0, size));
          } catch { /* ENOSPC: try a smaller piece */ }
        }
      },
      async free() {
        await Deno.remove(filler);
      },
      async [Symbol.asyncDispose]() {
        await t[Symbol.asyncDispose]();
        await cleanup();
      },
    };
  }
  let full = false;
  const t = await testApp();
  const kv = t.kv;
  const failing = new Proxy(kv, {
    get(target, name) {
      if (name === "set" || name === "delete") {
        return (...args: unknown[]) =>
          full
            ? Promise.reject(new TypeError(DISK_FULL))
            // deno-lint-ignore no-explicit-any
            : (target as any)[name](...args);
      }
      if (name === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => full ? Promise.reject(new TypeError(DISK_FULL)) : commit();
          return op;
        };
      }
      const value = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  // The app's writes go through the failing handle (the deps object is the app's own).
  const meter = new UsageMeter(
    failing,
    new UsageRecorder({ now: () => new Date() }).meterOptions(),
  );
  t.deps.kv = failing;
  t.deps.meter = meter;
  return {
    t,
    real: false,
    fill: () => Promise.resolve(void (full = true)),
    free: () => Promise.resolve(void (full = false)),
    async [Symbol.asyncDispose]() {
      await meter.close();
      await t[Symbol.asyncDispose]();
      await cleanup();
    },
  };
}

Deno.test("a write that fails because the disk is full answers 503 unavailable with Retry-After, and /health says so", async () => {
  await using disk = await appOnFullDisk();
  const { t } = disk;
  const { apiKey } = await seedPlatform(t.kv);
  const founder = await t.signIn("founder_full");
  await payFounder(t.kv, "founder_full");
  let res = await t.app.request("/health");
  assert.equal(res.status, 200, await res.text());

  await disk.fill();
  res = await t.app.request("/api/data", { method: "POST", headers: tenantHeaders(apiKey, "u") });
  const { body, text } = await json(res);
  assert.equal(res.status, 503, `real disk ${disk.real}: ${text}`);
  assert.equal(body.error.code, "unavailable", text);
  assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
  assert.equal(body.error.requestId, res.headers.get("x-request-id"), text);
  // A Hono route's write: creating a platform.
  res = await t.app.request("/dashboard/api/platform", {
    method: "POST",
    headers: { authorization: `Bearer ${founder}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Full Co" }),
  });
  const created = await json(res);
  assert.equal(res.status, 503, created.text);
  assert.equal(created.body.error.code, "unavailable", created.text);
  assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
  assert.ok(t.logs.some((l) => l.includes(DISK_FULL)), "the fault is logged");

  // /health checks a write (at most once a second): within the second it answers from its cache.
  res = await t.app.request("/health");
  assert.equal(res.status, 200, "cached for a second");
  await res.body?.cancel();
  t.setNow(new Date(t.deps.now().getTime() + 1_001));
  res = await t.app.request("/health");
  const health = await json(res);
  assert.equal(res.status, 503, health.text);
  assert.equal(health.body.error.code, "unavailable", health.text);
  assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);

  // Space again: writes and /health recover without a restart.
  await disk.free();
  t.setNow(new Date(t.deps.now().getTime() + 1_001));
  res = await t.app.request("/health");
  assert.deepEqual((await json(res)).body, { ok: true });
  res = await t.app.request("/api/data", { method: "POST", headers: tenantHeaders(apiKey, "u") });
  assert.equal(res.status, 200, await res.text());
});

Deno.test("/health writes at most once a second, however often it is asked", async () => {
  await using t = await testApp();
  let writes = 0;
  const atomic = t.kv.atomic.bind(t.kv);
  const set = t.kv.set.bind(t.kv);
  t.kv.atomic = () => (writes++, atomic());
  t.kv.set = (...args) => (writes++, set(...args));
  const answers = await Promise.all(Array.from({ length: 20 }, () => t.app.request("/health")));
  for (const res of answers) assert.deepEqual(await res.json(), { ok: true });
  assert.equal(writes, 1);
  t.setNow(new Date(t.deps.now().getTime() + 1_001));
  await (await t.app.request("/health")).body?.cancel();
  assert.equal(writes, 2);
});

Deno.test("a page whose storage cannot answer is a 503 page with Retry-After, not the 500 page", async () => {
  await using t = await testApp();
  const founder = await t.signIn("founder_locked");
  await payFounder(t.kv, "founder_locked");
  // Every read of the app's KV fails as SQLite does while another process holds the file.
  const kv = t.deps.kv;
  t.deps.kv = new Proxy(kv, {
    get(target, name) {
      if (name === "get" || name === "getMany") {
        return () => Promise.reject(new TypeError("database is locked"));
      }
      const value = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const res = await t.app.request("/dashboard", {
    headers: { cookie: `__session=${founder}`, accept: "text/html" },
  });
  const text = await res.text();
  assert.equal(res.status, 503, text);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/, text);
  assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
  assert.match(text, /Temporarily unavailable/);
  assert.ok(res.headers.get("content-security-policy"), "the page keeps its security headers");
});
