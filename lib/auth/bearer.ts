/** The one reader of `Authorization: Bearer …`, for tenant API keys and founders' sessions alike. */

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The token of an `Authorization` header value: `Bearer <token>` (scheme case-insensitive, one
 * token, surrounding spaces allowed); `null` when absent or of another form.
 * @example bearerToken("Bearer dk_live_abc") // "dk_live_abc"
 */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = BEARER.exec(header);
  return match ? match[1] : null;
}
