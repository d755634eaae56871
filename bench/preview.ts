/**
 * `deno run -A bench/preview.ts [--users 100000] [--runs 5]`: the founders' analytics at scale.
 *
 * Seeds a fresh KV file with `--users` end-users of one platform through the real meter and
 * recorder (counters, tiers, daily sums), then times through the real app (`app.request`):
 * the tier preview (`POST /dashboard/api/tiers/preview`) cold (period snapshot built by the
 * request) and warm (snapshot reused, as while a founder types), the usage report's first and a
 * deep page, a `q` search, and the full CSV stream. For the sorting decision it also times the
 * alternative: one scan of the counters with a top-100 heap per request. Prints a markdown table.
 */
import { parseArgs } from "node:util";
import { SnapshotCache } from "../lib/analytics/snapshot.ts";
import { keys } from "../lib/kv/keys.ts";
import { periodOf } from "../lib/usage/period.ts";
import { testApp } from "../tests/_helpers/app.ts";
import { paidFounderWithPlatform } from "../tests/analytics/_world.ts";

const flags = parseArgs({
  args: Deno.args,
  options: { users: { type: "string", default: "100000" }, runs: { type: "string", default: "5" } },
});
const USERS = Number(flags.values.users);
const RUNS = Number(flags.values.runs);
const TIERS = [
  { id: "free", name: "Free", price: 0, limit: 100, period: "month" as const },
  { id: "pro", name: "Pro", price: 29, limit: 10_000, period: "month" as const },
  { id: "team", name: "Team", price: 99, limit: 100_000, period: "month" as const },
];

const dir = await Deno.makeTempDir({ prefix: "dream-bench-preview-" });
const kvPath = `${dir}/bench.kv`;
// As main.ts builds it: snapshots kept 15 s, tiers read by a worker from the KV file.
const snapshots = () => new SnapshotCache({ kvPath });
await using t = await testApp({ kvPath, deps: { usageSnapshots: snapshots() } });
const founder = await paidFounderWithPlatform(t, TIERS);
const period = periodOf("month", t.deps.now());

// ── Seed through the meter (its commits record the tiers and sums, as in production) ─────────
const started = performance.now();
const plans = ["free", "free", "free", "free", "pro", "pro", "team"];
for (let i = 0; i < USERS; i += 4000) {
  await Promise.all(Array.from({ length: Math.min(4000, USERS - i) }, (_, j) => {
    const n = i + j;
    const plan = plans[n % plans.length];
    return t.deps.meter.count({
      platformId: founder.platformId,
      userId: `user-${String(n).padStart(7, "0")}`,
      plan,
      period,
      limit: null,
      amount: 1 + ((n * 2654435761) >>> 0) % (plan === "free" ? 110 : 12_000),
    });
  }));
}
const seedMs = performance.now() - started;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${median.toFixed(0)} ms (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)})`;
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await t.app.request(path, {
    method,
    headers: body ? { ...founder.headers, "content-type": "application/json" } : founder.headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

const preview = () =>
  call("POST", "/dashboard/api/tiers/preview", {
    tiers: TIERS.map((tier) => ({ ...tier, limit: Math.round(tier.limit * 0.8) })),
  }).then((r) => r.json());

const rows: [string, string][] = [];
const cold = (fn: () => Promise<unknown>) => async () => {
  t.deps.usageSnapshots = snapshots(); // nothing cached: the request reads the period
  return await fn();
};
const measure = async (label: string, fn: () => Promise<unknown>) => {
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) samples.push(await time(fn));
  rows.push([label, stats(samples)]);
};

const answer = await cold(preview)() as { tiers: unknown };
await measure("POST /dashboard/api/tiers/preview, cold (reads the period)", cold(preview));
await measure("POST /dashboard/api/tiers/preview, warm (snapshot reused)", preview);
await measure(
  "GET /dashboard/api/usage, first page, cold",
  cold(() => call("GET", "/dashboard/api/usage").then((r) => r.json())),
);
await measure(
  "GET /dashboard/api/usage, first page, warm",
  () => call("GET", "/dashboard/api/usage").then((r) => r.json()),
);
const deep = encodeURIComponent(
  // A cursor half-way down: the page after the 50,000th end-user (cursors are [count, userId]).
  btoa(JSON.stringify([55, "user-0050000"])).replace(/=+$/, ""),
);
await measure(
  "GET /dashboard/api/usage, a deep page by cursor, warm",
  () => call("GET", `/dashboard/api/usage?cursor=${deep}`).then((r) => r.json()),
);
await measure(
  "GET /dashboard/api/usage?q=user-00123, warm",
  () => call("GET", "/dashboard/api/usage?q=user-00123").then((r) => r.json()),
);
let csvBytes = 0;
await measure("GET /dashboard/api/usage.csv, all end-users streamed", async () => {
  const res = await call("GET", "/dashboard/api/usage.csv");
  csvBytes = 0;
  for await (const chunk of res.body!) csvBytes += chunk.length;
});

// The alternative for sorting: per request, scan every counter, keep the top 100 in a heap.
await measure("(alternative) scan + top-100 heap per request", async () => {
  const heap: { count: number; userId: string }[] = [];
  const prefix = keys.usageInPeriod(founder.platformId, period.key);
  for await (const e of t.kv.list<number>({ prefix }, { batchSize: 1000 })) {
    const row = { count: e.value, userId: e.key[3] as string };
    if (heap.length < 100) {
      heap.push(row);
      siftUp(heap, heap.length - 1);
    } else if (row.count > heap[0].count) {
      heap[0] = row;
      siftDown(heap, 0);
    }
  }
});

console.log(
  `\n### Founders' analytics at ${USERS.toLocaleString("en-US")} end-users (${
    new Date().toISOString().slice(0, 10)
  }, ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno})\n`,
);
console.log(`Seeded through the meter + recorder in ${(seedMs / 1000).toFixed(1)} s.`);
console.log(`Preview answer: ${JSON.stringify(answer.tiers)}`);
console.log(`CSV: ${(csvBytes / 1e6).toFixed(1)} MB.\n`);
console.log("| operation | median of " + RUNS + " |\n|---|---|");
for (const [label, figure] of rows) console.log(`| ${label} | ${figure} |`);
await Deno.remove(dir, { recursive: true }).catch(() => {});

function siftUp(h: { count: number }[], i: number) {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].count <= h[i].count) return;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function siftDown(h: { count: number }[], i: number) {
  for (;;) {
    const l = 2 * i + 1, r = l + 1;
    let m = i;
    if (l < h.length && h[l].count < h[m].count) m = l;
    if (r < h.length && h[r].count < h[m].count) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i], h[m]];
    i = m;
  }
}
