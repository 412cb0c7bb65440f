/**
 * The transport-neutral HTTP shapes the router speaks. The Lambda adapter (API Gateway REST proxy
 * events) and the local node:http server both convert to and from these, so neither has behaviour
 * the other lacks.
 */
export interface HttpRequest {
  readonly method: string;
  /** Path without query string, e.g. `/face_detection`. */
  readonly path: string;
  /** Query parameters (first value wins for repeated keys). */
  readonly query: Readonly<Record<string, string>>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Raw body bytes (API Gateway base64 bodies already decoded). Empty buffer when absent. */
  readonly body: Buffer;
  /** Id for logs and dialect request ids. */
  readonly requestId: string;
  /** Path parameters of the matched route (e.g. `key` of `/ci/{key+}`), raw (not percent-decoded). */
  readonly params?: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function jsonResponse(status: number, payload: unknown, extraHeaders: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...extraHeaders },
    body: JSON.stringify(payload),
  };
}
