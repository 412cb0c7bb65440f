/**
 * The one router behind every transport (Lambda handler, local node:http server): finds the
 * dialect for a route, runs parse → fetch/decode → pipeline → format, turns every failure into the
 * dialect's own error, and logs one line per request (id, route, status, timings; never the body).
 */
import { DIALECTS } from './api/index.js';
import type { Dialect, DialectContext, Route } from './api/dialect.js';
import type { HttpRequest, HttpResponse } from './api/http.js';
import { nativeDialect } from './api/native.js';
import { FacekitError, isFacekitError } from './errors.js';
import { detect, type Runtime } from './runtime.js';

/** What an OVERLOADED answer tells clients to wait before retrying. */
const RETRY_AFTER_SECONDS = 1;
/** Slack over the image byte cap for base64 growth (4/3), JSON or multipart framing. */
const BODY_FRAMING_SLACK_BYTES = 64 * 1024;

/** Largest request body read from the network: one base64-encoded image plus framing. */
export function maxRequestBodyBytes(maxImageBytes: number): number {
  return Math.ceil(maxImageBytes / 3) * 4 + BODY_FRAMING_SLACK_BYTES;
}

export interface RequestLog {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly errorCode?: string;
  readonly faces?: number;
  readonly totalMs: number;
  readonly fetchMs?: number;
  readonly decodeMs?: number;
  readonly detectMs?: number;
  readonly landmarksMs?: number;
  readonly genderAgeMs?: number;
  readonly attributesMs?: number;
}

export type RequestLogger = (entry: RequestLog) => void;

export const jsonLineLogger: RequestLogger = (entry) => console.log(JSON.stringify({ level: 'info', msg: 'request', ...entry }));

function matches(route: Route, path: string): boolean {
  return route.prefix ? path.startsWith(route.path) && path.length > route.path.length : path === route.path;
}

export interface Router {
  handle(request: HttpRequest): Promise<HttpResponse>;
}

export interface RouterOptions {
  readonly dialects?: readonly Dialect<any>[];
  readonly log?: RequestLogger;
}

export function createRouter(runtime: Runtime, options: RouterOptions = {}): Router {
  const dialects = options.dialects ?? DIALECTS;
  const log = options.log ?? jsonLineLogger;
  const bodyLimit = maxRequestBodyBytes(runtime.config.image.maxBytes);

  return {
    async handle(request: HttpRequest): Promise<HttpResponse> {
      const started = performance.now();
      const context: DialectContext = { config: runtime.config, requestId: request.requestId, receivedAt: Date.now() };
      const onPath = dialects.flatMap((dialect) => dialect.routes.filter((route) => matches(route, request.path)).map((route) => ({ dialect, route })));
      const match = onPath.find(({ route }) => route.method === request.method.toUpperCase());
      const dialect = match?.dialect ?? onPath[0]?.dialect ?? nativeDialect;
      const routeName = match ? `${match.route.method} ${match.route.path}${match.route.prefix ? '*' : ''}` : `${request.method} (unmatched)`;

      const finish = (response: HttpResponse, extra: Partial<RequestLog> = {}): HttpResponse => {
        log({ requestId: request.requestId, method: request.method, route: routeName, status: response.status, totalMs: Math.round(performance.now() - started), ...extra });
        return { ...response, headers: { ...response.headers, 'x-request-id': request.requestId } };
      };
      const fail = (error: unknown): HttpResponse => {
        const known = isFacekitError(error)
          ? error
          : new FacekitError('INTERNAL_ERROR', 'internal error; retry the request, and report it with the request id if it persists');
        if (!isFacekitError(error)) {
          // The message and stack of our own code only: request bodies never reach an Error here.
          console.error(JSON.stringify({ level: 'error', msg: 'unhandled', requestId: request.requestId, error: (error as Error)?.stack ?? String(error) }));
        }
        const response = dialect.formatError(known, request, context);
        const retryable = known.code === 'OVERLOADED' ? { headers: { ...response.headers, 'retry-after': String(RETRY_AFTER_SECONDS) } } : {};
        return finish({ ...response, ...retryable }, { errorCode: known.code });
      };

      try {
        if (!match) {
          throw onPath.length > 0
            ? new FacekitError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}; use ${[...new Set(onPath.map(({ route }) => route.method))].join(', ')}`)
            : new FacekitError('NOT_FOUND', `no route ${request.method} ${request.path}`);
        }
        if (request.body.length > bodyLimit) {
          throw new FacekitError('PAYLOAD_TOO_LARGE', `the request body is larger than ${bodyLimit} bytes`);
        }
        const parsed = await dialect.parse(request, context);
        const result = await detect(runtime, parsed.detect);
        const response = dialect.format(result, parsed, request, context);
        const { timings } = result;
        return finish(response, {
          faces: result.faces.length,
          fetchMs: Math.round(timings.fetchMs), decodeMs: Math.round(timings.decodeMs), detectMs: Math.round(timings.detectMs),
          landmarksMs: Math.round(timings.landmarksMs), genderAgeMs: Math.round(timings.genderAgeMs), attributesMs: Math.round(timings.attributesMs),
        });
      } catch (error) {
        return fail(error);
      }
    },
  };
}
