/**
 * WORKERS > 1: one process, N HTTP isolates of `main.ts` and the isolate that started them (host.ts),
 * which owns the meter and the founders' webhook loop. The isolates listen on one port with
 * `reusePort` (the kernel spreads connections) and count through the host's meter
 * (lib/usage/remote_meter.ts); everything else they read and write in KV themselves, as separate
 * processes would.
 *
 * The host starts each isolate with `spawnIsolate`, which `supervise` keeps up like a process;
 * inside, `clusterHost()` is the isolate's side of the same channel.
 */
import { type MeterChannel, serveMeter } from "../usage/remote_meter.ts";
import type { Meter } from "../usage/meter.ts";
import type { WorkerProcess } from "./supervise.ts";

/** Worker names are `dream-api-http-<n>`: how an isolate knows it is one, and which. */
const NAME_PREFIX = "dream-api-http-";

type HostMessage = { t: "cluster.stop"; signal: Deno.Signal };
type IsolateMessage = { t: "cluster.exit"; code: number } | { t: "cluster.wake" };

/** An HTTP isolate's side of the channel to its host. */
export interface ClusterHost {
  /** The channel the meter's calls travel on. */
  channel: MeterChannel;
  /** 1, 2, … in start order (a replacement takes the next). */
  number: number;
  /** Calls `stop` once the host asks this isolate to drain (at once if it already has). */
  onStop(stop: (signal: Deno.Signal) => void): void;
  /** Whether the host has asked this isolate to stop (it may ask while the isolate starts). */
  readonly stopAsked: boolean;
  /** Wakes the host's founders' webhook loop (this isolate just queued an event). */
  wake(): void;
  /** Tells the host this isolate ends with `code`, then ends it. */
  exit(code: number): never;
}

/** This isolate's host when it is one of host.ts's HTTP isolates; `null` in a process of its own. */
export function clusterHost(): ClusterHost | null {
  if (!("WorkerGlobalScope" in globalThis)) return null;
  const scope = globalThis as unknown as MeterChannel & { name: string };
  if (!scope.name.startsWith(NAME_PREFIX)) return null;
  const post = (message: IsolateMessage) => scope.postMessage(message);
  // Listening from the first moment: a stop that comes while main.ts still starts is kept for it.
  let asked: Deno.Signal | undefined;
  let stopper: ((signal: Deno.Signal) => void) | undefined;
  scope.addEventListener("message", (event) => {
    const data = event.data as HostMessage | undefined;
    if (data?.t !== "cluster.stop") return;
    asked ??= data.signal;
    stopper?.(data.signal);
  });
  return {
    channel: scope,
    number: Number(scope.name.slice(NAME_PREFIX.length)),
    onStop(stop) {
      stopper = stop;
      if (asked) stop(asked);
    },
    get stopAsked() {
      return asked !== undefined;
    },
    wake: () => post({ t: "cluster.wake" }),
    exit(code) {
      post({ t: "cluster.exit", code });
      // In a worker, Deno.exit ends this isolate only.
      Deno.exit(code);
    },
  };
}

/**
 * Starts HTTP isolate number `number` of `main` and answers its meter calls with `meter`; the
 * returned handle is what `supervise` needs: its status settles when the isolate exits (or throws),
 * and `kill` asks it to drain.
 */
export function spawnIsolate(options: {
  main: URL;
  number: number;
  meter: Meter;
  wake: () => void;
}): WorkerProcess {
  const worker = new Worker(options.main, {
    type: "module",
    name: `${NAME_PREFIX}${options.number}`,
  });
  serveMeter(worker, options.meter);
  let settle!: (status: Awaited<WorkerProcess["status"]>) => void;
  const status = new Promise<Awaited<WorkerProcess["status"]>>((resolve) => settle = resolve);
  const end = (code: number) => {
    settle({ success: code === 0, code, signal: null });
    worker.terminate();
  };
  worker.addEventListener("message", (event) => {
    const data = event.data as IsolateMessage | undefined;
    if (data?.t === "cluster.wake") options.wake();
    else if (data?.t === "cluster.exit") end(data.code);
  });
  worker.addEventListener("error", (event) => {
    // An uncaught error ends this isolate, not the process: supervise replaces it.
    event.preventDefault();
    console.error(`dream-api HTTP isolate ${options.number} failed: ${event.message}`);
    end(1);
  });
  return {
    pid: Deno.pid,
    isolate: options.number,
    status,
    kill(signal = "SIGTERM") {
      worker.postMessage({ t: "cluster.stop", signal } satisfies HostMessage);
    },
  };
}
