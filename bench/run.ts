/**
 * `deno task bench [--quick]`: dream-api's hot path against bare `Deno.serve`, in one run.
 *
 * Starts the ceiling (bench/bare.ts), the floor (bench/floor.ts: the contract's unavoidable work
 * per request, without counting) and the real server (main.ts on a fresh KV file with one
 * platform and key) as subprocesses, alternates them under the same wrk settings (1 thread,
 * 50 connections, the same Lua script), and prints a markdown table, also written to
 * bench/RESULTS.md (bench/out/quick.md with --quick). Needs `wrk` on PATH.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { runAdmin } from "../cli/admin.ts";
import { keys } from "../lib/kv/keys.ts";
import { setTiers } from "../lib/kv/tiers.ts";
import { periodOf } from "../lib/usage/period.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const LUA = `${ROOT}bench/wrk/tenant.lua`;

const flags = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    "distinct-users": { type: "string" },
  },
});
const QUICK = flags.values.quick;
/** Seconds per measured wrk run. */
const DURATION = Number(flags.values.duration ?? (QUICK ? 3 : 10));
/** Alternations of bare/floor/real per scenario; figures are the mean over rounds. */
const ROUNDS = Number(flags.values.rounds ?? (QUICK ? 1 : 2));
const CONNECTIONS = 50;
const SPREAD_USERS = 10_000;
const EXACT_LIMIT = 10_000;
const DISTINCT_USERS = Number(flags.values["distinct-users"] ?? (QUICK ? 50_000 : 1_000_000));

interface WrkResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  counted: boolean;
  s2xx: number;
  s429: number;
  s5xx: number;
  sother: number;
}

const rps = (r: WrkResult) => r.requests / (r.duration_us / 1e6);

/** The `--v8-flags=…` of `deno task start`, so the server runs here as it does in production. */
async function startFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return (String(config.tasks?.start ?? "").match(/--v8-flags=\S+/g) ?? []);
}

interface Server {
  url: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a server and resolves once `listening` finds its port in what it prints. */
async function spawnServer(
  args: string[],
  env: Record<string, string>,
  listening: RegExp,
  cwd: string,
): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let onText = () => {};
  const drain = async (stream: typeof child.stdout) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      output = (output + text).slice(-20_000);
      onText();
    }
  };
  void drain(child.stdout);
  void drain(child.stderr);
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${output}`)), 60_000);
    onText = () => {
      const found = listening.exec(output)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.status.then(() => reject(new Error(`exited before listening:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => output,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}

/** Runs wrk with the tenant script; `env` configures the script (see bench/wrk/tenant.lua). */
async function wrk(
  url: string,
  env: Record<string, string>,
  options: { seconds?: number; connections?: number } = {},
): Promise<WrkResult> {
  const out = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${options.connections ?? CONNECTIONS}`,
      `-d${options.seconds ?? DURATION}s`,
      "--timeout",
      "5s",
      "-s",
      LUA,
      url,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!out.success || !line) {
    throw new Error(`wrk failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(line.slice("BENCH_JSON ".length));
}

async function wrkAvailable(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Peak and current resident memory of a process, in MiB (Linux /proc). */
async function memoryOf(pid: number): Promise<{ peakMiB: number; rssMiB: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return { peakMiB: kib("VmHWM") / 1024, rssMiB: kib("VmRSS") / 1024 };
}

/** The 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "? ? ?");
  return text.split(" ").slice(0, 3).join(", ");
}

async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memGiB = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024 / 1024;
  const wrkVersion = new TextDecoder().decode(
    (await new Deno.Command("wrk", { args: ["--version"], stdout: "piped" }).output()).stdout,
  ).split("\n")[0].split(" Copyright")[0];
  return `${model}, ${navigator.hardwareConcurrency} cores, ${memGiB.toFixed(1)} GiB RAM, ` +
    `${Deno.build.os}/${Deno.build.arch}; deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ${wrkVersion}`;
}

const fmt = {
  rps: (n: number) => Math.round(n).toLocaleString("en-US"),
  ms: (us: number) => (us / 1000).toFixed(2),
  ratio: (n: number) => `${n.toFixed(2)}×`,
};

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Paired {
  name: string;
  bare: WrkResult[];
  floor: WrkResult[];
  real: WrkResult[];
}

async function main() {
  if (!(await wrkAvailable())) {
    console.error(
      "deno task bench needs wrk (https://github.com/wg/wrk) on PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install wrk\n  macOS: brew install wrk",
    );
    Deno.exit(1);
  }
  const description = await machine();
  const started = new Date();
  const loadBefore = await loadAverage();
  const dir = await Deno.makeTempDir({ prefix: "dream-bench-" });
  const kvPath = `${dir}/bench.kv`;

  // One platform and key, made the way operators make them. Tier "free" is unlimited so runs
  // measure the path, not refusals; "exact" has the limit of the exactness run.
  const kv = await Deno.openKv(kvPath);
  const { platformId, apiKey } = await runAdmin(kv, ["platform", "create", "--name", "Bench"]) as {
    platformId: string;
    apiKey: string;
  };
  await setTiers(kv, platformId, [
    { id: "free", name: "Free", price: 0, limit: null, period: "month" },
    { id: "exact", name: "Exact", price: 1, limit: EXACT_LIMIT, period: "month" },
  ]);
  kv.close();

  const bare = await spawnServer(
    ["run", "-A", `${ROOT}bench/bare.ts`, "0"],
    {},
    /listening (\d+)/,
    dir,
  );
  const floor = await spawnServer(
    ["run", "-A", `${ROOT}bench/floor.ts`, "0"],
    {},
    /listening (\d+)/,
    dir,
  );
  const v8Flags = await startFlags();
  const real = await spawnServer(
    ["run", "-A", ...v8Flags, "--config", `${ROOT}deno.json`, `${ROOT}main.ts`],
    { APP_ENV: "test", KV_PATH: kvPath, PORT: "0" },
    /"message":"dream-api listening","port":(\d+)/,
    dir,
  );
  const log = (line: string) => console.error(`[bench] ${line}`);
  try {
    const base = { BENCH_KEY: apiKey };
    const spreadPost = {
      ...base,
      BENCH_METHOD: "POST",
      BENCH_PATH: "/api/data",
      BENCH_USERS: String(SPREAD_USERS),
      BENCH_PREFIX: "spread-",
    };
    const hotPost = {
      ...base,
      BENCH_METHOD: "POST",
      BENCH_PATH: "/api/data",
      BENCH_USERS: "1",
      BENCH_PREFIX: "hot-",
      BENCH_COUNT: "1",
    };
    const usageGet = { ...spreadPost, BENCH_METHOD: "GET", BENCH_PATH: "/api/usage" };

    /** The server's peak RSS after each phase: where the peak comes from. */
    const peaks: string[] = [];
    const notePeak = async (phase: string) =>
      peaks.push(`${phase} ${(await memoryOf(real.pid)).peakMiB.toFixed(0)}`);
    await notePeak("start");

    // Warm all three (JIT, caches, KV pages) before anything is measured.
    log("warming up");
    await wrk(bare.url, spreadPost, { seconds: 2 });
    await wrk(floor.url, spreadPost, { seconds: 2 });
    await wrk(real.url, spreadPost, { seconds: 3 });
    await notePeak("warm-up");

    const paired: Paired[] = [];
    for (
      const [name, env] of [
        [`(1) POST /api/data, ${SPREAD_USERS.toLocaleString("en-US")} end-users`, spreadPost],
        ["(2) POST /api/data, one hot end-user", hotPost],
        [`(3) GET /api/usage, ${SPREAD_USERS.toLocaleString("en-US")} end-users`, usageGet],
      ] as const
    ) {
      const p: Paired = { name, bare: [], floor: [], real: [] };
      for (let round = 0; round < ROUNDS; round++) {
        log(`${name}: bare, round ${round + 1}`);
        p.bare.push(await wrk(bare.url, env));
        log(`${name}: floor, round ${round + 1}`);
        p.floor.push(await wrk(floor.url, env));
        log(`${name}: dream-api, round ${round + 1}`);
        p.real.push(await wrk(real.url, env));
      }
      paired.push(p);
      await notePeak(name.slice(0, 3));
    }

    // (4) Exactness: one end-user on a tier of limit 10,000, 64 connections.
    log("(4) exactness run");
    const exact = await wrk(real.url, {
      ...base,
      BENCH_METHOD: "POST",
      BENCH_PATH: "/api/data",
      BENCH_USERS: "1",
      BENCH_PREFIX: "exact-",
      BENCH_PLAN: "exact",
      BENCH_COUNT: "1",
    }, { connections: 64, seconds: Math.max(5, DURATION / 2) });
    const usageRes = await fetch(`${real.url}/api/usage`, {
      headers: {
        authorization: `Bearer ${apiKey}`,
        "x-user-id": "exact-1",
        "x-user-plan": "exact",
      },
    });
    const exactUsage = (await usageRes.json()).usage?.count;
    // Every request after the limit is refused, so the in-flight ones wrk cuts off at the end
    // are refusals: enough 429s after the grants make the 200 count complete.
    const exactPass = exact.s2xx === EXACT_LIMIT && exactUsage === EXACT_LIMIT &&
      exact.s5xx === 0 && exact.s429 > 64;
    await notePeak("(4)");

    // (5) Peak RSS after DISTINCT_USERS distinct end-users were counted (fast: wrk, chunks).
    log(`(5) counting ${DISTINCT_USERS.toLocaleString("en-US")} distinct end-users`);
    let next = 0;
    let distinctErrors = 0;
    const distinctStart = performance.now();
    while (next < DISTINCT_USERS) {
      const r = await wrk(real.url, {
        ...base,
        BENCH_METHOD: "POST",
        BENCH_PATH: "/api/data",
        BENCH_PREFIX: "d-",
        BENCH_DISTINCT_FROM: String(next),
      }, { seconds: QUICK ? 2 : 10 });
      // Ids are handed out per request sent; the next chunk starts after the answered ones
      // (a few ids repeat: harmless, the distinct count is read back from KV below).
      next += r.requests;
      distinctErrors += r.errors.status + r.errors.timeout;
      log(`  ${next.toLocaleString("en-US")} requests (${fmt.rps(rps(r))}/s)`);
    }
    const distinctSeconds = (performance.now() - distinctStart) / 1000;
    const memory = await memoryOf(real.pid);
    await notePeak("(5)");
    const check = await Deno.openKv(kvPath);
    let distinct = 0;
    const period = periodOf("month", new Date()).key;
    for await (const _ of check.list({ prefix: keys.usageInPeriod(platformId, period) })) {
      distinct++;
    }
    check.close();
    distinct -= SPREAD_USERS + 2; // the spread, hot and exactness end-users counted earlier

    const table = renderReport({
      description: `${description}; server flags as \`deno task start\`: ${
        v8Flags.join(" ") || "none"
      }`,
      started,
      load: `${loadBefore} at the start; ${await loadAverage()} at the end`,
      paired,
      exact,
      exactUsage,
      exactPass,
      memory,
      distinct,
      distinctErrors,
      distinctSeconds,
      peaks,
    });
    const report = `${table}\n${await previewReport()}`;
    console.log(report);
    const target = QUICK ? `${ROOT}bench/out/quick.md` : `${ROOT}bench/RESULTS.md`;
    await Deno.mkdir(`${ROOT}bench/out`, { recursive: true });
    await Deno.writeTextFile(target, report);
    // Formatted as `deno fmt` would, so `deno task check` stays green after a run.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", target], stderr: "null" })
      .output();
    log(`written to ${target.slice(ROOT.length)}`);
  } catch (error) {
    console.error(`server output (tail):\n${real.output().slice(-3000)}`);
    throw error;
  } finally {
    await real.stop();
    await bare.stop();
    await floor.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function renderReport(r: {
  description: string;
  started: Date;
  load: string;
  paired: Paired[];
  exact: WrkResult;
  exactUsage: number;
  exactPass: boolean;
  memory: { peakMiB: number; rssMiB: number };
  distinct: number;
  distinctErrors: number;
  distinctSeconds: number;
  peaks: string[];
}): string {
  const targets = [
    { ratio: 0.5, p99Ms: 10 },
    { ratio: 0.4, p99Ms: Infinity },
    { ratio: 0, p99Ms: Infinity },
  ];
  const rows = r.paired.map((p, i) => {
    const bareRps = mean(p.bare.map(rps));
    const floorRps = mean(p.floor.map(rps));
    const realRps = mean(p.real.map(rps));
    const ratio = realRps / bareRps;
    const p50 = mean(p.real.map((x) => x.p50_us));
    const p99 = Math.max(...p.real.map((x) => x.p99_us));
    const errors = p.real.reduce(
      (n, x) => n + x.errors.status + x.errors.timeout + x.errors.read + x.errors.connect,
      0,
    );
    const fives = p.real.some((x) => x.counted)
      ? String(p.real.reduce((n, x) => n + x.s5xx, 0))
      : "n/a";
    const t = targets[i];
    const goals: string[] = [];
    if (t.ratio > 0) goals.push(`≥ ${t.ratio}×`);
    if (t.p99Ms !== Infinity) goals.push(`p99 < ${t.p99Ms} ms`);
    if (i === 1) goals.push("0 × 5xx");
    const met =
      (ratio >= t.ratio && p99 / 1000 < t.p99Ms && (i !== 1 || (fives === "0" && errors === 0)))
        ? "yes"
        : "**no**";
    return `| ${p.name} | ${fmt.rps(bareRps)} | ${fmt.rps(floorRps)} (${
      fmt.ratio(floorRps / bareRps)
    }) | ${fmt.rps(realRps)} | ${fmt.ratio(ratio)} | ${fmt.ratio(realRps / floorRps)} | ` +
      `${fmt.ms(p50)} | ${fmt.ms(p99)} | ${errors} | ${fives} | ${goals.join(", ") || "—"} | ` +
      `${goals.length ? met : "—"} |`;
  });
  const e = r.exact;
  return `# dream-api benchmark${QUICK ? " (quick smoke run: not comparable)" : ""}

- Date: ${r.started.toISOString()}
- Machine: ${r.description}
- Load average (1, 5, 15 min): ${r.load}
- wrk: 1 thread, ${CONNECTIONS} connections, ${DURATION} s per run, the same Lua script for every server; ` +
    `bare, floor and dream-api alternate, ${ROUNDS} round(s) each, req/s and p50 are means over rounds, p99 the worst round.
- bare: \`Deno.serve\` answering a constant JSON body (bench/bare.ts). floor: the same plus the work the contract ` +
    `requires before any counting: read its headers, SHA-256 the API key, take the POST body, answer JSON with ` +
    `\`RateLimit-*\` headers; no KV (bench/floor.ts).
- dream-api: \`main.ts\` on a fresh KV file, one platform and key made with the admin command.

| Scenario | bare req/s | floor req/s (÷ bare) | dream-api req/s | ratio to bare | ratio to floor | p50 ms | p99 ms | non-2xx + socket errors | 5xx | target (to bare) | met |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|
${rows.join("\n")}

| Check | Result | Target | met |
|---|---|---|---|
| (4) exactness: limit ${EXACT_LIMIT.toLocaleString("en-US")}, one end-user, 64 connections, ${
      fmt.rps(e.requests)
    } requests | ${e.s2xx} × 200, ${e.s429} × 429, ${e.s5xx} × 5xx; usage reads ${r.exactUsage} | exactly ${EXACT_LIMIT} × 200 and usage ${EXACT_LIMIT} | ${
      r.exactPass ? "yes" : "**no**"
    } |
| (5) server memory after ${r.distinct.toLocaleString("en-US")} distinct end-users counted (${
      r.distinctSeconds.toFixed(0)
    } s, ${r.distinctErrors} errors) | peak RSS (VmHWM) ${
      r.memory.peakMiB.toFixed(0)
    } MiB, RSS now ${r.memory.rssMiB.toFixed(0)} MiB | < 200 MiB after 1,000,000 | ${
      r.memory.peakMiB < 200 && r.distinct >= 1_000_000 ? "yes" : "**no**"
    } |

Server peak RSS (VmHWM, MiB) after each phase: ${r.peaks.join(", ")}.
`;
}

if (import.meta.main) await main();

/**
 * (6) The founders' tier impact preview and usage report at 100,000 end-users (10,000 with
 * --quick), measured by bench/preview.ts in its own process; its markdown table is appended.
 */
async function previewReport(): Promise<string> {
  const users = QUICK ? 10_000 : 100_000;
  console.error(`[bench] (6) analytics at ${users} end-users (bench/preview.ts)…`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}bench/preview.ts`,
      "--users",
      String(users),
      "--runs",
      QUICK ? "1" : "5",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const start = text.indexOf("| operation");
  if (!out.success || start < 0) {
    return `## (6) Analytics at ${users} end-users\n\nfailed:\n\n${text}\n`;
  }
  return `## (6) Analytics at ${users} end-users (target: preview < 1 s)\n\n${text.slice(start)}`;
}
