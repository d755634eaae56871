/**
 * Retrying Deno KV calls that fail for a passing reason. Several processes on one local KV file
 * share a SQLite database, and a writer can find it locked for a moment ("database is locked");
 * that is contention, never a reason to answer 5xx.
 */

/** Whether an error from Deno KV is a transient lock or busy error worth retrying. */
export function isTransientKvError(error: unknown): boolean {
  return error instanceof Error &&
    /database is locked|database is busy|SQLITE_BUSY/i.test(error.message);
}

/** Runs `fn`, retrying transient KV errors with jittered backoff (bounded). */
export async function retryTransient<T>(fn: () => Promise<T>, attempts = 50): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransientKvError(error) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }
}
