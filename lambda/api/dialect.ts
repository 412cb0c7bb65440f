/**
 * The contract between the router and each cloud dialect. A dialect turns its HTTP request into a
 * dialect-neutral DetectRequest (plus whatever it must echo back, `state`), and a DetectResult or
 * FacekitError back into its own body, status and headers. Dialects never touch pixels or models.
 */
import type { DialectName } from '../../lib/routes.js';
import type { FacekitConfig } from '../config.js';
import type { FacekitError } from '../errors.js';
import type { DetectRequest, DetectResult } from '../vision/types.js';
import type { HttpRequest, HttpResponse } from './http.js';

export interface DialectContext {
  readonly config: FacekitConfig;
  /** Same id as in the logs. */
  readonly requestId: string;
  /** Date.now() when the request arrived (for `time_used`-style fields). */
  readonly receivedAt: number;
}

export interface ParsedRequest<State> {
  readonly detect: DetectRequest;
  /** Whatever the dialect needs again when it formats (echoed ids, landmark level...). */
  readonly state: State;
}

export interface Dialect<State = unknown> {
  /** The name the route table (lib/routes.ts) uses for this dialect. */
  readonly name: DialectName;
  /** Throws FacekitError for every bad request. */
  parse(request: HttpRequest, context: DialectContext): Promise<ParsedRequest<State>>;
  format(result: DetectResult, parsed: ParsedRequest<State>, request: HttpRequest, context: DialectContext): HttpResponse;
  formatError(error: FacekitError, request: HttpRequest, context: DialectContext): HttpResponse;
}
