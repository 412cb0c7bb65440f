/**
 * `npm start`: the local API on node:http, over the same router as the Lambda handler. It only
 * translates HTTP; it adds no behaviour the Lambda lacks (the body cap is the router's own rule,
 * the server merely stops reading one byte past it).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { HttpRequest } from './api/http.js';
import { loadConfig, type FacekitConfig } from './config.js';
import { createRouter, maxRequestBodyBytes, type Router } from './router.js';
import { createRuntime } from './runtime.js';

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

export function createLocalServer(router: Router, maxImageBytes: number): Server {
  const bodyLimit = maxRequestBodyBytes(maxImageBytes);
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (message, reply) => {
    void (async () => {
      const body = await readBody(message, bodyLimit);
      const response = await router.handle(toHttpRequest(message, body));
      // A body over the cap: answer, then close the connection rather than reuse it.
      const close = body.length > bodyLimit;
      reply.writeHead(response.status, { ...response.headers, ...(close ? { connection: 'close' } : {}) });
      reply.end(response.body);
    })().catch((error: unknown) => {
      // Only a broken socket gets here; the router itself never throws.
      if (!reply.headersSent) reply.writeHead(400, { 'content-type': 'application/json' });
      reply.end(JSON.stringify({ code: 'BAD_REQUEST', message: `the request could not be read: ${(error as Error).message}` }));
    });
  });
  return server;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? DEFAULT_PORT);
  const host = process.env.HOST ?? '127.0.0.1';
  let config: FacekitConfig;
  let router: Router;
  try {
    config = loadConfig();
    // The models run in worker threads bundled beside this file (dist/server/inference-worker.mjs).
    const workers = { file: new URL('./inference-worker.mjs', import.meta.url), count: config.concurrency.inferenceWorkers };
    router = createRouter(await createRuntime(config, { workers }));
  } catch (error) {
    // A bad setting or a missing/corrupt model: one line naming it, no stack trace.
    console.error(`facekit: cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  const server = createLocalServer(router, config.image.maxBytes);
  server.listen(port, host, () => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    console.log(JSON.stringify({ level: 'info', msg: 'listening', url: `http://${host}:${actualPort}`, modelDir: config.modelDir }));
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    // Idle keep-alive sockets would hold close() open.
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
