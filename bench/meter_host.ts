/**
 * `deno run -A bench/meter_host.ts [--rounds R] [--requests N] [--isolates K]`: what one count
 * costs the meter's thread, alone and as host.ts's meter host, with no HTTP. The same counts
 * (spread over 10,000 end-users, or one hot end-user; 50 concurrent callers) are made either in
 * this isolate, calling the `UsageMeter` directly, or by K driver isolates (bench/_meter_driver.ts)
 * through `RemoteMeter`s, as host.ts's HTTP isolates make them. CPU per count by thread of this
 * process from /proc: this isolate's main thread is the meter's; with drivers, its figure is what
 * bounds WORKERS=N's counted requests on any number of cores (1 ÷ µs per count).
 *
 * Rounds alternate the two ways. Prints markdown.
 */
import { parseArgs } from "node:util";
import { recordingMeter } from "../lib/analytics/recorder.ts";
import { openKvPair } from "../lib/kv/open.ts";
import { periodOf } from "../lib/usage/period.ts";
import { serveMeter } from "../lib/usage/remote_meter.ts";
import { loadAverage, threadCpu, threadRole } from "./_bench.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "100000" },
    isolates: { type: "string", default: "2" },
  },
});
const ROUNDS = Number(flags.values.rounds);
const REQUESTS = Number(flags.values.requests);
const ISOLATES = Number(flags.values.isolates);
const CONCURRENCY = 50;
const log = (line: string) => console.error(`[bench:meter-host] ${line}`);

const dir = await Deno.makeTempDir({ prefix: "dream-bench-meter-host-" });
const kvPath = `${dir}/meter.kv`;
const { kv, reads } = await openKvPair(kvPath);
const meter = recordingMeter(kv, reads);
const drivers = Array.from({ length: ISOLATES }, () => {
  const worker = new Worker(new URL("./_meter_driver.ts", import.meta.url), { type: "module" });
  serveMeter(worker, meter);
  return worker;
});
const PLATFORM = "plt_bench_meter_host";

/** Counts made in this isolate, straight into the meter. */
async function direct(prefix: string, users: number, requests: number): Promise<void> {
  const period = periodOf("month", new Date());
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests) {
      const i = next++;
      await meter.count({
        platformId: PLATFORM,
        userId: `${prefix}${i % users}`,
        plan: "free",
        period,
        limit: null,
        amount: 1,
      });
    }
  }));
}

/** The same counts made by the driver isolates, through their `RemoteMeter`s. */
async function remote(prefix: string, users: number, requests: number): Promise<void> {
  await Promise.all(drivers.map((worker) =>
    new Promise<void>((resolve) => {
      const done = (event: MessageEvent) => {
        if ((event.data as { t?: string })?.t !== "ran") return;
        worker.removeEventListener("message", done);
        resolve();
      };
      worker.addEventListener("message", done);
      worker.postMessage({
        t: "run",
        platformId: PLATFORM,
        prefix: `${prefix}`,
        users,
        // The same end-users for every driver: their calls meet in the host's batches.
        requests: Math.ceil(requests / drivers.length),
        concurrency: Math.ceil(CONCURRENCY / drivers.length),
      });
    })
  ));
}

/** CPU µs by role of every thread of this process while `run` runs. */
async function measure(run: () => Promise<void>): Promise<Map<string, number>> {
  const before = await threadCpu(Deno.pid);
  await run();
  const after = await threadCpu(Deno.pid);
  const roles = new Map<string, number>();
  for (const [tid, t] of after) {
    const role = tid === String(Deno.pid)
      ? "meter thread"
      : /^worker-\d/.test(t.name)
      ? "driver isolates"
      : threadRole(t.name, false);
    roles.set(role, (roles.get(role) ?? 0) + t.us - (before.get(tid)?.us ?? 0));
  }
  return roles;
}

const loadBefore = await loadAverage();
const scenarios = [
  { name: "counts over 10,000 end-users", prefix: "spread-", users: 10_000 },
  { name: "counts for one hot end-user", prefix: "hot-", users: 1 },
] as const;
const ways = [
  { name: "in the meter's isolate (one process, WORKERS=1)", run: direct },
  { name: `from ${ISOLATES} driver isolates (host.ts, WORKERS=${ISOLATES})`, run: remote },
] as const;
const results = new Map<string, Map<string, number>[]>();
for (const s of scenarios) {
  log(`warming up: ${s.name}`);
  for (const way of ways) await way.run(s.prefix, s.users, 20_000);
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of ways) {
      log(`${s.name}, ${way.name}, round ${round + 1}`);
      const roles = await measure(() => way.run(s.prefix, s.users, REQUESTS));
      const key = `${s.name}|${way.name}`;
      results.set(key, [...results.get(key) ?? [], roles]);
    }
  }
}
const loadAfter = await loadAverage();
for (const worker of drivers) worker.terminate();
await meter.close();
kv.close();
reads.close();
await Deno.remove(dir, { recursive: true });

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[] = [];
for (const s of scenarios) {
  for (const way of ways) {
    const runs = results.get(`${s.name}|${way.name}`)!;
    const perCount = (role: string) => median(runs.map((r) => (r.get(role) ?? 0) / REQUESTS));
    const all = median(runs.map((r) => [...r.values()].reduce((a, b) => a + b, 0) / REQUESTS));
    const meterUs = perCount("meter thread");
    const kvUs = perCount("KV SQLite workers (one per KV handle: writes, reads)");
    rows.push(
      `| ${s.name} | ${way.name} | ${meterUs.toFixed(1)} | ${
        Math.round(1e6 / meterUs).toLocaleString("en-US")
      } | ${perCount("driver isolates").toFixed(1)} | ${kvUs.toFixed(1)} | ${all.toFixed(1)} |`,
    );
  }
}
console.log(`## The meter's thread, alone and as host.ts's meter host (bench/meter_host.ts)

No HTTP: ${CONCURRENCY} concurrent callers make ${
  REQUESTS.toLocaleString("en-US")
} counts per run (no limit), either in the meter's own isolate or from ${ISOLATES} driver isolates
through \`RemoteMeter\` (counts travel as host.ts's HTTP isolates send them); ${ROUNDS} alternated
rounds, medians; CPU µs per count by thread of the process (utime + stime, /proc). In the first
way the meter thread also runs the callers' loops. Load average ${loadBefore} before, ${loadAfter} after.

| Scenario | the counts are made | meter thread µs/count | its bound, counts/s | driver isolates µs/count | KV SQLite threads µs/count | all threads µs/count |
|---|---|---:|---:|---:|---:|---:|
${rows.join("\n")}
`);
