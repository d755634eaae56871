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
    return new StripeApiError(401, {
      type: "invalid_request_error",
      message: `Invalid API Key provided: ${mask(key)}`,
    });
  }

  /** 401 for an OAuth access token whose connection was revoked. */
  static revokedToken(key: string, account: string): StripeApiError {
    return new StripeApiError(401, {
      type: "invalid_request_error",
      message: `The provided key '${mask(key)}' does not have access to account '${account}' ` +
        `(or that account does not exist). Application access may have been revoked.`,
    });
  }

  /**
   * 403 for `Stripe-Account` naming an account the key's platform is not connected to (never was,
   * or was deauthorized): `code: account_invalid`, which stripe-node raises as StripePermissionError.
   */
  static noAccess(key: string, account: string): StripeApiError {
    return new StripeApiError(403, {
      type: "invalid_request_error",
      code: "account_invalid",
      message: `The provided key '${mask(key)}' does not have access to account '${account}' ` +
        `(or that account does not exist). Application access may have been revoked.`,
      doc_url: "https://stripe.com/docs/error-codes/account-invalid",
    });
  }

  /** 403 for `Stripe-Account` used by an account that is no Connect platform. */
  static notPlatform(): StripeApiError {
    return new StripeApiError(403, {
      type: "invalid_request_error",
      message: "Only Stripe Connect platforms can work with other accounts. If you specified a " +
        "client_id parameter, make sure it's correct. If you need to setup a Stripe Connect " +
        "platform, you can do so at https://dashboard.stripe.com/account/applications/settings.",
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

/** A key as Stripe shows it in errors: its prefix and last four characters. */
export function mask(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}****${key.slice(-4)}` : "****";
}
