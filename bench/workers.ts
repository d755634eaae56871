/**
 * `deno task bench:workers [--quick] [--workers N] [--rounds R] [--duration S]`: dream-api on one
 * process against N workers, and two ways of running N: `deno task start` with WORKERS=N (host.ts:
 * N HTTP isolates on one port with `reusePort`, counting through one meter in the host isolate)
 * and `deno serve --parallel` (N isolates each with its own app, meter and KV handles,
 * bench/parallel.ts, `DENO_JOBS=N`). Alternated under the same wrk runs as `deno task bench`
 * (1 thread, 50 connections); for each: req/s, p99, CPU µs per request (all threads of every OS
 * process of the server), exactness (limit 10,000 over 64 connections), each OS process's RSS and
 * each isolate's V8 heap after the runs, and whether SIGTERM drains (exit 0). For WORKERS=N, where
 * the CPU goes by thread: the host's meter thread bounds what any number of cores can count.
 *
 * Prints markdown (bench/run.ts appends it to bench/RESULTS.md). Needs `wrk` on PATH.
 */
import { parseArgs } from "node:util";
import {
  available,
  freePort,
  loadAverage,
  makePlatform,
  memoryOf,
  processCpu,
  ROOT,
  rps,
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
    workers: { type: "string", default: "2" },
    rounds: { type: "string" },
    duration: { type: "string" },
  },
});
const QUICK = flags.values.quick;
const N = Number(flags.values.workers);
const ROUNDS = Number(flags.values.rounds ?? (QUICK ? 1 : 2));
const DURATION = Number(flags.values.duration ?? (QUICK ? 3 : 10));
const EXACT_LIMIT = 10_000;
const log = (line: string) => console.error(`[bench:workers] ${line}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface Running {
  url: string;
  /** Every OS process of the server now (a supervisor and its workers). */
  pids(): number[];
  /** Each isolate's V8 heap (used / total bytes), read while it runs or as it stops. */
  heaps(): Promise<{ isolate: string; heapUsed: number; heapTotal: number }[]>;
  /** SIGTERM; the exit code and each stopping isolate's heap from its last log line. */
  stop(): Promise<number>;
  output(): string;
}

interface Kind {
  name: string;
  how: string;
  start(kvPath: string): Promise<Running>;
}

const LISTENING = '"message":"dream-api listening","port":(\\d+)';

/**
 * main.ts's "shutting down" lines and host.ts's "meter host stopping": the heap each isolate had
 * as it stopped.
 */
function stoppingHeaps(output: string) {
  const workers = [
    ...output.matchAll(
      /"message":"shutting down","signal":"SIGTERM","heapUsed":(\d+),"heapTotal":(\d+)[^\n]*/g,
    ),
  ].map((m, i) => ({
    isolate: `HTTP isolate ${i + 1}`,
    heapUsed: Number(m[1]),
    heapTotal: Number(m[2]),
  }));
  const host = /"message":"meter host stopping","heapUsed":(\d+),"heapTotal":(\d+)/.exec(output);
  if (workers.length === 1 && !host) workers[0].isolate = "the isolate";
  return host
    ? [...workers, { isolate: "meter host", heapUsed: Number(host[1]), heapTotal: Number(host[2]) }]
    : workers;
}

async function kinds(): Promise<Kind[]> {
  const v8 = await startFlags();
  const config = ["--config", `${ROOT}deno.json`];
  const mainKind = (
    name: string,
    how: string,
    args: string[],
    env: Record<string, string>,
    listening: RegExp,
    workerPids: (output: string) => number[],
  ): Kind => ({
    name,
    how,
    async start(kvPath) {
      const child = new Deno.Command(Deno.execPath(), {
        args,
        env: { APP_ENV: "test", KV_PATH: kvPath, ...env },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let output = "";
      const reading = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of child.stderr) output += decoder.decode(chunk, { stream: true });
      })();
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = listening.exec(output);
          if (m) {
            clearInterval(timer);
            resolve(m[1]);
          }
        }, 20);
        child.status.then(() => {
          clearInterval(timer);
          reject(new Error(`exited before listening:\n${output}`));
        });
      });
      return {
        url: `http://127.0.0.1:${port}`,
        // Isolates of one process share its pid: each OS process once.
        pids: () => [...new Set([child.pid, ...workerPids(output)])],
        heaps: () => Promise.resolve([]),
        output: () => output,
        async stop() {
          child.kill("SIGTERM");
          const { code } = await child.status;
          await reading;
          return code;
        },
      };
    },
  });
  const one = mainKind(
    "1 process",
    "`main.ts` (one process, one isolate)",
    ["run", "-A", ...v8, ...config, `${ROOT}main.ts`],
    { PORT: "0" },
    new RegExp(LISTENING),
    () => [],
  );
  const processes = mainKind(
    `WORKERS=${N}`,
    `\`deno task start\` with \`WORKERS=${N}\` (serve.ts supervising host.ts: one process, ${N} ` +
      `HTTP isolates of \`main.ts\` on one port with \`reusePort\`, counting through one meter ` +
      `in the host isolate)`,
    ["run", "-A", ...config, `${ROOT}serve.ts`, ...v8],
    { PORT: String(freePort()), WORKERS: String(N) },
    new RegExp(LISTENING + `[^]*"message":"dream-api listening"`.repeat(N - 1)),
    (output) =>
      [...output.matchAll(/"dream-api listening","port":\d+,"pid":(\d+)/g)].map((m) =>
        Number(m[1])
      ),
  );
  const isolates = mainKind(
    `${N} isolates`,
    `\`deno serve --parallel\` with \`DENO_JOBS=${N}\` (one process, ${N} isolates each with ` +
      `its own app and KV handles; bench/parallel.ts)`,
    [
      "serve",
      "-A",
      "--parallel",
      "--port",
      String(freePort()),
      ...v8,
      ...config,
      `${ROOT}bench/parallel.ts`,
    ],
    { DENO_JOBS: String(N) },
    /Listening on http:\/\/\S*:(\d+)\//,
    () => [],
  );
  const parallel: Kind = {
    ...isolates,
    async start(kvPath) {
      const running = await isolates.start(kvPath);
      return {
        ...running,
        async heaps() {
          // A fresh connection each time: the kernel spreads them over the isolates.
          const seen = new Map<string, { isolate: string; heapUsed: number; heapTotal: number }>();
          for (let i = 0; i < 40 && seen.size < N; i++) {
            const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
            const m = await fetch(`${running.url}/__bench/memory`, { client }).then((r) =>
              r.json()
            );
            client.close();
            if (!seen.has(m.isolate)) {
              seen.set(m.isolate, { ...m, isolate: `isolate ${seen.size + 1}` });
            }
          }
          return [...seen.values()];
        },
      };
    },
  };
  return [one, processes, parallel];
}

interface Row {
  runs: WrkResult[];
  cpuUs: number[];
  /** WORKERS=N only: CPU µs of the host process's threads by role, over the runs */
  threads?: Map<string, number>;
}

/** The host process's thread roles: its main thread runs the meter, not HTTP. */
function hostRole(name: string, isMain: boolean): string {
  return isMain
    ? "meter host isolate (the meter: batches, decisions, commits; the isolates' messages)"
    : threadRole(name, false);
}

async function main() {
  if (!(await available("wrk"))) {
    console.error("bench:workers needs wrk on PATH (Debian/Ubuntu: sudo apt-get install wrk).");
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "dream-bench-workers-" });
  const loadBefore = await loadAverage();
  const all = await kinds();
  const servers: { kind: Kind; running: Running; apiKey: string }[] = [];
  try {
    for (const kind of all) {
      const kvPath = `${dir}/${kind.name.replace(/\W/g, "_")}.kv`;
      const { apiKey } = await makePlatform(kvPath, EXACT_LIMIT);
      log(`starting ${kind.name}`);
      servers.push({ kind, running: await kind.start(kvPath), apiKey });
    }
    const cpuOf = async (pids: number[]) =>
      (await Promise.all(pids.map((p) => processCpu(p).catch(() => 0)))).reduce((a, b) => a + b);
    const envOf = (apiKey: string, scenario: string) => {
      const base = { BENCH_KEY: apiKey, BENCH_PATH: "/api/data", BENCH_METHOD: "POST" };
      if (scenario === "hot") return { ...base, BENCH_USERS: "1", BENCH_PREFIX: "hot-" };
      const spread = { ...base, BENCH_USERS: "10000", BENCH_PREFIX: "spread-" };
      return scenario === "usage"
        ? { ...spread, BENCH_METHOD: "GET", BENCH_PATH: "/api/usage" }
        : spread;
    };
    log("warming up");
    for (const s of servers) await wrk(s.running.url, envOf(s.apiKey, "spread"), { seconds: 3 });
    const scenarios = [
      ["spread", "POST /api/data, 10,000 end-users"],
      ["hot", "POST /api/data, one hot end-user"],
      ["usage", "GET /api/usage, 10,000 end-users"],
    ] as const;
    const results = new Map<string, Row>();
    for (const [scenario, name] of scenarios) {
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of servers) {
          log(`${name}: ${s.kind.name}, round ${round + 1}`);
          const pids = s.running.pids();
          // WORKERS=N: the supervisor, then host.ts's process, whose threads are told apart.
          const host = s.kind === all[1] ? pids[1] : undefined;
          const threadsBefore = host ? await threadCpu(host) : undefined;
          const before = await cpuOf(pids);
          const r = await wrk(s.running.url, envOf(s.apiKey, scenario), { seconds: DURATION });
          const cpu = await cpuOf(pids) - before;
          const key = `${scenario} ${s.kind.name}`;
          const row = results.get(key) ?? { runs: [], cpuUs: [] };
          row.runs.push(r);
          row.cpuUs.push(cpu);
          if (host && threadsBefore) {
            row.threads ??= new Map();
            for (const [tid, t] of await threadCpu(host)) {
              const role = hostRole(t.name, tid === String(host));
              const used = t.us - (threadsBefore.get(tid)?.us ?? 0);
              row.threads.set(role, (row.threads.get(role) ?? 0) + used);
            }
          }
          results.set(key, row);
        }
      }
    }
    const exact: string[] = [];
    for (const s of servers) {
      log(`exactness: ${s.kind.name}`);
      const hot = results.get(`hot ${s.kind.name}`)!;
      const seconds = Math.min(
        120,
        Math.max(5, Math.ceil(3 * EXACT_LIMIT / mean(hot.runs.map(rps)))),
      );
      const r = await wrk(s.running.url, {
        ...envOf(s.apiKey, "hot"),
        BENCH_PREFIX: "exact-",
        BENCH_PLAN: "exact",
        BENCH_COUNT: "1",
      }, { seconds, connections: 64 });
      const usage = await fetch(`${s.running.url}/api/usage`, {
        headers: {
          authorization: `Bearer ${s.apiKey}`,
          "x-user-id": "exact-1",
          "x-user-plan": "exact",
        },
      }).then((res) => res.json());
      // Exact: 10,000 × 200 and no more, then 429s. No 429 at all: the run ended before the
      // limit (a slow or busy machine), which proves nothing either way.
      const pass = r.s429 === 0
        ? `not reached in ${seconds} s`
        : r.s2xx === EXACT_LIMIT && usage.usage?.count === EXACT_LIMIT && r.s5xx === 0
        ? "yes"
        : "**no**";
      exact.push(
        `| ${s.kind.name} | ${
          r.requests.toLocaleString("en-US")
        } | ${r.s2xx} × 200, ${r.s429} × 429, ` +
          `${r.s5xx} × 5xx; usage reads ${usage.usage?.count} | ${pass} |`,
      );
    }
    const memory: string[] = [];
    const drains: string[] = [];
    for (const s of servers) {
      const rss = await Promise.all(
        s.running.pids().map(async (pid, i) => {
          const m = await memoryOf(pid);
          const role = s.running.pids().length === 1
            ? "the process"
            : i === 0
            ? "supervisor"
            : `host.ts (${N} HTTP isolates and the meter host)`;
          return `${role} ${m.rssMiB.toFixed(0)} (peak ${m.peakMiB.toFixed(0)})`;
        }),
      );
      const live = await s.running.heaps();
      const code = await s.running.stop();
      const heaps = live.length ? live : stoppingHeaps(s.running.output());
      memory.push(
        `| ${s.kind.name} | ${rss.join("; ")} | ${
          heaps.map((h) => `${h.isolate} ${mib(h.heapUsed)} / ${mib(h.heapTotal)}`).join("; ") ||
          "—"
        } |`,
      );
      drains.push(`${s.kind.name}: exit ${code}`);
    }
    servers.length = 0;
    const loadAfter = await loadAverage();
    const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
    const rows = scenarios.flatMap(([scenario, name]) =>
      all.map((kind) => {
        const row = results.get(`${scenario} ${kind.name}`)!;
        const req = row.runs.reduce((n, r) => n + r.requests, 0);
        const one = results.get(`${scenario} ${all[0].name}`)!;
        const errors = row.runs.reduce(
          (n, r) => n + r.errors.status + r.errors.timeout + r.errors.read + r.errors.connect,
          0,
        );
        return `| ${name} | ${kind.name} | ${fmt(mean(row.runs.map(rps)))} | ${
          (mean(row.runs.map(rps)) / mean(one.runs.map(rps))).toFixed(2)
        }× | ${(Math.max(...row.runs.map((r) => r.p99_us)) / 1000).toFixed(1)} | ${errors} | ${
          (row.cpuUs.reduce((a, b) => a + b, 0) / req).toFixed(1)
        } |`;
      })
    );
    const threadRows = scenarios.flatMap(([scenario, name]) => {
      const row = results.get(`${scenario} ${all[1].name}`)!;
      const req = row.runs.reduce((n, r) => n + r.requests, 0);
      const meterUs = [...row.threads!].find(([role]) => role.startsWith("meter host"))?.[1] ?? 0;
      // Threads with no CPU in the runs (a named helper thread that stayed idle) are left out.
      const used = [...row.threads!].filter(([, us]) => us / req >= 0.05);
      return used.sort((a, b) => b[1] - a[1]).map(([role, us], i) =>
        `| ${i === 0 ? name : ""} | ${role} | ${(us / req).toFixed(1)} | ${
          i > 0
            ? ""
            : scenario === "usage"
            ? "— (reads stay in the isolates)"
            : fmt(1e6 / (meterUs / req))
        } |`
      );
    });
    console.log(`## One process against ${N} (bench/workers.ts)

Machine: ${navigator.hardwareConcurrency} cores; load average ${loadBefore} before, ${loadAfter} after.
wrk 1 thread, 50 connections, ${DURATION} s per run, ${ROUNDS} round(s) alternated; each server on its
own fresh KV file with \`deno task start\`'s V8 flags. CPU µs/req: utime + stime of every OS process of
the server (all threads) during the runs ÷ requests answered.

${all.map((k) => `- **${k.name}**: ${k.how}`).join("\n")}

| Scenario | server | req/s | ÷ 1 process | p99 ms | non-2xx + socket errors | CPU µs/req |
|---|---|---:|---:|---:|---:|---:|
${rows.join("\n")}

Where the CPU of \`WORKERS=${N}\` goes, by thread of host.ts's process (µs per request over the runs).
Every count goes through the host's one meter thread, so the requests per second that thread can
take at 100 % of one core (1 ÷ its µs per request) bound what any number of cores can count; the
HTTP isolates' share is what spreads over the cores.

| Scenario | threads | CPU µs/req | the meter thread's bound, req/s |
|---|---|---:|---:|
${threadRows.join("\n")}

| Exactness (limit ${
      EXACT_LIMIT.toLocaleString("en-US")
    }, one end-user, 64 connections) | requests | answers | exact |
|---|---:|---|---|
${exact.join("\n")}

| Memory after the runs | RSS MiB of each OS process (peak) | V8 heap MiB of each isolate (used / total) |
|---|---|---|
${memory.join("\n")}

SIGTERM: ${drains.join("; ")} (0: drained; 143: killed by the signal, in-flight requests cut).
`);
  } finally {
    for (const s of servers) await s.running.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
