/**
 * `deno task bench [--quick]`: dream-api's hot path against bare `Deno.serve`, the contract's
 * floor and the Redis design a team would build instead of us, in one run.
 *
 * Starts the ceiling (bench/bare.ts), the floor (bench/floor.ts: the contract's unavoidable work
 * per request, without counting), two Redis peers (bench/redis_peer.ts: an HTTP server doing one
 * Lua check-and-increment per request, in front of `redis-server` as shipped, and of one made as
 * durable as we are with `appendfsync always`) and the real server (main.ts on a fresh KV file with
 * one platform and key) as subprocesses, alternates them under the same wrk settings (1 thread,
 * 50 connections, the same Lua script), and prints markdown tables, also written to
 * bench/RESULTS.md (bench/out/quick.md with --quick), followed by dream-api's CPU breakdown
 * (bench/cpu.ts), one process against two (bench/workers.ts), the founders' analytics
 * (bench/preview.ts), the hot path with features (bench/features.ts) and the cost of a commit that
 * queues a founders' event (bench/outbox.ts). Needs `wrk` and `redis-server`.
 */
import { parseArgs } from "node:util";
import { keys } from "../lib/kv/keys.ts";
import { periodOf } from "../lib/usage/period.ts";
import {
  available,
  CONNECTIONS,
  loadAverage,
  makePlatform,
  memoryOf,
  processCpu,
  ROOT,
  rps,
  seedRedis,
  type Server,
  spawnServer,
  startFlags,
  startRedis,
  wrk as runWrk,
  type WrkResult,
} from "./_bench.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    "distinct-users": { type: "string" },
    /** ioredis's `enableAutoPipelining` in the peers; the default is the better one measured. */
    "peer-auto-pipelining": { type: "string", default: "on" },
  },
});
const PEER_AUTO_PIPELINING = flags.values["peer-auto-pipelining"] !== "off";
const QUICK = flags.values.quick;
/** Seconds per measured wrk run. */
const DURATION = Number(flags.values.duration ?? (QUICK ? 3 : 10));
/** Alternations of the servers per scenario; figures are the mean over rounds. */
const ROUNDS = Number(flags.values.rounds ?? (QUICK ? 1 : 2));
const SPREAD_USERS = 10_000;
const EXACT_LIMIT = 10_000;
const DISTINCT_USERS = Number(flags.values["distinct-users"] ?? (QUICK ? 50_000 : 1_000_000));

const wrk = (
  url: string,
  env: Record<string, string>,
  options: { seconds?: number; connections?: number } = {},
) => runWrk(url, env, { seconds: options.seconds ?? DURATION, connections: options.connections });

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

/** The servers of a run, in the order they alternate; `cpuPids` are the processes whose CPU counts. */
/** `deno task start` with WORKERS=2: serve.ts and two workers of main.ts on one port and the same KV file. */
const WORKERS_ROW = "dream-api, 2 workers";
const SERVERS = ["bare", "floor", "redis", "redis-fsync", "dream-api", WORKERS_ROW] as const;
type ServerName = typeof SERVERS[number];

interface Measured {
  runs: WrkResult[];
  /** CPU time (µs) of the server's processes (and its Redis) during each run. */
  cpuUs: number[];
  /** The part of `cpuUs` spent by the peer's `redis-server` (0 for the others). */
  redisUs: number[];
}

interface Paired {
  name: string;
  counted: boolean;
  by: Record<ServerName, Measured>;
}

/** A port nobody listens on now: serve.ts's workers need a fixed one to share. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function main() {
  if (!(await available("wrk"))) {
    console.error(
      "deno task bench needs wrk (https://github.com/wg/wrk) on PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install wrk\n  macOS: brew install wrk",
    );
    Deno.exit(1);
  }
  if (!(await available("redis-server"))) {
    console.error(
      "deno task bench needs redis-server and redis-cli (the Redis peer) on PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install redis-server " +
        "(then `sudo systemctl disable --now redis-server`: the bench starts its own)\n" +
        "  macOS: brew install redis",
    );
    Deno.exit(1);
  }
  const redisVersion = new TextDecoder().decode(
    (await new Deno.Command("redis-server", { args: ["--version"], stdout: "piped" }).output())
      .stdout,
  ).trim();
  const description = await machine();
  const started = new Date();
  const loadBefore = await loadAverage();
  const dir = await Deno.makeTempDir({ prefix: "dream-bench-" });
  const kvPath = `${dir}/bench.kv`;

  // One platform and key, made the way operators make them. Tier "free" is unlimited so runs
  // measure the path, not refusals; "exact" has the limit of the exactness run.
  const platform = await makePlatform(kvPath, EXACT_LIMIT);
  const { platformId, apiKey } = platform;

  const started_: Server[] = [];
  const start = async <S extends Server>(server: Promise<S>): Promise<S> => {
    const s = await server;
    started_.push(s);
    return s;
  };
  const listeningLine = /listening (\d+)/;
  const log = (line: string) => console.error(`[bench] ${line}`);
  let real: Server | undefined;
  try {
    const bare = await start(
      spawnServer(["run", "-A", `${ROOT}bench/bare.ts`, "0"], {}, listeningLine, dir),
    );
    const floor = await start(
      spawnServer(["run", "-A", `${ROOT}bench/floor.ts`, "0"], {}, listeningLine, dir),
    );
    // Redis as shipped: its compiled-in defaults (RDB snapshots on `save 3600 1 300 100 60 10000`,
    // no AOF), as Debian's redis.conf also sets them. Durable: every write in the AOF and fsynced
    // before Redis answers, as every 200 of ours is committed to disk.
    const redis = await start(startRedis(`${dir}/redis`, []));
    const redisFsync = await start(
      startRedis(`${dir}/redis-fsync`, ["--appendonly", "yes", "--appendfsync", "always"]),
    );
    const peerArgs = (port: number) => [
      "run",
      "-A",
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}bench/redis_peer.ts`,
      "0",
      String(port),
      ...(PEER_AUTO_PIPELINING ? ["--auto-pipelining"] : []),
    ];
    await seedRedis(redis.port, platform, EXACT_LIMIT);
    await seedRedis(redisFsync.port, platform, EXACT_LIMIT);
    const peer = await start(spawnServer(peerArgs(redis.port), {}, listeningLine, dir));
    const peerFsync = await start(spawnServer(peerArgs(redisFsync.port), {}, listeningLine, dir));
    const v8Flags = await startFlags();
    real = await start(spawnServer(
      ["run", "-A", ...v8Flags, "--config", `${ROOT}deno.json`, `${ROOT}main.ts`],
      { APP_ENV: "test", KV_PATH: kvPath, PORT: "0" },
      /"message":"dream-api listening","port":(\d+)/,
      dir,
    ));
    const cluster = await start(spawnServer(
      ["run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}serve.ts`, ...v8Flags],
      { APP_ENV: "test", KV_PATH: kvPath, PORT: String(freePort()), WORKERS: "2" },
      // Both HTTP isolates listen (each logs its process's pid); the first line's port is the shared one.
      /"message":"dream-api listening","port":(\d+)[^]*"message":"dream-api listening"/,
      dir,
    ));
    // The supervisor's child: host.ts, whose HTTP isolates log its pid (once per isolate).
    const workerPids = [
      ...new Set(
        [...cluster.output().matchAll(/"dream-api listening","port":\d+,"pid":(\d+)/g)]
          .map((m) => Number(m[1])),
      ),
    ];
    const targets: Record<ServerName, { url: string; pids: number[]; redisPid?: number }> = {
      bare: { url: bare.url, pids: [bare.pid] },
      floor: { url: floor.url, pids: [floor.pid] },
      redis: { url: peer.url, pids: [peer.pid, redis.pid], redisPid: redis.pid },
      "redis-fsync": {
        url: peerFsync.url,
        pids: [peerFsync.pid, redisFsync.pid],
        redisPid: redisFsync.pid,
      },
      "dream-api": { url: real.url, pids: [real.pid] },
      [WORKERS_ROW]: { url: cluster.url, pids: [cluster.pid, ...workerPids] },
    };
    const cpuOf = async (pids: number[]) =>
      (await Promise.all(pids.map(processCpu))).reduce((a, b) => a + b, 0);

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
      peaks.push(`${phase} ${(await memoryOf(real!.pid)).peakMiB.toFixed(0)}`);
    await notePeak("start");

    // Warm all of them (JIT, caches, KV pages) before anything is measured.
    log("warming up");
    for (const name of SERVERS) {
      await wrk(targets[name].url, spreadPost, { seconds: name.startsWith("dream-api") ? 3 : 2 });
    }
    await notePeak("warm-up");

    const paired: Paired[] = [];
    for (
      const [name, env] of [
        [`(1) POST /api/data, ${SPREAD_USERS.toLocaleString("en-US")} end-users`, spreadPost],
        ["(2) POST /api/data, one hot end-user", hotPost],
        [`(3) GET /api/usage, ${SPREAD_USERS.toLocaleString("en-US")} end-users`, usageGet],
      ] as const
    ) {
      const by = Object.fromEntries(
        SERVERS.map((s) => [s, { runs: [], cpuUs: [], redisUs: [] }]),
      ) as unknown as Record<ServerName, Measured>;
      for (let round = 0; round < ROUNDS; round++) {
        for (const server of SERVERS) {
          log(`${name}: ${server}, round ${round + 1}`);
          const { pids, redisPid } = targets[server];
          const before = await cpuOf(pids);
          const redisBefore = redisPid ? await processCpu(redisPid) : 0;
          by[server].runs.push(await wrk(targets[server].url, env));
          by[server].cpuUs.push(await cpuOf(pids) - before);
          by[server].redisUs.push(redisPid ? await processCpu(redisPid) - redisBefore : 0);
        }
      }
      paired.push({ name, counted: "BENCH_COUNT" in env, by });
      await notePeak(name.slice(0, 3));
    }

    // (4) Exactness: one end-user on a tier of limit 10,000, 64 connections; ours and the peers'.
    const exactness = [];
    for (const server of ["dream-api", "redis", "redis-fsync"] as const) {
      log(`(4) exactness run: ${server}`);
      const url = targets[server].url;
      // Long enough to pass the limit in one run at this server's hot throughput measured above
      // (the machine may be slow or busy): twice the time the limit takes, at least 5 s.
      const hotRps = mean(paired[1].by[server].runs.map(rps));
      const seconds = Math.min(120, Math.max(5, DURATION / 2, Math.ceil(2 * EXACT_LIMIT / hotRps)));
      const exact = await wrk(url, {
        ...base,
        BENCH_METHOD: "POST",
        BENCH_PATH: "/api/data",
        BENCH_USERS: "1",
        BENCH_PREFIX: "exact-",
        BENCH_PLAN: "exact",
        BENCH_COUNT: "1",
      }, { connections: 64, seconds });
      const usageRes = await fetch(`${url}/api/usage`, {
        headers: {
          authorization: `Bearer ${apiKey}`,
          "x-user-id": "exact-1",
          "x-user-plan": "exact",
        },
      });
      const usage = (await usageRes.json()).usage?.count;
      // Every request after the limit is refused, so the in-flight ones wrk cuts off at the end
      // are refusals: enough 429s after the grants make the 200 count complete.
      const pass = exact.s2xx === EXACT_LIMIT && usage === EXACT_LIMIT &&
        exact.s5xx === 0 && exact.s429 > 64;
      exactness.push({ server, exact: exact, usage, pass });
    }
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
    // The servers are no longer needed: stop them before the CPU profile and the analytics,
    // which start their own.
    for (const s of started_.splice(0)) await s.stop();
    const check = await Deno.openKv(kvPath);
    let distinct = 0;
    const period = periodOf("month", new Date()).key;
    for await (const _ of check.list({ prefix: keys.usageInPeriod(platformId, period) })) {
      distinct++;
    }
    check.close();
    distinct -= SPREAD_USERS + 2; // the spread, hot and exactness end-users counted earlier

    const loadAfterMeasured = await loadAverage();
    const table = renderReport({
      description: `${description}; ${redisVersion.split(" sha=")[0]}; ` +
        `server flags as \`deno task start\`: ${v8Flags.join(" ") || "none"}`,
      started,
      load: `${loadBefore} at the start; ${loadAfterMeasured} after the measured runs`,
      paired,
      exactness,
      memory,
      distinct,
      distinctErrors,
      distinctSeconds,
      peaks,
    });
    const report = `${table}\n${await cpuReport()}\n${await sideReport(
      "bench/workers.ts",
      "One process against N",
      [],
    )}\n${await previewReport()}\n${await sideReport(
      "bench/features.ts",
      "(7) Features on the hot path",
    )}\n${await sideReport("bench/outbox.ts", "(8) The cost of a commit with an event")}`;
    console.log(report);
    const target = QUICK ? `${ROOT}bench/out/quick.md` : `${ROOT}bench/RESULTS.md`;
    await Deno.mkdir(`${ROOT}bench/out`, { recursive: true });
    await Deno.writeTextFile(target, report);
    // Formatted as `deno fmt` would, so `deno task check` stays green after a run.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", target], stderr: "null" })
      .output();
    log(`written to ${target.slice(ROOT.length)}`);
  } catch (error) {
    if (real) console.error(`server output (tail):\n${real.output().slice(-3000)}`);
    throw error;
  } finally {
    for (const s of started_) await s.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function renderReport(r: {
  description: string;
  started: Date;
  load: string;
  paired: Paired[];
  exactness: { server: string; exact: WrkResult; usage: number; pass: boolean }[];
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
  const rpsOf = (m: Measured) => mean(m.runs.map(rps));
  const errorsOf = (m: Measured) =>
    m.runs.reduce(
      (n, x) => n + x.errors.status + x.errors.timeout + x.errors.read + x.errors.connect,
      0,
    );
  const fivesOf = (p: Paired, m: Measured) =>
    p.counted ? String(m.runs.reduce((n, x) => n + x.s5xx, 0)) : "n/a";
  const perRequest = (m: Measured, us: number[]) =>
    us.reduce((a, b) => a + b, 0) / m.runs.reduce((n, x) => n + x.requests, 0);
  // The peers' CPU with the share of their redis-server: what N HTTP processes would share.
  const cpuPerRequest = (m: Measured) =>
    perRequest(m, m.cpuUs).toFixed(1) +
    (m.redisUs.some((x) => x > 0) ? ` (Redis ${perRequest(m, m.redisUs).toFixed(1)})` : "");
  const rows = r.paired.map((p, i) => {
    const [bare, floor, redis, fsync, real] = SERVERS.map((s) => rpsOf(p.by[s]));
    const ratio = real / bare;
    const p50 = mean(p.by["dream-api"].runs.map((x) => x.p50_us));
    const p99 = Math.max(...p.by["dream-api"].runs.map((x) => x.p99_us));
    const errors = errorsOf(p.by["dream-api"]);
    const fives = fivesOf(p, p.by["dream-api"]);
    const t = targets[i];
    const goals: string[] = [];
    if (t.ratio > 0) goals.push(`≥ ${t.ratio}×`);
    if (t.p99Ms !== Infinity) goals.push(`p99 < ${t.p99Ms} ms`);
    if (i === 1) goals.push("0 × 5xx");
    const met =
      (ratio >= t.ratio && p99 / 1000 < t.p99Ms && (i !== 1 || (fives === "0" && errors === 0)))
        ? "yes"
        : "**no**";
    return `| ${p.name} | ${fmt.rps(bare)} | ${fmt.rps(floor)} (${fmt.ratio(floor / bare)}) | ` +
      `${fmt.rps(redis)} | ${fmt.rps(fsync)} | ${fmt.rps(real)} | ${fmt.ratio(ratio)} | ` +
      `${fmt.ratio(real / floor)} | ${fmt.ratio(real / redis)} | ${fmt.ratio(real / fsync)} | ` +
      `${fmt.ms(p50)} | ${fmt.ms(p99)} | ${errors} | ${fives} | ${goals.join(", ") || "—"} | ` +
      `${goals.length ? met : "—"} |`;
  });
  const detail = r.paired.flatMap((p) =>
    SERVERS.map((s) => {
      const m = p.by[s];
      return `| ${p.name} | ${s} | ${fmt.rps(rpsOf(m))} | ${
        fmt.ms(mean(m.runs.map((x) => x.p50_us)))
      } | ${fmt.ms(Math.max(...m.runs.map((x) => x.p99_us)))} | ${errorsOf(m)} | ${
        fivesOf(p, m)
      } | ${cpuPerRequest(m)} | ${
        s === "dream-api" ? "—" : fmt.ratio(rpsOf(p.by["dream-api"]) / rpsOf(m))
      } |`;
    })
  );
  const exactRows = r.exactness.map(({ server, exact: e, usage, pass }) =>
    `| (4) exactness, ${server}: limit ${EXACT_LIMIT.toLocaleString("en-US")}, one end-user, ` +
    `64 connections, ${fmt.rps(e.requests)} requests | ${e.s2xx} × 200, ${e.s429} × 429, ` +
    `${e.s5xx} × 5xx; usage reads ${usage} | exactly ${EXACT_LIMIT} × 200 and usage ${EXACT_LIMIT} | ${
      pass ? "yes" : "**no**"
    } |`
  );
  return `# dream-api benchmark${QUICK ? " (quick smoke run: not comparable)" : ""}

- Date: ${r.started.toISOString()}
- Machine: ${r.description}
- Load average (1, 5, 15 min): ${r.load}
- wrk: 1 thread, ${CONNECTIONS} connections, ${DURATION} s per run, the same Lua script for every server; ` +
    `${
      SERVERS.join(", ")
    } alternate, ${ROUNDS} round(s) each, req/s and p50 are means over rounds, p99 the worst round.
- bare: \`Deno.serve\` answering a constant JSON body (bench/bare.ts). floor: the same plus the work the contract ` +
    `requires before any counting: read its headers, SHA-256 the API key, take the POST body, answer JSON with ` +
    `\`RateLimit-*\` headers; no KV (bench/floor.ts).
- redis, redis-fsync: the design a team would build instead of us (Autumn, Upstash Ratelimit): one \`Deno.serve\` ` +
    `process (bench/redis_peer.ts, ioredis, auto-pipelining ${
      PEER_AUTO_PIPELINING ? "on" : "off"
    }) doing ` +
    `the same key hashing (cached key → platform), headers and JSON answer as ours, and one Lua ` +
    `check-and-increment (EVALSHA) per POST, one GET per usage read, against \`redis-server\` on loopback. ` +
    `redis: Redis as shipped (compiled-in defaults: RDB snapshots, no AOF: an acknowledged count can be lost). ` +
    `redis-fsync: \`appendonly yes\`, \`appendfsync always\` (a 200 is on disk, as with us).
- dream-api: \`main.ts\` on a fresh KV file, one platform and key made with the admin command.
- ${WORKERS_ROW}: \`deno task start\` with \`WORKERS=2\` (serve.ts supervising host.ts): one process, two ` +
    `HTTP isolates of \`main.ts\` on one port (\`reusePort\`, the kernel spreads connections) counting through ` +
    `one meter in the host isolate; its CPU counts the supervisor and the whole process. On this 2-core machine ` +
    `wrk takes a core of its own, so three isolates share the other: the row shows the cost of the split more ` +
    `than its gain; bench/workers.ts says where its CPU goes, and what bounds it on more cores.

| Scenario | bare req/s | floor req/s (÷ bare) | redis req/s | redis-fsync req/s | dream-api req/s | ratio to bare | ratio to floor | ratio to redis | ratio to redis-fsync | p50 ms | p99 ms | non-2xx + socket errors | 5xx | target (to bare) | met |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|
${rows.join("\n")}

Every server in every scenario (CPU µs/req: utime + stime of all the server's threads from \`/proc\`, ` +
    `the peers' including their \`redis-server\` (its part in brackets), during the measured runs, ÷ requests answered):

| Scenario | server | req/s | p50 ms | p99 ms | non-2xx + socket errors | 5xx | CPU µs/req | dream-api ÷ this |
|---|---|---:|---:|---:|---:|---:|---:|---:|
${detail.join("\n")}

| Check | Result | Target | met |
|---|---|---|---|
${exactRows.join("\n")}
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

/** dream-api's CPU per request and where it goes (bench/cpu.ts), in its own servers. */
async function cpuReport(): Promise<string> {
  console.error(`[bench] CPU breakdown (bench/cpu.ts)…`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}bench/cpu.ts`, ...(QUICK ? ["--quick"] : []), "--markdown"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return out.success ? text : `## CPU breakdown\n\nfailed:\n\n${text}\n`;
}

/**
 * A side bench (its own servers and KV) run in its own process, with `args` (default
 * `--markdown`); its markdown, or its failure.
 */
async function sideReport(script: string, title: string, args = ["--markdown"]): Promise<string> {
  console.error(`[bench] ${title} (${script})…`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}${script}`, ...(QUICK ? ["--quick"] : []), ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return out.success ? text : `## ${title}\n\nfailed:\n\n${text}\n`;
}

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
