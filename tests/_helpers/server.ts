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
  let exited: Promise<number> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      exited = child.status.then((s) => s.code);
    }
    return exited;
  };
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
