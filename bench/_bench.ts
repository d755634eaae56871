/**
 * What bench/run.ts and bench/cpu.ts share: starting servers (ours, the peers, Redis), running wrk
 * with the tenant script, and reading CPU time and memory from Linux's /proc.
 */
import { fileURLToPath } from "node:url";
import { runAdmin } from "../cli/admin.ts";
import { hashApiKey } from "../lib/api_keys.ts";
import { setTiers } from "../lib/kv/tiers.ts";
import type { TierInput } from "../lib/schemas/tiers.ts";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const LUA = `${ROOT}bench/wrk/tenant.lua`;
export const CONNECTIONS = 50;

export interface WrkResult {
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

export const rps = (r: WrkResult) => r.requests / (r.duration_us / 1e6);

/** The `--v8-flags=…` of `deno task start`, so the server runs here as it does in production. */
export async function startFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return (String(config.tasks?.start ?? "").match(/--v8-flags=\S+/g) ?? []);
}

export interface Server {
  url: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Spawns `command` (default: deno) and resolves once `listening` matches what it prints; the
 * match's first group is the port, else `port`.
 */
export async function spawnServer(
  args: string[],
  env: Record<string, string>,
  listening: RegExp,
  cwd: string,
  options: { command?: string; port?: number } = {},
): Promise<Server> {
  const child = new Deno.Command(options.command ?? Deno.execPath(), {
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
      const match = listening.exec(output);
      const found = match && (match[1] ?? String(options.port));
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
export async function wrk(
  url: string,
  env: Record<string, string>,
  options: { seconds: number; connections?: number },
): Promise<WrkResult> {
  const out = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${options.connections ?? CONNECTIONS}`,
      `-d${options.seconds}s`,
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

/** Whether `command --version` runs: wrk and redis-server are not Deno dependencies. */
export async function available(command: string): Promise<boolean> {
  try {
    await new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A TCP port free on loopback right now (for servers that cannot be told "any port"). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The tiers of the bench's platform: "free" unlimited (runs measure the path), "exact" limited;
 * for the features pair (bench/features.ts), "plain" (a large finite limit, no features) and
 * "featured" (the same limit and three features: two metered, one on/off).
 */
export function benchTiers(exactLimit: number): TierInput[] {
  const large = 1_000_000_000;
  return [
    { id: "free", name: "Free", price: 0, limit: null, period: "month" },
    { id: "exact", name: "Exact", price: 1, limit: exactLimit, period: "month" },
    { id: "plain", name: "Plain", price: 2, limit: large, period: "month" },
    {
      id: "featured",
      name: "Featured",
      price: 3,
      limit: large,
      period: "month",
      features: { exports: { limit: large }, searches: { limit: large, period: "day" }, sso: true },
    },
  ];
}

/** One platform and key in the KV file at `kvPath`, made the way operators make them. */
export async function makePlatform(
  kvPath: string,
  exactLimit: number,
): Promise<{ platformId: string; apiKey: string }> {
  const kv = await Deno.openKv(kvPath);
  const made = await runAdmin(kv, ["platform", "create", "--name", "Bench"]) as {
    platformId: string;
    apiKey: string;
  };
  await setTiers(kv, made.platformId, benchTiers(exactLimit));
  kv.close();
  return made;
}

/**
 * `redis-server` in `dir` on a free loopback port with its compiled-in defaults (what Debian's
 * package runs, less its config file's paths) plus `extra` arguments.
 */
export async function startRedis(dir: string, extra: string[]): Promise<Server & { port: number }> {
  await Deno.mkdir(dir, { recursive: true });
  const port = freePort();
  const server = await spawnServer(
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no", ...extra],
    {},
    /Ready to accept connections/,
    dir,
    { command: "redis-server", port },
  );
  return { ...server, port };
}

/** Stores the platform where the Redis peer looks it up: `dream:key:<sha256 hex of the key>`. */
export async function seedRedis(
  port: number,
  platform: { platformId: string; apiKey: string },
  exactLimit: number,
): Promise<void> {
  const value = JSON.stringify({ platformId: platform.platformId, tiers: benchTiers(exactLimit) });
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), "SET", `dream:key:${hashApiKey(platform.apiKey)}`, value],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

const TICKS_PER_SECOND = 100; // USER_HZ: what /proc reports in on every Linux build

/** utime + stime (µs) of `/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat` text. */
function cpuOfStat(stat: string): number {
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / TICKS_PER_SECOND;
}

/** CPU time (µs) the process has used so far, all threads, dead ones included. */
export async function processCpu(pid: number): Promise<number> {
  return cpuOfStat(await Deno.readTextFile(`/proc/${pid}/stat`));
}

/** CPU time (µs) of each live thread of a process, by thread id, with the thread's name. */
export async function threadCpu(pid: number): Promise<Map<string, { name: string; us: number }>> {
  const threads = new Map<string, { name: string; us: number }>();
  for await (const entry of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/task/${entry.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      threads.set(entry.name, { name, us: cpuOfStat(stat) });
    } catch { /* the thread ended */ }
  }
  return threads;
}

/** Peak and current resident memory of a process, in MiB (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ peakMiB: number; rssMiB: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return { peakMiB: kib("VmHWM") / 1024, rssMiB: kib("VmRSS") / 1024 };
}

/** The 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
export async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "? ? ?");
  return text.split(" ").slice(0, 3).join(", ");
}

/** What a thread's name says it is (Linux truncates names to 15 characters). */
export function threadRole(name: string, isMain: boolean): string {
  if (isMain) return "main JS thread (V8 isolate, Deno.serve, the handlers)";
  if (/^sw-\d/.test(name)) return "KV SQLite workers (one per KV handle: writes, reads)";
  if (/^worker-\d/.test(name)) return "HTTP isolates (Deno.serve, auth, the handlers)";
  if (/^tokio-runtime-w/.test(name)) return "tokio workers (HTTP I/O, KV ops off the main thread)";
  if (/^V8 DefaultWorke|^V8 /.test(name)) return "V8 platform workers (GC, compiler)";
  if (/sqlite|kv|denokv/i.test(name)) return `KV / SQLite (${name})`;
  return `other (${name})`;
}
