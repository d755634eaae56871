/** Starts the real server (`main.ts`) as a subprocess on a random port, for black-box tests. */
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

export interface RunningServer extends AsyncDisposable {
  url: string;
  pid: number;
  child: Deno.ChildProcess;
  /** Everything the server wrote to stderr so far. */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/**
 * Runs `deno run -A main.ts` with `APP_ENV=test`, `PORT=0` and `env`; resolves once it listens.
 * `v8Flags` as `deno task start` passes them (e.g. its heap cap), to test the process as deployed.
 */
export async function startServer(
  env: Record<string, string>,
  options: { v8Flags?: string } = {},
): Promise<RunningServer> {
  const flags = options.v8Flags ? [`--v8-flags=${options.v8Flags}`] : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, MAIN],
    env: { APP_ENV: "test", PORT: "0", ...env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const reader = child.stderr.getReader();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        output += decoder.decode(value, { stream: true });
        const port = /"message":"dream-api listening","port":(\d+)/.exec(output)?.[1];
        if (port) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${port}`);
        }
      }
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${output}`));
    })().catch(reject);
  });
  // Keep draining stderr so the child never blocks on a full pipe.
  (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      output += decoder.decode(value, { stream: true });
    }
  })();
  const stop = stopper(child);
  return {
    url,
    pid: child.pid,
    child,
    output: () => output,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/** A port nobody listens on now: for a server whose PUBLIC_URL (which CSRF trusts) must be known before it starts. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

const SERVE = fileURLToPath(new URL("../../serve.ts", import.meta.url));

/** `deno task start`'s supervisor (serve.ts) with its host and HTTP isolates, as a test runs it. */
export interface RunningCluster extends RunningServer {
  /** Each HTTP isolate that said it listens, in order (a restarted host's isolates add theirs). */
  workers(): { pid: number; isolate: number }[];
  /** Resolves once `count` isolates in all have said they listen (restarts included). */
  listening(count: number): Promise<void>;
}

/**
 * Runs `deno run -A serve.ts` with `APP_ENV=test`, `WORKERS=2`, a free fixed PORT and `env`;
 * resolves once every worker listens.
 */
export async function startCluster(env: Record<string, string> = {}): Promise<RunningCluster> {
  const port = String(freePort());
  const full = { APP_ENV: "test", WORKERS: "2", PORT: port, ...env };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVE],
    env: full,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let output = "";
  let exitedEarly = false;
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of child.stderr) output += decoder.decode(chunk, { stream: true });
    exitedEarly = true;
  })();
  const workers = () =>
    [
      ...output.matchAll(/"message":"dream-api listening","port":\d+,"pid":(\d+),"isolate":(\d+)/g),
    ].map((m) => ({ pid: Number(m[1]), isolate: Number(m[2]) }));
  const listening = async (count: number) => {
    const deadline = Date.now() + 30_000;
    while (workers().length < count) {
      if (exitedEarly) throw new Error(`cluster exited before listening:\n${output}`);
      if (Date.now() > deadline) throw new Error(`cluster did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = stopper(child);
  try {
    await listening(Number(full.WORKERS));
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    child,
    output: () => output,
    stop,
    workers,
    listening,
    async [Symbol.asyncDispose]() {
      // SIGTERM drains the workers too; SIGKILL to the supervisor would orphan them.
      const code = stop("SIGTERM");
      const timer = setTimeout(() => {
        for (const { pid } of workers()) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch { /* gone */ }
        }
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await code;
      clearTimeout(timer);
    },
  };
}

/** Stops `child` with a signal (once; later calls get the same exit code). */
function stopper(child: Deno.ChildProcess): (signal?: Deno.Signal) => Promise<number> {
  let exited: Promise<number> | undefined;
  return (signal = "SIGTERM") => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      exited = child.status.then((s) => s.code);
    }
    return exited;
  };
}
