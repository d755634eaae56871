/**
 * Stripe's error responses, shaped like the real API's so stripe-node raises the same error
 * classes: 401 → StripeAuthenticationError, 400/404 → StripeInvalidRequestError, 409 → retried.
 * https://docs.stripe.com/api/errors
 */

export interface StripeErrorBody {
  type: "invalid_request_error" | "api_error" | "idempotency_error";
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export class StripeApiError extends Error {
  constructor(readonly status: number, readonly body: StripeErrorBody) {
    super(body.message);
  }

  toJSON() {
    return { error: this.body };
  }

  /** 401 for a key that is not a Stripe key or that Stripe does not know; the key is masked. */
  static invalidKey(key: string): StripeApiError {
    const masked = key.length > 12 ? `${key.slice(0, 8)}****${key.slice(-4)}` : "****";
    return new StripeApiError(401, {
      type: "invalid_request_error",
      message: `Invalid API Key provided: ${masked}`,
    });
  }

  static noKey(): StripeApiError {
    return new StripeApiError(401, {
      type: "invalid_request_error",
      message: "You did not provide an API key. You need to provide your API key in the " +
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    });
  }

  /** 404 for the object in the URL; 400 when the missing object was named by a parameter. */
  static noSuch(kind: string, id: string, param?: string): StripeApiError {
    return new StripeApiError(param ? 400 : 404, {
      type: "invalid_request_error",
      code: "resource_missing",
      message: `No such ${kind}: '${id}'`,
      param: param ?? "id",
      doc_url: "https://stripe.com/docs/error-codes/resource-missing",
    });
  }

  static missingParam(param: string): StripeApiError {
    return new StripeApiError(400, {
      type: "invalid_request_error",
      code: "parameter_missing",
      message: `Missing required param: ${param}.`,
      param,
      doc_url: "https://stripe.com/docs/error-codes/parameter-missing",
    });
  }

  static invalid(message: string, param?: string, code?: string): StripeApiError {
    return new StripeApiError(400, {
      type: "invalid_request_error",
      message,
      ...(param && { param }),
      ...(code && { code }),
    });
  }

  static unknownUrl(method: string, path: string): StripeApiError {
    return new StripeApiError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs.`,
    });
  }
}
