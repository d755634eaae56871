/**
 * `deno task start` serves from WORKERS HTTP isolates on one port, counting through one meter in
 * their host (host.ts): exact across them, drained gracefully on SIGTERM, and a host or an isolate
 * that dies is replaced. Real processes, real isolates, a real KV file.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../fresh.config.ts";
import { clusterRefusal, supervise, type WorkerProcess } from "../lib/cluster/supervise.ts";
import { createLogger } from "../lib/log.ts";
import { devUserId } from "../lib/founders/session.ts";
import { seedPaidFounder, seedPlatform, tenantHeaders } from "./_helpers/app.ts";
import { freePort, startCluster } from "./_helpers/server.ts";
import { hammer, totalUsage } from "./usage/_load.ts";
import { tempKvPath } from "./usage/_kv.ts";

const LIMIT_500 = [{ id: "free", name: "Free", price: 0, limit: 500, period: "month" as const }];
const UNLIMITED = [{ id: "free", name: "Free", price: 0, limit: null, period: "month" as const }];

/** `promise`, or a rejection naming `what` after 15 s: a supervisor that never drains fails, not hangs. */
async function within<T>(promise: Promise<T>, output: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not done within 15 s; logs:\n${output().slice(-3000)}`)),
      15_000,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function seeded(path: string, tiers: typeof LIMIT_500 | typeof UNLIMITED) {
  const kv = await Deno.openKv(path);
  try {
    return await seedPlatform(kv, tiers);
  } finally {
    kv.close();
  }
}

Deno.test("two workers on one port grant exactly the limit across them, and both answer", async () => {
  await using tmp = await tempKvPath();
  const { apiKey } = await seeded(tmp.path, LIMIT_500);
  await using cluster = await startCluster({ KV_PATH: tmp.path });
  assert.deepEqual(cluster.workers().map((w) => w.isolate).sort(), [1, 2], cluster.output());
  assert.equal(new Set(cluster.workers().map((w) => w.pid)).size, 1, "one process");

  // 1,500 requests over 50 connections of their own, so the kernel spreads them over both workers.
  const clients = Array.from(
    { length: 50 },
    () => Deno.createHttpClient({ poolMaxIdlePerHost: 1 }),
  );
  const statuses = new Map<number, number>();
  const prefixes = new Set<string>();
  let next = 0;
  await Promise.all(clients.map(async (client) => {
    while (next < 1500) {
      next++;
      const res = await fetch(`${cluster.url}/api/data`, {
        method: "POST",
        headers: tenantHeaders(apiKey, "hot-user"),
        client,
      });
      await res.body?.cancel();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      prefixes.add(res.headers.get("x-request-id")!.split("-")[0]);
    }
  }));
  for (const client of clients) client.close();
  const logs = `statuses ${[...statuses]}; logs:\n${cluster.output().slice(-3000)}`;
  assert.equal(statuses.get(200), 500, logs);
  assert.equal(statuses.get(429), 1000, logs);
  // The request id starts with a random prefix per isolate: two prefixes, two isolates answered.
  assert.equal(prefixes.size, 2, `request id prefixes ${[...prefixes]}`);

  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${cluster.url}/api/usage`, {
      headers: tenantHeaders(apiKey, "hot-user"),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).usage.count, 500);
  }
  assert.equal(await within(cluster.stop(), cluster.output), 0, cluster.output());
});

Deno.test("SIGTERM under load: the supervisor and every worker exit 0, and every 200 is in KV", async () => {
  await using tmp = await tempKvPath();
  const { platformId, apiKey } = await seeded(tmp.path, UNLIMITED);
  await using cluster = await startCluster({ KV_PATH: tmp.path });

  let exit: Promise<number> | undefined;
  // The load ends when the workers stop answering: bounded, so a worker that never drains fails.
  const tally = await within(
    hammer(cluster.url, apiKey, {
      connections: 32,
      users: 50,
      onOk: (oks) => {
        if (oks === 500) exit = cluster.stop("SIGTERM");
      },
    }),
    cluster.output,
  );
  assert.ok(exit, "the load never reached 500 answers");
  assert.equal(await within(exit, cluster.output), 0, cluster.output());
  const output = cluster.output();
  assert.equal(output.match(/"message":"shutting down","signal":"SIGTERM"/g)?.length, 2, output);
  // Each says how much V8 heap it had as it stopped (bench/workers.ts reports it per worker).
  assert.equal(
    output.match(/"shutting down","signal":"SIGTERM","heapUsed":\d+,"heapTotal":\d+/g)?.length,
    2,
  );
  assert.doesNotMatch(output, /worker failed|exited unexpectedly/, output);
  assert.match(output, /"message":"dream-api stopped","code":0/);

  const oks = tally.statuses.get(200) ?? 0;
  assert.deepEqual([...tally.statuses.keys()], [200], `only 200s: ${[...tally.statuses]}`);
  const usage = await totalUsage(tmp.path, platformId);
  assert.equal(usage, oks, `${oks} × 200 seen, ${usage} counted, ${tally.unknown} unanswered`);
});

Deno.test("the host killed with SIGKILL is replaced, with its isolates, and the service keeps answering", async () => {
  await using tmp = await tempKvPath();
  const { apiKey } = await seeded(tmp.path, UNLIMITED);
  await using cluster = await startCluster({ KV_PATH: tmp.path });
  const [{ pid: victim }] = cluster.workers();

  Deno.kill(victim, "SIGKILL");
  await cluster.listening(4);
  assert.match(
    cluster.output(),
    new RegExp(`"message":"worker exited unexpectedly; restarting it","pid":${victim}`),
  );
  const after = cluster.workers().slice(2);
  assert.deepEqual(after.map((w) => w.isolate).sort(), [1, 2], cluster.output());
  assert.ok(after.every((w) => w.pid !== victim));

  const answers = await Promise.all(Array.from({ length: 200 }, async () => {
    const res = await fetch(`${cluster.url}/api/data`, {
      method: "POST",
      headers: tenantHeaders(apiKey, "user-1"),
    });
    await res.body?.cancel();
    return res.status;
  }));
  assert.deepEqual(new Set(answers), new Set([200]));
  assert.equal(await within(cluster.stop(), cluster.output), 0, cluster.output());
});

/**
 * GET /api/usage over fresh connections until `isolates` isolates (told by their request-id
 * prefix) have answered; every answer's limit, by isolate.
 */
async function limitsByIsolate(url: string, apiKey: string, isolates = 2) {
  const seen = new Map<string, number[]>();
  for (let i = 0; i < 200 && seen.size < isolates; i++) {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    try {
      const res = await fetch(`${url}/api/usage`, {
        headers: tenantHeaders(apiKey, "user-1"),
        client,
      });
      const body = await res.json();
      const prefix = res.headers.get("x-request-id")!.split("-")[0];
      seen.set(prefix, [...seen.get(prefix) ?? [], body.usage?.limit]);
    } finally {
      client.close();
    }
  }
  assert.equal(seen.size, isolates, "both isolates answered");
  return seen;
}

Deno.test("a tier change made through one isolate reaches the other at once, not after CACHE_TTL_MS", async () => {
  await using tmp = await tempKvPath();
  const founder = "founder@example.com";
  const kv = await Deno.openKv(tmp.path);
  const { apiKey } = await seedPaidFounder(kv, devUserId(founder), LIMIT_500);
  kv.close();
  // Ten minutes of cache: only the isolates telling each other can make the change visible now.
  await using cluster = await startCluster({ KV_PATH: tmp.path, CACHE_TTL_MS: "600000" });
  for (const limits of (await limitsByIsolate(cluster.url, apiKey)).values()) {
    assert.deepEqual(new Set(limits), new Set([500]));
  }

  const origin = cluster.url.replace("127.0.0.1", "localhost");
  const signIn = await fetch(`${cluster.url}/sign-in/dev`, {
    method: "POST",
    headers: { origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: founder }),
    redirect: "manual",
  });
  await signIn.body?.cancel();
  const token = /__session=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1];
  assert.ok(token, `signed in: ${signIn.status}`);
  const put = await fetch(`${cluster.url}/dashboard/api/tiers`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ tiers: [{ ...LIMIT_500[0], limit: 7 }] }),
  });
  assert.equal(put.status, 200, await put.text());

  const after = await limitsByIsolate(cluster.url, apiKey);
  for (const [prefix, limits] of after) {
    assert.deepEqual(new Set(limits), new Set([7]), `isolate ${prefix} answered ${limits}`);
  }
  assert.equal(await within(cluster.stop(), cluster.output), 0, cluster.output());
});

Deno.test("WORKERS above 1 with PORT=0 is refused in one line naming both", () => {
  const line = clusterRefusal({ workers: 4, port: 0 });
  assert.ok(line);
  assert.match(line, /WORKERS=4 needs a fixed PORT/);
  assert.ok(!line.includes("\n"));
  assert.equal(clusterRefusal({ workers: 1, port: 0 }), null);
  assert.equal(clusterRefusal({ workers: 4, port: 8000 }), null);
});

/** A worker process that exits when told, or by itself with `die(code)`. */
function fakeWorker(pid: number) {
  let exit!: (s: { success: boolean; code: number; signal: Deno.Signal | null }) => void;
  const status = new Promise<{ success: boolean; code: number; signal: Deno.Signal | null }>((
    r,
  ) => exit = r);
  const worker: WorkerProcess & {
    die(code: number): void;
    exitWith: typeof exit;
    signals: Deno.Signal[];
  } = {
    pid,
    status,
    signals: [],
    exitWith: (s) => exit(s),
    kill(signal = "SIGTERM") {
      worker.signals.push(signal);
      exit({ success: true, code: 0, signal: null });
    },
    die(code) {
      exit({ success: code === 0, code, signal: null });
    },
  };
  return worker;
}

Deno.test("a worker that keeps dying is replaced at most 5 times a minute, then the cluster stops with 1", async () => {
  const lines: string[] = [];
  const spawned: ReturnType<typeof fakeWorker>[] = [];
  const cluster = supervise({
    workers: 2,
    spawn: () => {
      const w = fakeWorker(spawned.length + 1);
      spawned.push(w);
      return w;
    },
    log: createLogger({ write: (l) => lines.push(l) }),
    now: () => 1_000_000,
  });
  for (let i = 0; i < 6; i++) {
    spawned.at(-1)!.die(1);
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.equal(await cluster.done, 1);
  assert.equal(spawned.length, 2 + 5, lines.join("\n"));
  assert.deepEqual(spawned[0].signals, ["SIGTERM"], "the healthy worker was drained");
  assert.equal(lines.filter((l) => l.includes("exited unexpectedly")).length, 5);
  assert.equal(lines.filter((l) => l.includes("too many restarts")).length, 1);
});

Deno.test("stop forwards the signal to every worker; done is 0 when all exit 0, 1 when one fails", async () => {
  for (const failing of [false, true]) {
    const spawned: ReturnType<typeof fakeWorker>[] = [];
    const cluster = supervise({
      workers: 3,
      spawn: () => {
        const w = fakeWorker(spawned.length + 1);
        if (failing && spawned.length === 1) w.kill = (s) => (w.signals.push(s!), w.die(1));
        spawned.push(w);
        return w;
      },
      log: createLogger({ write: () => {} }),
    });
    cluster.stop("SIGINT");
    assert.equal(await cluster.done, failing ? 1 : 0);
    assert.deepEqual(spawned.map((w) => w.signals), [["SIGINT"], ["SIGINT"], ["SIGINT"]]);
    assert.equal(spawned.length, 3, "nothing restarted while stopping");
  }
});

Deno.test("deno task start's supervisor refuses WORKERS=2 with PORT=0 in one line and exits 1", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../serve.ts", import.meta.url).pathname],
    env: { APP_ENV: "test", KV_PATH: ":memory:", WORKERS: "2", PORT: "0" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.equal(
    stderr,
    "dream-api cannot start: WORKERS=2 needs a fixed PORT to share (PORT=0 picks a different " +
      "port per process); set PORT, or WORKERS=1.\n",
  );
});

Deno.test("WORKERS is an integer from 1 to 64 and defaults to one HTTP isolate per core", () => {
  assert.equal(parseConfig({ APP_ENV: "test", WORKERS: "16" }).workers, 16);
  for (const [cores, expected] of [[1, 1], [2, 2], [3, 3], [16, 16], [128, 64]]) {
    Object.defineProperty(navigator, "hardwareConcurrency", { value: cores, configurable: true });
    try {
      assert.equal(parseConfig({ APP_ENV: "test" }).workers, expected, `${cores} cores`);
    } finally {
      delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
    }
  }
  assert.equal(navigator.hardwareConcurrency > 0, true, "the real getter is back");
  // PORT=0 gives each listener a port of its own: the default is then one isolate.
  Object.defineProperty(navigator, "hardwareConcurrency", { value: 16, configurable: true });
  try {
    assert.equal(parseConfig({ APP_ENV: "test", PORT: "0" }).workers, 1);
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
  for (const bad of ["0", "65", "1.5", "many"]) {
    assert.throws(() => parseConfig({ APP_ENV: "test", WORKERS: bad }), /WORKERS/, bad);
  }
});

/** serve.ts as `deno task start` runs it, with both its outputs read (the banner goes to stdout). */
function spawnServe(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../serve.ts", import.meta.url).pathname],
    env: { APP_ENV: "test", WORKERS: "2", PORT: String(freePort()), ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: "", stderr: "" };
  const read = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out[into] += decoder.decode(chunk, { stream: true });
  };
  const reading = Promise.all([read(child.stdout, "stdout"), read(child.stderr, "stderr")]);
  const until = async (pattern: RegExp, count: number) => {
    const deadline = Date.now() + 30_000;
    while ((out.stderr.match(pattern) ?? []).length < count) {
      if (Date.now() > deadline) throw new Error(`not seen ${count} × ${pattern}:\n${out.stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const exit = async () => {
    const { code } = await within(child.status, () => out.stderr);
    // A worker left running would hold the pipes open: bounded too.
    await within(reading, () => `a worker outlived the supervisor:\n${out.stderr}`);
    return code;
  };
  return { child, out, until, exit };
}

Deno.test("two workers print the start banner once, not once per worker", async () => {
  await using tmp = await tempKvPath();
  const serve = spawnServe({ KV_PATH: tmp.path });
  try {
    await serve.until(/"message":"dream-api listening"/g, 2);
  } finally {
    serve.child.kill("SIGTERM");
  }
  assert.equal(await serve.exit(), 0, serve.out.stderr);
  assert.equal(
    serve.out.stdout.match(/dream-api is running: open /g)?.length,
    1,
    `stdout:\n${serve.out.stdout}`,
  );
});

Deno.test("SIGTERM before the workers listen: each stops its start-up and exits 0, and so does the supervisor", async () => {
  await using tmp = await tempKvPath();
  const serve = spawnServe({ KV_PATH: tmp.path });
  // Both isolates spawned, neither listening yet (one takes far longer to load than this).
  await serve.until(/"message":"worker started","pid":\d+,"isolate"/g, 2);
  assert.doesNotMatch(serve.out.stderr, /dream-api listening/, "too late: a worker listens");
  serve.child.kill("SIGTERM");
  assert.equal(await serve.exit(), 0, serve.out.stderr);
  assert.doesNotMatch(serve.out.stderr, /worker failed|exited unexpectedly/, serve.out.stderr);
  assert.match(serve.out.stderr, /"message":"dream-api stopped","code":0/);
  assert.doesNotMatch(serve.out.stdout, /dream-api is running/, "no banner for a stopped start-up");
});

Deno.test("a worker killed by the very signal it was sent had not started serving: done is 0; any other death while draining is 1", async () => {
  for (const [death, expected] of [["SIGTERM", 0], ["SIGKILL", 1]] as const) {
    const lines: string[] = [];
    const cluster = supervise({
      workers: 1,
      spawn: () => {
        const w = fakeWorker(1);
        w.kill = () => w.exitWith({ success: false, code: 128 + 15, signal: death });
        return w;
      },
      log: createLogger({ write: (l) => lines.push(l) }),
    });
    cluster.stop("SIGTERM");
    assert.equal(await cluster.done, expected, lines.join("\n"));
  }
});
