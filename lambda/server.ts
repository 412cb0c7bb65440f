/**
 * `npm start`: the local API on node:http, over the same router as the Lambda handler. It only
 * translates HTTP; it adds no behaviour the Lambda lacks (the body cap is the router's own rule,
 * the server merely stops reading one byte past it). The one local-only addition is the web demo
 * at `GET /` (lambda/web/), a page that calls the API routes like any client.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { FACEKIT_ROUTES } from '../lib/routes.js';
import type { HttpRequest } from './api/http.js';
import { loadConfig, type FacekitConfig } from './config.js';
import { logger, requestObserver } from './observability.js';
import { createRouter, maxRequestBodyBytes, type RequestLog, type RequestLogger, type Router } from './router.js';
import { createRuntime, type Runtime } from './runtime.js';

export const DEFAULT_PORT = 8080;

/** A client that keeps sending past the cap is cut off after this much (or after the request timeout). */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;
/** Whole request, headers to last body byte: a slow sender cannot hold a connection for ever. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Keeps at most `limit + 1` bytes (enough for the router to see that a body is too large) and
 * reads the rest without keeping it, so the client can finish sending and read the error response
 * instead of failing with a reset connection.
 */
async function readBody(message: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let discarded = 0;
  for await (const chunk of message) {
    const bytes = chunk as Buffer;
    const room = limit + 1 - kept;
    if (room > 0) {
      const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
      chunks.push(part);
      kept += part.length;
      discarded += bytes.length - part.length;
    } else {
      discarded += bytes.length;
    }
    if (discarded > MAX_DISCARDED_BYTES) break;
  }
  return Buffer.concat(chunks);
}

export function toHttpRequest(message: IncomingMessage, body: Buffer): HttpRequest {
  const url = new URL(message.url ?? '/', 'http://localhost');
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) if (!(key in query)) query[key] = value;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: message.method ?? 'GET', path: url.pathname, query, headers, body, requestId: randomUUID() };
}

/** The demo page and its script, built by scripts/build.mjs beside the server bundle (dist/server/web/). */
export interface DemoAssets {
  readonly [path: string]: { readonly contentType: string; readonly body: Buffer };
}

/** Reads the built demo; undefined when it was not built (running from sources), and `GET /` is then the router's 404. */
export function loadDemoAssets(folder: URL): DemoAssets | undefined {
  try {
    return {
      '/': { contentType: 'text/html; charset=utf-8', body: readFileSync(new URL('index.html', folder)) },
      '/demo.js': { contentType: 'text/javascript; charset=utf-8', body: readFileSync(new URL('demo.js', folder)) },
    };
  } catch {
    return undefined;
  }
}

function serveDemo(message: IncomingMessage, reply: ServerResponse, demo: DemoAssets | undefined): boolean {
  if (!demo || (message.method !== 'GET' && message.method !== 'HEAD')) return false;
  const asset = demo[new URL(message.url ?? '/', 'http://localhost').pathname];
  if (!asset) return false;
  reply.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
  reply.end(message.method === 'HEAD' ? undefined : asset.body);
  return true;
}

/** The RequestLog's stages as a Server-Timing header (W3C Server Timing), which the demo shows. */
export function serverTiming(entry: RequestLog): string {
  const stages: [string, number | undefined][] = [
    ['fetch', entry.fetchMs], ['decode', entry.decodeMs], ['detect', entry.detectMs], ['landmarks', entry.landmarksMs],
    ['genderAge', entry.genderAgeMs], ['attributes', entry.attributesMs], ['total', entry.totalMs],
  ];
  return stages.flatMap(([name, ms]) => (ms === undefined ? [] : [`${name};dur=${ms}`])).join(', ');
}

/**
 * Wraps the router's logger so the server can answer each request with its own timings: the
 * router logs a request synchronously just before `handle` returns it, under the request's id.
 */
export function timingRecorder(log: RequestLogger): { log: RequestLogger; take(requestId: string): RequestLog | undefined } {
  const entries = new Map<string, RequestLog>();
  return {
    log: (entry) => { entries.set(entry.requestId, entry); log(entry); },
    take: (requestId) => { const entry = entries.get(requestId); entries.delete(requestId); return entry; },
  };
}

export interface LocalServerOptions {
  readonly demo?: DemoAssets;
  /** The router's log entry for a request id (see timingRecorder), sent back as Server-Timing. */
  readonly timings?: (requestId: string) => RequestLog | undefined;
}

export function createLocalServer(router: Router, maxImageBytes: number, options: LocalServerOptions = {}): Server {
  const { demo, timings } = options;
  const bodyLimit = maxRequestBodyBytes(maxImageBytes);
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (message, reply) => {
    if (serveDemo(message, reply, demo)) return;
    void (async () => {
      const body = await readBody(message, bodyLimit);
      const request = toHttpRequest(message, body);
      const response = await router.handle(request);
      const entry = timings?.(request.requestId);
      // A body over the cap: answer, then close the connection rather than reuse it.
      const close = body.length > bodyLimit;
      reply.writeHead(response.status, { ...response.headers, ...(entry ? { 'server-timing': serverTiming(entry) } : {}), ...(close ? { connection: 'close' } : {}) });
      reply.end(response.body);
    })().catch((error: unknown) => {
      // Only a broken socket gets here; the router itself never throws.
      if (!reply.headersSent) reply.writeHead(400, { 'content-type': 'application/json' });
      reply.end(JSON.stringify({ code: 'BAD_REQUEST', message: `the request could not be read: ${(error as Error).message}` }));
    });
  });
  return server;
}

/** What `npm start` prints: where the demo, the docs and every route are. */
export function startupBanner(url: string): string {
  const routes = FACEKIT_ROUTES.filter((route) => route.dialect !== 'service')
    .map((route) => `  ${route.method.padEnd(4)} ${url}${route.path}${route.whenQuery ? `?${route.whenQuery.name}=${route.whenQuery.values?.[0] ?? '…'}` : ''}  — ${route.summary}`);
  return [`facekit is listening on ${url}`, `  demo      ${url}/`, `  API docs  ${url}/docs`, `  health    ${url}/health`, ...routes, 'Ctrl-C stops it.'].join('\n');
}

/** How long a stop waits for requests in flight before closing their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Stops taking connections, lets requests in flight finish (up to DRAIN_TIMEOUT_MS), then stops
 * the inference workers. Idle keep-alive connections are closed at once: they would hold close() open.
 */
export async function shutDown(server: Server, runtime: Runtime): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
  await closed;
  clearTimeout(timer);
  await runtime.analyzer.close();
}

/** Binds the port; a port in use (or not allowed) is one clear line for the user, not a stack trace. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const reasons: Record<string, string> = {
        EADDRINUSE: `port ${port} on ${host} is already in use (another facekit, or another program); stop it or set PORT to a free port`,
        EACCES: `port ${port} on ${host} may not be used by this user; set PORT to a port above 1023`,
        EADDRNOTAVAIL: `${host} is not an address of this machine; set HOST (e.g. 127.0.0.1)`,
      };
      reject(new Error(reasons[error.code ?? ''] ?? `cannot listen on ${host}:${port}: ${error.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => { server.off('error', onError); resolve(); });
  });
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? DEFAULT_PORT);
  const host = process.env.HOST ?? '127.0.0.1';
  let config: FacekitConfig;
  let runtime: Runtime;
  try {
    config = loadConfig();
    // The models run in worker threads bundled beside this file (dist/server/inference-worker.mjs).
    const workers = { file: new URL('./inference-worker.mjs', import.meta.url), count: config.concurrency.inferenceWorkers };
    runtime = await createRuntime(config, { workers });
  } catch (error) {
    // A bad setting or a missing/corrupt model: one line naming it, no stack trace.
    console.error(`facekit: cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  const recorder = timingRecorder(requestObserver({ logger }));
  const router = createRouter(runtime, { log: recorder.log });
  const server = createLocalServer(router, config.image.maxBytes, { demo: loadDemoAssets(new URL('./web/', import.meta.url)), timings: recorder.take });
  try {
    await listen(server, port, host);
  } catch (error) {
    console.error(`facekit: cannot start: ${(error as Error).message}`);
    await runtime.analyzer.close();
    process.exit(1);
  }
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  console.log(startupBanner(url));
  logger.info('listening', { url, modelDir: config.modelDir });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C does not wait for the drain.
    if (stopping) process.exit(130);
    stopping = true;
    logger.info('stopping', { signal });
    shutDown(server, runtime).then(
      () => { logger.info('stopped'); process.exit(0); },
      (error: unknown) => { console.error(`facekit: stop failed: ${(error as Error).message}`); process.exit(1); },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
