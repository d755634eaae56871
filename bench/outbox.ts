/**
 * `deno run -A bench/outbox.ts [--quick] [--markdown]`: what a founders' event costs the commit
 * that writes it. On a fresh KV file, sequential commits shaped like the meter's (check and bump a
 * shard guard, set a counter) are timed without and with `queueEvent` (the outbox record and its
 * due index), alternating in rounds. A threshold event is at most two per end-user, counter and
 * period, so this cost is paid on a tiny share of counts; the others pay nothing (no read, no write).
 *
 * Prints markdown (bench/run.ts appends it to bench/RESULTS.md).
 */
import { parseArgs } from "node:util";
import { keys } from "../lib/kv/keys.ts";
import { queueEvent } from "../lib/kv/outbox.ts";
import { toStoredCount } from "../lib/kv/usage.ts";
import { thresholdEvent } from "../lib/usage/events.ts";
import { periodOf } from "../lib/usage/period.ts";

const flags = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean", default: false }, markdown: { type: "boolean" } },
});
const COMMITS = flags.values.quick ? 300 : 2_000;
const ROUNDS = flags.values.quick ? 2 : 4;

const dir = await Deno.makeTempDir({ prefix: "dream-bench-outbox-" });
const kv = await Deno.openKv(`${dir}/bench.kv`);
const period = periodOf("month", new Date());
const bounds = { start: period.start.toISOString(), end: period.end.toISOString() };
const guard = keys.usageShard("plt_bench", 0);
let versionstamp = (await kv.get(guard)).versionstamp;

/** `COMMITS` sequential commits; with `events`, each also queues one usage event. Mean µs each. */
async function run(events: boolean, round: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < COMMITS; i++) {
    const userId = `user-${round}-${i}`;
    const op = kv.atomic().check({ key: guard, versionstamp }).sum(guard, 1n);
    op.set(keys.usage("plt_bench", period.key, userId), toStoredCount(80));
    if (events) {
      const now = Date.now();
      const req = {
        platformId: "plt_bench",
        userId,
        plan: "pro",
        period,
        limit: 100,
        amount: 1,
      };
      op.set(keys.usageNotice("plt_bench", period.key, userId, ""), { near: [100], reached: [] });
      queueEvent(op, "plt_bench", thresholdEvent(req, "usage.near_limit", 80, bounds, now), now);
    }
    const result = await op.commit();
    if (!result.ok) throw new Error("unexpected conflict");
    versionstamp = result.versionstamp;
  }
  return (performance.now() - started) * 1000 / COMMITS;
}

const without: number[] = [];
const withEvent: number[] = [];
try {
  await run(false, -1); // warm-up
  await run(true, -2);
  for (let round = 0; round < ROUNDS; round++) {
    without.push(await run(false, round * 2));
    withEvent.push(await run(true, round * 2 + 1));
  }
} finally {
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const a = mean(without), b = mean(withEvent);
console.log([
  "## (8) The cost of a commit that writes a founders' event",
  "",
  `${
    COMMITS.toLocaleString("en-US")
  } sequential commits per run on a local KV file (each fsynced), ${ROUNDS} ` +
  "alternating rounds; a commit as the meter's: check and bump a shard guard, set a counter; with an event, " +
  "also the threshold notice and `queueEvent` (outbox record + due index).",
  "",
  "| commit | µs per commit (mean) |",
  "|---|---:|",
  `| counter only | ${a.toFixed(0)} |`,
  `| counter + notice + outbox event | ${b.toFixed(0)} |`,
  "",
  `An event adds ${(b - a).toFixed(0)} µs (${
    ((b / a - 1) * 100).toFixed(0)
  } %) to the commit that ` +
  "carries it; commits carry many requests, and only a crossing adds this.",
  "",
].join("\n"));
