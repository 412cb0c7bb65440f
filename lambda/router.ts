/**
 * The one router behind every transport (Lambda handler, local node:http server): finds the route
 * in the route table (lib/routes.ts), runs parse → fetch/decode → pipeline → format for dialect
 * routes, answers the service pages (health, OpenAPI, docs), turns every failure into the error of
 * the dialect the request belongs to, and logs one line per request (id, route, status, timings;
 * never the body).
 */
import { FACEKIT_ROUTES, matchPath, type DialectName, type FacekitRoute, type RouteCondition } from '../lib/routes.js';
import { DIALECTS } from './api/index.js';
import type { Dialect, DialectContext } from './api/dialect.js';
import type { HttpRequest, HttpResponse } from './api/http.js';
import { servicePage } from './api/service.js';
import { FacekitError, isFacekitError } from './errors.js';
import { logger, requestObserver } from './observability.js';
import { detect, type Runtime } from './runtime.js';

/** What an OVERLOADED answer tells clients to wait before retrying. */
const RETRY_AFTER_SECONDS = 1;
/** Slack over the image byte cap for base64 growth (4/3), JSON or multipart framing. */
const BODY_FRAMING_SLACK_BYTES = 64 * 1024;
/** Requests that belong to no dialect get the native route's JSON errors. */
const DEFAULT_DIALECT: DialectName = 'native';

/** Largest request body read from the network: one base64-encoded image plus framing. */
export function maxRequestBodyBytes(maxImageBytes: number): number {
  return Math.ceil(maxImageBytes / 3) * 4 + BODY_FRAMING_SLACK_BYTES;
}

export interface RequestLog {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  /** Who answered: a dialect of the route table, or `service` (health, docs). */
  readonly dialect: string;
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
  /** Decoded image size (display orientation), when one was decoded. */
  readonly imageWidth?: number;
  readonly imageHeight?: number;
}

export type RequestLogger = (entry: RequestLog) => void;


/** Whether the request carries the condition's parameter at all, and whether its value is accepted. */
function checkCondition(condition: RouteCondition | undefined, value: string | undefined): { present: boolean; accepted: boolean } {
  if (!condition) return { present: true, accepted: true };
  if (value === undefined) return { present: false, accepted: false };
  return { present: true, accepted: condition.values === undefined || condition.values.includes(value.trim()) };
}

export interface RouteResolution {
  /** The entry that serves the request, with its path parameters. */
  readonly served?: { readonly route: FacekitRoute; readonly params: Readonly<Record<string, string>> };
  /** Who answers the error when nothing serves the request. */
  readonly owner: DialectName | 'service';
  /** Why nothing serves it. */
  readonly failure?: FacekitError;
}

function firstSegment(path: string): string {
  return path.split('/')[1] ?? '';
}

/**
 * The route table's matching rule (see lib/routes.ts). Pure: exported for the unit tests.
 * `routes` defaults to the whole table (the router passes the entries this deployment serves).
 */
export function resolveRoute(request: Pick<HttpRequest, 'method' | 'path' | 'query' | 'headers'>, routes: readonly FacekitRoute[] = FACEKIT_ROUTES): RouteResolution {
  const method = request.method.toUpperCase();
  const candidates = routes.flatMap((route) => {
    const match = matchPath(route.path, request.path);
    if (!match) return [];
    // Header names arrive lower-cased; query names are case-sensitive.
    const header = checkCondition(route.whenHeader, route.whenHeader && request.headers[route.whenHeader.name.toLowerCase()]);
    const query = checkCondition(route.whenQuery, route.whenQuery && request.query[route.whenQuery.name]);
    return [{ route, params: match.params, present: header.present && query.present, accepted: header.accepted && query.accepted }];
  });
  const served = candidates.find((candidate) => candidate.accepted && candidate.route.method === method);
  if (served) return { served: { route: served.route, params: served.params }, owner: served.route.dialect };

  const shaped = candidates.filter((candidate) => candidate.present);
  const sameOperation = shaped.filter((candidate) => candidate.accepted);
  if (sameOperation.length > 0) {
    const methods = [...new Set(sameOperation.map(({ route }) => route.method))].join(', ');
    return {
      owner: sameOperation[0]!.route.dialect,
      failure: new FacekitError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}; use ${methods}`),
    };
  }
  if (shaped.length > 0) {
    // Only entries with a condition get here (their parameter is present, its value is not served).
    const { route } = shaped[0]!;
    const condition = (route.whenHeader ?? route.whenQuery)!;
    const value = route.whenHeader ? request.headers[condition.name.toLowerCase()] : request.query[condition.name];
    return {
      owner: route.dialect,
      failure: new FacekitError('NOT_FOUND', `no operation ${condition.name}: ${value} at ${request.method} ${request.path}`, { field: condition.name }),
    };
  }
  // Recognisably a dialect's path: it shares the first path segment with one of its routes.
  const segment = firstSegment(request.path);
  const sibling = routes.find((route) => !route.path.startsWith('/{') && firstSegment(route.path) === segment);
  return {
    owner: sibling?.dialect ?? DEFAULT_DIALECT,
    failure: new FacekitError('NOT_FOUND', `no route ${request.method} ${request.path}`),
  };
}

function routeName(route: FacekitRoute): string {
  const condition = route.whenHeader ?? route.whenQuery;
  return `${route.method} ${route.path}${condition ? ` [${condition.name}]` : ''}`;
}

export interface Router {
  handle(request: HttpRequest): Promise<HttpResponse>;
}

export interface RouterOptions {
  readonly log?: RequestLogger;
}

/** Service routes answer errors in the native JSON shape. */
function dialectFor(owner: DialectName | 'service'): Dialect<any> {
  return DIALECTS[owner === 'service' ? DEFAULT_DIALECT : owner];
}

export function createRouter(runtime: Runtime, options: RouterOptions = {}): Router {
  const log = options.log ?? requestObserver();
  const bodyLimit = maxRequestBodyBytes(runtime.config.image.maxBytes);
  // Every entry, the CI routes too without a CI bucket: a CI-shaped request then gets COS XML
  // saying FACEKIT_CI_BUCKET is missing (the construct creates those methods only with a bucket).
  const routes = FACEKIT_ROUTES;

  return {
    async handle(incoming: HttpRequest): Promise<HttpResponse> {
      const started = performance.now();
      const context: DialectContext = { config: runtime.config, requestId: incoming.requestId, receivedAt: Date.now() };
      const resolution = resolveRoute(incoming, routes);
      const request: HttpRequest = resolution.served ? { ...incoming, params: resolution.served.params } : incoming;
      const dialect = dialectFor(resolution.owner);
      const name = resolution.served ? routeName(resolution.served.route) : `${request.method} (unmatched)`;

      const finish = (response: HttpResponse, extra: Partial<RequestLog> = {}): HttpResponse => {
        log({ requestId: request.requestId, method: request.method, route: name, dialect: resolution.owner, status: response.status, totalMs: Math.round(performance.now() - started), ...extra });
        return { ...response, headers: { ...response.headers, 'x-request-id': request.requestId } };
      };
      const fail = (error: unknown): HttpResponse => {
        const known = isFacekitError(error)
          ? error
          : new FacekitError('INTERNAL_ERROR', 'internal error; retry the request, and report it with the request id if it persists');
        if (!isFacekitError(error)) {
          // The message and stack of our own code only: request bodies never reach an Error here.
          logger.error('unhandled', { requestId: request.requestId, error: (error as Error)?.stack ?? String(error) });
        }
        const response = dialect.formatError(known, request, context);
        const retryable = known.code === 'OVERLOADED' ? { headers: { ...response.headers, 'retry-after': String(RETRY_AFTER_SECONDS) } } : {};
        return finish({ ...response, ...retryable }, { errorCode: known.code });
      };

      try {
        if (!resolution.served) throw resolution.failure ?? new FacekitError('NOT_FOUND', `no route ${request.method} ${request.path}`);
        const { route } = resolution.served;
        if (route.dialect === 'service') {
          return finish(servicePage(route.page!, runtime.config, request));
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
          imageWidth: result.width, imageHeight: result.height,
          fetchMs: Math.round(timings.fetchMs), decodeMs: Math.round(timings.decodeMs), detectMs: Math.round(timings.detectMs),
          landmarksMs: Math.round(timings.landmarksMs), genderAgeMs: Math.round(timings.genderAgeMs), attributesMs: Math.round(timings.attributesMs),
        });
      } catch (error) {
        return fail(error);
      }
    },
  };
}
