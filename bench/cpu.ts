/**
 * `deno task bench:cpu [--quick] [--seconds N]`: where dream-api's CPU goes per request, the
 * breakdown issue 15's optimisation works from. For spread traffic (POST /api/data over 10,000
 * end-users) and one hot end-user, each on a fresh server (main.ts as `deno task start` runs it):
 *
 * 1. CPU per request: utime + stime of the whole process (all threads, /proc/<pid>/stat) over a
 *    fixed wrk run after a warm-up, ÷ requests answered; and per thread (/proc/<pid>/task/*),
 *    grouped by thread name.
 * 2. A `--cpu-prof` run of the same load on another fresh server: the main JS thread's self time
 *    aggregated by function (name + url + line), top 15, as µs per request.
 *
 * 3. In process (bench/inproc.ts: no HTTP, no wrk): the app's own CPU per request, all threads,
 *    `--runs` runs per scenario alternated (mean, min, max), less the driver's own cost. On a
 *    machine shared with other work this is the figure that holds: wrk and the kernel's HTTP
 *    work compete with nothing. `--inproc-only --variant 'label|flags[|script]' …` compares V8
 *    flags or a scratch copy of the code (its own bench/inproc.ts) side by side.
 *
 * Prints markdown (bench/run.ts appends it to bench/RESULTS.md). Needs `wrk` on PATH.
 */
import { parseArgs } from "node:util";
import {
  available,
  loadAverage,
  makePlatform,
  processCpu,
  ROOT,
  rps,
  type Server,
  spawnServer,
  startFlags,
  threadCpu,
  threadRole,
  wrk,
  type WrkResult,
} from "./_bench.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    seconds: { type: "string" },
    markdown: { type: "boolean", default: false },
    top: { type: "string", default: "15" },
    /** Only the in-process measurement (no wrk, no profile). */
    "inproc-only": { type: "boolean", default: false },
    /** In-process runs per scenario and variant (alternated); figures are mean, min and max. */
    runs: { type: "string" },
    /** In-process requests per run. */
    requests: { type: "string" },
    /**
     * `label|deno run flags|script` (flags split on spaces, script default bench/inproc.ts), any
     * number of times: each is measured beside the others. Default: `deno task start`'s flags.
     */
    variant: { type: "string", multiple: true },
  },
});
const QUICK = flags.values.quick;
const SECONDS = Number(flags.values.seconds ?? (QUICK ? 3 : 10));
const TOP = Number(flags.values.top);
const RUNS = Number(flags.values.runs ?? (QUICK ? 2 : 5));
const INPROC_REQUESTS = Number(flags.values.requests ?? (QUICK ? 30_000 : 100_000));
const log = (line: string) => console.error(`[bench:cpu] ${line}`);

interface Scenario {
  name: string;
  env: Record<string, string>;
}

async function startServer(dir: string, kvPath: string, extra: string[]): Promise<Server> {
  return await spawnServer(
    [
      "run",
      "-A",
      ...await startFlags(),
      ...extra,
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}main.ts`,
    ],
    { APP_ENV: "test", KV_PATH: kvPath, PORT: "0" },
    /"message":"dream-api listening","port":(\d+)/,
    dir,
  );
}

interface ThreadShare {
  role: string;
  threads: number;
  us: number;
}

async function measureProc(dir: string, scenario: Scenario, kvPath: string) {
  const server = await startServer(dir, kvPath, []);
  try {
    await wrk(server.url, scenario.env, { seconds: 3 });
    const beforeAll = await processCpu(server.pid);
    const before = await threadCpu(server.pid);
    const result = await wrk(server.url, scenario.env, { seconds: SECONDS });
    const after = await threadCpu(server.pid);
    const afterAll = await processCpu(server.pid);
    const roles = new Map<string, ThreadShare>();
    for (const [tid, t] of after) {
      const role = threadRole(t.name, tid === String(server.pid));
      const share = roles.get(role) ?? { role, threads: 0, us: 0 };
      share.threads++;
      share.us += t.us - (before.get(tid)?.us ?? 0);
      roles.set(role, share);
    }
    const threadSum = [...roles.values()].reduce((n, s) => n + s.us, 0);
    // Threads that ended during the run count in the process total but not per thread.
    const ended = afterAll - beforeAll - threadSum;
    if (ended > 0) roles.set("ended threads", { role: "ended threads", threads: 0, us: ended });
    return { result, totalUs: afterAll - beforeAll, roles: [...roles.values()] };
  } finally {
    await server.stop();
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time (µs) of each function of a .cpuprofile, by name + url + line, counting only the
 * samples taken at or after `fromUs` (the profile's clock).
 */
function selfTimes(
  profile: CpuProfile,
  fromUs: number,
): { fn: string; where: string; us: number }[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, { fn: string; where: string; us: number }>();
  // timeDeltas[i] is the time between sample i-1 and sample i; sample i's stack ran until the next.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (at < fromUs) continue;
    const node = byNode.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || "(anonymous)";
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${fn} ${where}`;
    const entry = totals.get(key) ?? { fn, where, us: 0 };
    entry.us += Math.max(0, profile.timeDeltas[i + 1] ?? 0);
    totals.set(key, entry);
  }
  return [...totals.values()].sort((a, b) => b.us - a.us);
}

function shortUrl(url: string): string {
  const root = `file://${ROOT}`;
  if (url.startsWith(root)) return url.slice(root.length);
  const npm = /registry\.npmjs\.org\/(.+)$/.exec(url) ?? /node_modules\/(.+)$/.exec(url);
  if (npm) return `npm:${npm[1]}`;
  return url.replace(/^ext:/, "ext:");
}

async function profileRun(dir: string, scenario: Scenario, kvPath: string) {
  const out = `${dir}/prof-${crypto.randomUUID()}`;
  const server = await startServer(dir, kvPath, ["--cpu-prof", `--cpu-prof-dir=${out}`]);
  let result: WrkResult;
  let measuredFrom: number;
  try {
    await wrk(server.url, scenario.env, { seconds: 3 });
    measuredFrom = performance.now();
    result = await wrk(server.url, scenario.env, { seconds: SECONDS });
  } finally {
    await server.stop();
  }
  // The profile covers the whole process; count only the measured run, placed by its distance
  // from the end (the profile ends as the process exits, right after wrk).
  const sinceMeasured = performance.now() - measuredFrom;
  const file = [...Deno.readDirSync(out)].find((e) => e.name.endsWith(".cpuprofile"));
  if (!file) throw new Error("no .cpuprofile written");
  const profile = JSON.parse(await Deno.readTextFile(`${out}/${file.name}`)) as CpuProfile;
  const self = selfTimes(profile, profile.endTime - sinceMeasured * 1000);
  const total = self.reduce((n, s) => n + s.us, 0);
  const idle = self.find((s) => s.fn === "(idle)")?.us ?? 0;
  return { result, self, total, busy: total - idle };
}

interface InprocRun {
  usPerRequest: number;
  roles: Record<string, number>;
  statuses: Record<string, number>;
  heapUsedMiB: number;
  rssMiB: number;
}

/** One bench/inproc.ts child: its JSON line. */
async function inprocRun(scenario: string, args: string[], script: string): Promise<InprocRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...args,
      script,
      "--scenario",
      scenario,
      "--requests",
      String(INPROC_REQUESTS),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success || !text.startsWith("{")) {
    throw new Error(`inproc ${scenario} failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

/** Median (min–max): on a shared machine the median and the minimum move least with the load. */
const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return `${median.toFixed(1)} (${sorted[0].toFixed(1)}–${sorted.at(-1)!.toFixed(1)})`;
};

/** The in-process table: every scenario × variant, `RUNS` alternated runs each. */
async function inprocReport(): Promise<string> {
  const variants = (flags.values.variant ?? []).map((v) => {
    const [label, args = "", script = ""] = v.split("|");
    return {
      label,
      args: args.split(" ").filter(Boolean),
      script: script || `${ROOT}bench/inproc.ts`,
    };
  });
  if (variants.length === 0) {
    variants.push({
      label: "deno task start",
      args: await startFlags(),
      script: `${ROOT}bench/inproc.ts`,
    });
  }
  const scenarios = [
    ["driver", "the driver alone (constant answer)"],
    ["spread", "POST /api/data, 10,000 end-users"],
    ["hot", "POST /api/data, one hot end-user"],
    ["usage", "GET /api/usage, 10,000 end-users"],
  ] as const;
  const results = new Map<string, InprocRun[]>();
  const loadBefore = await loadAverage();
  for (let run = 0; run < RUNS; run++) {
    for (const [scenario] of scenarios) {
      for (const v of variants) {
        if (scenario === "driver" && v !== variants[0]) continue;
        log(`in process: ${scenario}, ${v.label}, run ${run + 1}/${RUNS}`);
        const r = await inprocRun(scenario, v.args, v.script);
        const bad = Object.keys(r.statuses).filter((s) => s !== "200");
        if (bad.length) throw new Error(`${scenario}: statuses ${JSON.stringify(r.statuses)}`);
        const key = `${scenario} ${v.label}`;
        results.set(key, [...(results.get(key) ?? []), r]);
      }
    }
  }
  const driver = results.get(`driver ${variants[0].label}`)!;
  const driverMean = driver.reduce((n, r) => n + r.usPerRequest, 0) / driver.length;
  const role = (r: InprocRun, re: RegExp) =>
    Object.entries(r.roles).filter(([k]) => re.test(k)).reduce((n, [, us]) => n + us, 0);
  const rows = scenarios.flatMap(([scenario, name]) =>
    variants.filter((v) => scenario !== "driver" || v === variants[0]).map((v) => {
      const rs = results.get(`${scenario} ${v.label}`)!;
      const all = rs.map((r) => r.usPerRequest);
      const net = scenario === "driver" ? "—" : stats(all.map((x) => x - driverMean));
      return `| ${name} | ${v.label} | ${stats(all)} | ${net} | ${
        stats(rs.map((r) => role(r, /^main/)))
      } | ${stats(rs.map((r) => role(r, /SQLite/)))} | ${stats(rs.map((r) => role(r, /^V8/)))} | ${
        stats(rs.map((r) => r.heapUsedMiB))
      } |`;
    })
  );
  return `## CPU per request in process (bench/inproc.ts; no HTTP)\n\n` +
    `The app wired as \`main.ts\` wires it (KV file, read handle, meter, recorder, caches), driven ` +
    `in its own process by 50 concurrent loops calling its fetch handler: ${
      INPROC_REQUESTS.toLocaleString("en-US")
    } requests after a warm-up of 30,000, ${RUNS} runs per row alternated; CPU is utime + stime of ` +
    `every thread of the process ÷ requests, as median (min–max) in µs. "net" subtracts the driver's ` +
    `own cost (building each Request, reading each answer), measured against a constant answer. ` +
    `No wrk and no sockets compete with it; other work on the machine still inflates it (load ` +
    `average ${loadBefore} at the start, ${await loadAverage()} at the end), so compare rows of ` +
    `one run, not runs.\n\n` +
    `| Scenario | variant | all threads µs/req | net of driver | main JS thread | KV SQLite threads | V8 workers (GC, compiler) | heap used MiB at end |\n` +
    `|---|---|---:|---:|---:|---:|---:|---:|\n${rows.join("\n")}\n`;
}

async function main() {
  if (flags.values["inproc-only"]) {
    console.log(await inprocReport());
    return;
  }
  if (!(await available("wrk"))) {
    console.error("bench:cpu needs wrk on PATH (Debian/Ubuntu: sudo apt-get install wrk).");
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "dream-bench-cpu-" });
  const sections: string[] = [];
  try {
    const kvPath = `${dir}/bench.kv`;
    const { apiKey } = await makePlatform(kvPath, 10_000);
    const post = { BENCH_KEY: apiKey, BENCH_METHOD: "POST", BENCH_PATH: "/api/data" };
    const scenarios: Scenario[] = [
      {
        name: "POST /api/data, 10,000 end-users",
        env: { ...post, BENCH_USERS: "10000", BENCH_PREFIX: "cpu-spread-" },
      },
      {
        name: "POST /api/data, one hot end-user",
        env: { ...post, BENCH_USERS: "1", BENCH_PREFIX: "cpu-hot-" },
      },
    ];
    const perThread: string[] = [];
    const profiles: string[] = [];
    for (const scenario of scenarios) {
      log(`${scenario.name}: CPU from /proc`);
      const m = await measureProc(dir, scenario, kvPath);
      const n = m.result.requests;
      perThread.push(
        `| ${scenario.name} | **all threads** | — | **${(m.totalUs / n).toFixed(1)}** | 100 % | ${
          Math.round(rps(m.result)).toLocaleString("en-US")
        } req/s |`,
        ...m.roles.sort((a, b) => b.us - a.us).filter((r) => r.us > 0).map((r) =>
          `| | ${r.role} | ${r.threads} | ${(r.us / n).toFixed(1)} | ${
            (100 * r.us / m.totalUs).toFixed(0)
          } % | |`
        ),
      );
      log(`${scenario.name}: --cpu-prof run`);
      const p = await profileRun(dir, scenario, kvPath);
      const pn = p.result.requests;
      profiles.push(
        `### ${scenario.name} (${pn.toLocaleString("en-US")} requests in ${SECONDS} s under ` +
          `--cpu-prof, ${(p.busy / pn).toFixed(1)} µs of main-thread time per request outside ` +
          `(idle))\n\n` +
          `| # | function | where | self µs/req | % of busy |\n|---:|---|---|---:|---:|\n` +
          p.self.filter((s) => s.fn !== "(idle)").slice(0, TOP).map((s, i) =>
            `| ${i + 1} | \`${s.fn}\` | ${s.where ? `\`${s.where}\`` : ""} | ${
              (s.us / pn).toFixed(2)
            } | ${(100 * s.us / p.busy).toFixed(1)} % |`
          ).join("\n"),
      );
    }
    sections.push(
      `## CPU per request (dream-api, one process; bench/cpu.ts)\n\n` +
        `Each scenario on a fresh server started as \`deno task start\` runs it, warmed for 3 s, ` +
        `then wrk (1 thread, 50 connections) for ${SECONDS} s; CPU is utime + stime from ` +
        `\`/proc/<pid>/task/*/stat\` over that run ÷ requests answered. It includes the HTTP ` +
        `server's own work (parsing, writing), which an in-process driver leaves out.\n\n` +
        `| Scenario | threads | count | CPU µs/req | share | throughput |\n` +
        `|---|---|---:|---:|---:|---|\n${perThread.join("\n")}\n`,
      `## Where the main thread's time goes (\`--cpu-prof\`, top ${TOP} by self time)\n\n` +
        `Each scenario on a fresh server under \`--cpu-prof\`, warmed for 3 s, then wrk for ` +
        `${SECONDS} s; self time of the samples of that run, aggregated by function name + url + line, ` +
        `÷ requests answered. ` +
        `\`(program)\` is V8/Deno native work not attributed to a JS function (including ` +
        `Deno.serve's request and response plumbing on the main thread), ` +
        `\`(garbage collector)\` is GC on the main thread. The profiler's own overhead lowers ` +
        `throughput; read the shares, not the totals.\n\n${profiles.join("\n\n")}\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  sections.push(await inprocReport());
  console.log(sections.join("\n"));
}

if (import.meta.main) await main();
