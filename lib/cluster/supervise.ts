/**
 * The supervisor behind `deno task start`: keeps workers up (serve.ts's one process, host.ts's HTTP
 * isolates), replaces one that exits unasked, and drains them all on a signal. A worker is
 * anything with a status and a `kill`: a `Deno.ChildProcess`, or an isolate (./isolates.ts).
 */
import type { Logger } from "../log.ts";

/** What the supervisor needs of a worker process (a `Deno.ChildProcess` fits). */
export interface WorkerProcess {
  readonly pid: number;
  /** set for an HTTP isolate of host.ts (lib/cluster/isolates.ts), whose `pid` is its process's */
  readonly isolate?: number;
  readonly status: Promise<{ success: boolean; code: number; signal: Deno.Signal | null }>;
  kill(signal?: Deno.Signal): void;
}

/** A running set of workers. */
export interface Cluster {
  /** Forwards `signal` to every worker (each drains: stops accepting, commits, answers) and restarts none. */
  stop(signal: Deno.Signal): void;
  /** 0 once every worker has exited after `stop` and each exited 0; 1 if one failed or restarts ran out. */
  done: Promise<number>;
}

/**
 * Starts `workers` workers and keeps them up: one that exits without being asked is logged in one
 * line and replaced, at most `maxRestartsPerMinute` times a minute (then the cluster stops, so a
 * worker that can never start does not spin).
 * @example const cluster = supervise({ workers: 4, spawn: () => command.spawn(), log });
 */
export function supervise(options: {
  workers: number;
  spawn: () => WorkerProcess;
  log: Logger;
  maxRestartsPerMinute?: number;
  now?: () => number;
}): Cluster {
  const { log, spawn } = options;
  const maxRestarts = options.maxRestartsPerMinute ?? 5;
  const now = options.now ?? Date.now;
  const live = new Set<WorkerProcess>();
  const restarts: number[] = [];
  let stopping: Deno.Signal | null = null;
  let failed = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => finish = resolve);
  const settle = () => {
    if (stopping && live.size === 0) finish(failed ? 1 : 0);
  };

  const stop = (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = signal;
    for (const worker of live) {
      try {
        worker.kill(signal);
      } catch {
        // exited already; its status handler accounts for it
      }
    }
    settle();
  };

  const start = () => {
    const worker = spawn();
    live.add(worker);
    log.log("info", "worker started", idOf(worker));
    void worker.status.then(({ success, code, signal }) => {
      live.delete(worker);
      const exit = { ...idOf(worker), code, signal };
      if (stopping) {
        if (signal !== null && signal === stopping) {
          // Killed by the very signal it was sent: main.ts had not installed its handlers yet,
          // which it does in the same tick as it starts serving, so it had answered nothing.
          log.log("info", "worker stopped before it served", exit);
        } else if (!success) {
          failed = true;
          log.log("error", "worker failed while draining", exit);
        }
        settle();
        return;
      }
      const t = now();
      while (restarts.length > 0 && restarts[0] <= t - 60_000) restarts.shift();
      if (restarts.length >= maxRestarts) {
        failed = true;
        log.log("error", "worker exited; too many restarts in a minute, stopping", exit);
        stop("SIGTERM");
        return;
      }
      restarts.push(t);
      log.log("warn", "worker exited unexpectedly; restarting it", exit);
      start();
    });
  };

  for (let i = 0; i < options.workers; i++) start();
  return { stop, done };
}

/**
 * Listens for SIGINT and SIGTERM from now on, before anything is spawned: a signal while the
 * workers start still drains them once `attach`ed (a supervisor dying of it would orphan them),
 * and one that comes before is kept in `signal`, so the caller stops cleanly instead of starting.
 */
export function listenForStop(): {
  readonly signal: Deno.Signal | undefined;
  attach(cluster: Cluster): void;
} {
  let signal: Deno.Signal | undefined;
  let attached: Cluster | undefined;
  for (const s of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(s, () => {
      signal ??= s;
      attached?.stop(s);
    });
  }
  return {
    get signal() {
      return signal;
    },
    attach(cluster) {
      attached = cluster;
      if (signal) cluster.stop(signal);
    },
  };
}

/** How the log names a worker: its pid, and its number when it is an isolate. */
function idOf(worker: WorkerProcess): { pid: number; isolate?: number } {
  return worker.isolate === undefined
    ? { pid: worker.pid }
    : { pid: worker.pid, isolate: worker.isolate };
}

/** The one line refusing a configuration the workers cannot share, or `null` when it is fine. */
export function clusterRefusal(config: { workers: number; port: number }): string | null {
  if (config.workers > 1 && config.port === 0) {
    return `dream-api cannot start: WORKERS=${config.workers} needs a fixed PORT to share ` +
      `(PORT=0 picks a different port per process); set PORT, or WORKERS=1.`;
  }
  return null;
}
