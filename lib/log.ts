/** The one logger: JSON lines, with secret-bearing fields redacted wherever they appear. */

const SECRET_FIELD = /key|secret|token|authorization|password|cookie|signature/i;

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** Replaces the values of secret-looking fields (and `dk_`/`sk_`/`rk_`/`whsec_` strings) by "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return value.replace(/\b(dk|sk|rk|whsec)_[A-Za-z0-9_-]{8,}/g, "$1_[redacted]");
  }
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) && typeof v !== "number" && typeof v !== "boolean" &&
        !/prefix|Hash$/i.test(k)
      ? "[redacted]"
      : redact(v, depth + 1);
  }
  return out;
}

/** A logger writing JSON lines to `write` (stderr by default), dropping levels below `min`. */
export function createLogger(
  options: { min?: LogLevel; write?: (line: string) => void } = {},
): Logger {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  const min = order.indexOf(options.min ?? "info");
  const write = options.write ?? ((line: string) => console.error(line));
  return {
    log(level, message, fields = {}) {
      if (order.indexOf(level) < min) return;
      write(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          message,
          ...redact(fields) as object,
        }),
      );
    },
  };
}
