/**
 * `deno run -A bench/recording.ts [--calls 200000] [--rounds 3]`: what recording analytics in
 * the meter's commits costs the hot path, measured on the meter itself (no HTTP, so the difference
 * is not lost in the noise of a loaded machine).
 *
 * On a fresh KV file, 50 concurrent callers count 1 unit each for end-users spread over 10,000
 * (as `deno task bench`'s spread scenario), through meters that differ only in their
 * `beforeCommit`: none; the analytics recorder (what main.ts runs); and, for the sorting decision,
 * the recorder plus a count-ordered index kept in the same commits (delete the old position, write
 * the new one: two more mutations per counted request). Rounds alternate the variants; the table
 * gives calls/s (mean over rounds) and the ratio to no recording.
 */
import { parseArgs } from "node:util";
import { UsageRecorder } from "../lib/analytics/recorder.ts";
import { type MeterOptions, UsageMeter } from "../lib/usage/meter.ts";
import { periodOf } from "../lib/usage/period.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    calls: { type: "string", default: "200000" },
    rounds: { type: "string", default: "3" },
  },
});
const CALLS = Number(flags.values.calls);
const ROUNDS = Number(flags.values.rounds);
const CONCURRENCY = 50;
const USERS = 10_000;
const now = new Date();
const period = periodOf("month", now);

type Variant = { name: string; options: () => MeterOptions };
const VARIANTS: Variant[] = [
  { name: "no recording", options: () => ({}) },
  {
    name: "analytics recorder (main.ts)",
    options: () => new UsageRecorder({ now: () => now }).meterOptions(),
  },
  {
    name: "recorder + count-ordered index (rejected)",
    options: () => {
      const { beforeCommit, commitCost } = new UsageRecorder({ now: () => now }).meterOptions();
      return {
        beforeCommit(op, decided) {
          const done = beforeCommit(op, decided);
          for (const { req, ok, before } of decided) {
            if (!ok) continue;
            const index = (
              count: number,
            ) => [
              "usage_by_count",
              req.platformId,
              req.period.key,
              Number.MAX_SAFE_INTEGER - count,
              req.userId,
            ];
            if (before > 0) op.delete(index(before));
            op.set(index(before + req.amount), null);
          }
          return done;
        },
        commitCost(req) {
          const cost = commitCost(req);
          const bytes = 2 * (60 + req.userId.length);
          return {
            ...cost,
            each: {
              mutations: cost.each.mutations + 2,
              keyBytes: cost.each.keyBytes + bytes,
              mutationBytes: cost.each.mutationBytes + bytes + 8,
            },
          };
        },
      };
    },
  },
];

/**
 * Two timed passes on one fresh KV: the first meets every end-user for the first time this period
 * (each gets its tier written and is counted as active), the second is the steady state.
 */
async function run(variant: Variant, round: number): Promise<{ first: number; steady: number }> {
  const dir = await Deno.makeTempDir({ prefix: "dream-bench-recording-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  const meter = new UsageMeter(kv, variant.options());
  const pass = async () => {
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        const i = next++;
        const user = (i * 7919 + round) % USERS;
        await meter.count({
          platformId: "plt_bench",
          userId: `user-${user}`,
          plan: user % 5 === 0 ? "pro" : "free",
          period,
          limit: null,
          amount: 1,
        });
      }
    }));
    return CALLS / ((performance.now() - started) / 1000);
  };
  const first = await pass();
  const steady = await pass();
  await meter.close();
  kv.close();
  await Deno.remove(dir, { recursive: true });
  return { first, steady };
}

const results = new Map<string, { first: number; steady: number }[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of VARIANTS) {
    const result = await run(variant, round);
    results.set(variant.name, [...(results.get(variant.name) ?? []), result]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = results.get(VARIANTS[0].name)!;
const baseFirst = median(base.map((r) => r.first));
const baseSteady = median(base.map((r) => r.steady));
console.log(
  `\n### Hot-path cost of recording (${new Date().toISOString().slice(0, 10)}, ${
    CALLS.toLocaleString("en-US")
  } counts per pass, median of ${ROUNDS} rounds, ${CONCURRENCY} concurrent, ${
    USERS.toLocaleString("en-US")
  } end-users, KV file, ${navigator.hardwareConcurrency} CPUs)\n`,
);
console.log(
  "| meter | counts/s, first pass (all end-users new) | ratio | counts/s, steady state | ratio |\n|---|---|---|---|---|",
);
for (const variant of VARIANTS) {
  const rs = results.get(variant.name)!;
  const first = median(rs.map((r) => r.first));
  const steady = median(rs.map((r) => r.steady));
  console.log(
    `| ${variant.name} | ${Math.round(first).toLocaleString("en-US")} | ${
      (first / baseFirst).toFixed(2)
    } | ${Math.round(steady).toLocaleString("en-US")} | ${(steady / baseSteady).toFixed(2)} |`,
  );
}
