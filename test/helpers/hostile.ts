/**
 * Helpers for the hostile-input, fault and load tests: HTTP calls that keep everything a test needs
 * to judge a response (status, body, request id, round-trip time), small loopback HTTP servers that
 * count their connections, and a counting (and fault-injecting) proxy in front of s3rver.
 * Everything listens on 127.0.0.1 only.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly json: any;
  /** The router's x-request-id header (the id in its log line). */
  readonly requestId: string;
  readonly ms: number;
}

/** Any sign of a stack trace or of source paths in a response body. */
export const STACK_TRACE_PATTERN = /\n\s+at |node_modules|\.[cm]?[jt]s:\d+|\bat [A-Za-z.]+ \(/;

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(url, init);
  const text = await response.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    json,
    requestId: response.headers.get('x-request-id') ?? '',
    ms,
  };
}

export const postJsonTo = (url: string, body: unknown): Promise<Reply> =>
  call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export function multipart(fields: Record<string, string>, files: Record<string, Buffer> = {}): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  for (const [name, bytes] of Object.entries(files)) data.append(name, new Blob([bytes], { type: 'application/octet-stream' }), `${name}.bin`);
  return data;
}

export const urlEncoded = (fields: Record<string, string>): URLSearchParams => new URLSearchParams(fields);

export interface TestHttpServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Request lines (`METHOD /path`) received so far. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (and optionally ::1 on the same port) that counts what reaches it. */
export async function startTestServer(handler: http.RequestListener, options: { alsoIpv6?: boolean } = {}): Promise<TestHttpServer> {
  let connectionCount = 0;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const make = (): http.Server => {
    const server = http.createServer((request, reply) => {
      requests.push(`${request.method} ${request.url}`);
      handler(request, reply);
    });
    server.on('connection', (socket) => {
      connectionCount++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  };
  const v4 = make();
  await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve));
  const port = (v4.address() as AddressInfo).port;
  const servers = [v4];
  if (options.alsoIpv6) {
    const v6 = make();
    // ::1 may be missing in some containers; the IPv6 forms are then refused (or unreachable) anyway.
    await new Promise<void>((resolve) => {
      v6.once('error', () => resolve());
      v6.listen(port, '::1', () => { servers.push(v6); resolve(); });
    });
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections: () => connectionCount,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}

export type ProxyFault =
  /** Forward normally. */
  | 'none'
  /** Accept the connection and close it at once (S3 "down" without a stopped process). */
  | 'refuse'
  /** Send the response headers and part of the body, then destroy the connection. */
  | 'drop-mid-body'
  /** Send the response headers and part of the body, then send nothing more. */
  | 'stall-mid-body';

export interface S3Proxy {
  readonly endpoint: string;
  /** Request lines (`GET /bucket/key`) that reached the proxy, in order. */
  readonly requests: string[];
  /** Fault to inject for requests whose path contains `match` (all requests when match is ''). */
  setFault(fault: ProxyFault, match?: string): void;
  close(): Promise<void>;
}

/**
 * A forwarding proxy in front of s3rver. Headers are forwarded verbatim (Host included), so the
 * SigV4 signature the client computed for the proxy's address still verifies at s3rver.
 */
export async function startS3Proxy(target: string): Promise<S3Proxy> {
  const targetUrl = new URL(target);
  const requests: string[] = [];
  let fault: ProxyFault = 'none';
  let match = '';
  const sockets = new Set<Socket>();
  const server = http.createServer((request, reply) => {
    requests.push(`${request.method} ${request.url}`);
    const active = (request.url ?? '').includes(match) ? fault : 'none';
    if (active === 'refuse') {
      request.socket.destroy();
      return;
    }
    const upstream = http.request(
      { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers },
      (response) => {
        reply.writeHead(response.statusCode ?? 502, response.headers);
        if (active === 'none' || request.method !== 'GET' || (response.statusCode ?? 0) >= 300) {
          response.pipe(reply);
          return;
        }
        // Fault: forward the first chunk only, then drop or stall.
        response.once('data', (chunk: Buffer) => {
          reply.write(chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2))));
          response.destroy();
          if (active === 'drop-mid-body') setTimeout(() => request.socket.destroy(), 50);
        });
      },
    );
    upstream.on('error', () => request.socket.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setFault: (next, pathPart = '') => { fault = next; match = pathPart; },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The server's JSON log lines (Powertools Logger, `message: "request"`), by request id. */
export function requestLogLines(output: string): Map<string, any[]> {
  const byId = new Map<string, any[]>();
  for (const line of output.split('\n')) {
    if (!line.includes('"message":"request"')) continue;
    let entry: any;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const list = byId.get(entry.requestId) ?? [];
    list.push(entry);
    byId.set(entry.requestId, list);
  }
  return byId;
}

/** VmRSS and VmHWM of a process in MiB, from /proc (Linux). */
export function processMemoryMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) / 1024;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}
