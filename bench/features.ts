/**
 * `deno run -A bench/features.ts [--quick] [--rounds N] [--seconds N] [--markdown]`: what features
 * cost the hot path. One server (main.ts as `deno task start` runs it) on a fresh KV file; wrk
 * alternates, round after round, POST /api/data over 10,000 end-users: on a tier without features
 * ("plain") without a body and with `{"amount":1}`, and calls naming a metered feature
 * (`{"feature":"exports"}`) on a tier with three features ("featured": the same main limit, two
 * metered features and one on/off), all with finite limits far from the thresholds. Naming a
 * feature takes a body, and a body costs the HTTP path by itself, so the comparison that isolates
 * features is against the plain call with a body of the same kind. Target: within 10 %.
 *
 * Prints markdown (bench/run.ts appends it to bench/RESULTS.md). Needs `wrk` on PATH.
 */
import { parseArgs } from "node:util";
import {
  available,
  makePlatform,
  processCpu,
  ROOT,
  rps,
  spawnServer,
  startFlags,
  wrk,
  type WrkResult,
} from "./_bench.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    seconds: { type: "string" },
    markdown: { type: "boolean", default: false },
  },
});
const QUICK = flags.values.quick;
const SECONDS = Number(flags.values.seconds ?? (QUICK ? 3 : 10));
const ROUNDS = Number(flags.values.rounds ?? (QUICK ? 2 : 3));
const USERS = 10_000;
const log = (line: string) => console.error(`[bench:features] ${line}`);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  if (!(await available("wrk"))) {
    console.error("bench/features.ts needs wrk on PATH");
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "dream-bench-features-" });
  const kvPath = `${dir}/bench.kv`;
  const { apiKey } = await makePlatform(kvPath, 10_000);
  const server = await spawnServer(
    ["run", "-A", ...await startFlags(), "--config", `${ROOT}deno.json`, `${ROOT}main.ts`],
    { APP_ENV: "test", KV_PATH: kvPath, PORT: "0" },
    /"message":"dream-api listening","port":(\d+)/,
    dir,
  );
  const base = {
    BENCH_KEY: apiKey,
    BENCH_METHOD: "POST",
    BENCH_PATH: "/api/data",
    BENCH_USERS: String(USERS),
    BENCH_PREFIX: "spread-",
    BENCH_COUNT: "1",
  };
  const variants = {
    // End-users of their own per variant: analytics writes an end-user's tier again whenever it
    // changes (lib/analytics/recorder.ts), which alternating tiers over the same ones would measure.
    "tier without features, no body": { ...base, BENCH_PLAN: "plain", BENCH_PREFIX: "plain-" },
    'tier without features, {"amount":1}': {
      ...base,
      BENCH_PLAN: "plain",
      BENCH_PREFIX: "amount-",
      BENCH_BODY: '{"amount":1}',
    },
    'tier with 3 features, calls naming one ({"feature":"exports"})': {
      ...base,
      BENCH_PLAN: "featured",
      BENCH_PREFIX: "featured-",
      BENCH_BODY: '{"feature":"exports"}',
    },
  };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const runs = new Map(names.map((n) => [n, [] as { r: WrkResult; cpuUs: number }[]]));
  try {
    log("warming up");
    for (const name of names) await wrk(server.url, variants[name], { seconds: 3 });
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always follows the other's garbage.
      for (const name of round % 2 ? [...names].reverse() : names) {
        log(`${name}, round ${round + 1}`);
        const before = await processCpu(server.pid);
        const r = await wrk(server.url, variants[name], { seconds: SECONDS });
        runs.get(name)!.push({ r, cpuUs: await processCpu(server.pid) - before });
      }
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }

  const row = (name: keyof typeof variants) => {
    const rs = runs.get(name)!;
    return {
      rps: mean(rs.map(({ r }) => rps(r))),
      p50: mean(rs.map(({ r }) => r.p50_us)) / 1000,
      p99: Math.max(...rs.map(({ r }) => r.p99_us)) / 1000,
      cpu: rs.reduce((a, { cpuUs }) => a + cpuUs, 0) / rs.reduce((a, { r }) => a + r.requests, 0),
      bad: rs.reduce((a, { r }) => a + r.s5xx + r.sother + r.s429, 0),
    };
  };
  const measured = names.map(row);
  const [bare, plain, featured] = measured;
  const ratio = featured.rps / plain.rps;
  const lines = [
    `## (7) Features on the hot path: POST /api/data, ${USERS.toLocaleString("en-US")} end-users`,
    "",
    `One server (main.ts), wrk 1 thread, 50 connections, ${SECONDS} s per run, ${ROUNDS} alternating rounds; ` +
    `req/s and p50 are means, p99 the worst round, CPU µs/req the server process's utime + stime ÷ requests.`,
    "",
    "| variant | req/s | p50 ms | p99 ms | CPU µs/req | non-200 |",
    "|---|---:|---:|---:|---:|---:|",
    ...names.map((name, i) => {
      const v = measured[i];
      return `| ${name} | ${Math.round(v.rps).toLocaleString("en-US")} | ${v.p50.toFixed(2)} | ${
        v.p99.toFixed(2)
      } | ${v.cpu.toFixed(1)} | ${v.bad} |`;
    }),
    "",
    `Featured ÷ plain with a body: ${ratio.toFixed(3)}× req/s, ${
      (featured.cpu / plain.cpu).toFixed(3)
    }× CPU per request (target: req/s within 10 %: ${ratio >= 0.9 ? "met" : "**not met**"}). ` +
    `Featured ÷ plain without a body: ${(featured.rps / bare.rps).toFixed(3)}× req/s, ${
      (featured.cpu / bare.cpu).toFixed(3)
    }× CPU per request.`,
    "",
  ];
  console.log(lines.join("\n"));
}

if (import.meta.main) await main();
