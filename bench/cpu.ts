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
 * Prints markdown (bench/run.ts appends it to bench/RESULTS.md). Needs `wrk` on PATH.
 */
import { parseArgs } from "node:util";
import {
  available,
  makePlatform,
  processCpu,
  ROOT,
  rps,
  type Server,
  spawnServer,
  startFlags,
  threadCpu,
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
  },
});
const QUICK = flags.values.quick;
const SECONDS = Number(flags.values.seconds ?? (QUICK ? 3 : 10));
const TOP = Number(flags.values.top);
const log = (line: string) => console.error(`[bench:cpu] ${line}`);

interface Scenario {
  name: string;
  env: Record<string, string>;
}

/** What a thread's name says it is (Linux truncates names to 15 characters). */
function threadRole(name: string, isMain: boolean): string {
  if (isMain) return "main JS thread (V8 isolate, Deno.serve, the handlers)";
  if (/^sw-\d/.test(name)) return "KV SQLite workers (one per KV handle: writes, reads)";
  if (/^tokio-runtime-w/.test(name)) return "tokio workers (HTTP I/O, KV ops off the main thread)";
  if (/^V8 DefaultWorke|^V8 /.test(name)) return "V8 platform workers (GC, compiler)";
  if (/sqlite|kv|denokv/i.test(name)) return `KV / SQLite (${name})`;
  return `other (${name})`;
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

async function main() {
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
  console.log(sections.join("\n"));
}

if (import.meta.main) await main();
