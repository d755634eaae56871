/** The errors of KV repositories: the few outcomes that are exceptions, not values. */

/** Thrown when an atomic write keeps losing to concurrent writers. */
export class ConflictError extends Error {
  override name = "ConflictError";
}

/** Thrown when a record the caller names does not exist. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}
