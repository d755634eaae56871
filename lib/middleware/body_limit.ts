/** `limitBody`: refuses bodies over `MAX_BODY_BYTES` with 413, whether or not they say their length. */
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.ts";
import { MAX_BODY_BYTES } from "../http/body.ts";

export function limitBody(maxBytes = MAX_BODY_BYTES) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `The body must be at most ${maxBytes} bytes.`);
    },
  });
}
