/**
 * fetchUrlBytes without DNS and without leaving the machine: forbidden address forms are refused
 * before any request is made; everything that does connect goes to a local server on 127.0.0.1
 * (allowed only through allowLoopbackForTests).
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type FetchConfig } from '../../lambda/config.js';
import { FacekitError } from '../../lambda/errors.js';
import { fetchUrlBytes, forbiddenAddressReason, type HostResolver } from '../../lambda/image/fetch-url.js';
import { loadImage } from '../../lambda/image/load.js';
import { expectFacekitError } from '../helpers/facekit-error.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const evalDir = path.resolve(repoRoot, '../shared/eval/dev');
const IMAGE = readFileSync(path.join(evalDir, 'edge_cases/derived/maksssksksss288_tiny96.jpg'));
const FIELD = 'url';
const MAX_BYTES = 256 * 1024;
const ENDLESS_CHUNK_BYTES = 16 * 1024;

const strictConfig: FetchConfig = {
  connectTimeoutMs: 500,
  totalTimeoutMs: 2000,
  maxRedirects: 3,
  allowedBuckets: [],
  allowLoopbackForTests: false,
};
const loopbackConfig: FetchConfig = { ...strictConfig, allowLoopbackForTests: true };

/** A resolver that must not be reached (literal addresses need no DNS). */
const noDns: HostResolver = async (hostname) => {
  throw new Error(`unexpected DNS lookup of ${hostname}`);
};

const failure = expectFacekitError;

// ---------------------------------------------------------------------------------------------
// Local server

interface ServerState {
  hostHeaders: string[];
  endlessClosed: Promise<void>;
  requests: number;
}
let server: http.Server;
let origin: string;
let port: number;
let state: ServerState;
let markEndlessClosed: () => void;
const heldResponses: http.ServerResponse[] = [];

function resetState(): void {
  state = {
    hostHeaders: [],
    requests: 0,
    endlessClosed: new Promise<void>((resolve) => {
      markEndlessClosed = resolve;
    }),
  };
}

function handle(request: http.IncomingMessage, response: http.ServerResponse): void {
  state.requests++;
  state.hostHeaders.push(request.headers.host ?? '');
  const url = new URL(request.url ?? '/', 'http://local');
  const redirect = (location: string): void => {
    response.writeHead(302, { location });
    response.end();
  };
  const hops = /^\/redirect\/(\d+)$/.exec(url.pathname);
  if (hops) {
    const remaining = Number(hops[1]);
    redirect(remaining === 0 ? '/image.jpg' : `/redirect/${remaining - 1}`);
    return;
  }
  switch (url.pathname) {
    case '/image.jpg':
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': IMAGE.length });
      response.end(IMAGE);
      return;
    case '/image-chunked.jpg':
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      response.write(IMAGE.subarray(0, 100));
      setTimeout(() => response.end(IMAGE.subarray(100)), 20);
      return;
    case '/to-metadata':
      redirect('http://169.254.169.254/latest/meta-data/');
      return;
    case '/to-private':
      redirect('http://10.0.0.1/image.jpg');
      return;
    case '/to-decimal-loopback':
      redirect(`http://2130706433:${port}/image.jpg`);
      return;
    case '/to-file':
      redirect('file:///etc/passwd');
      return;
    case '/no-location':
      response.writeHead(302);
      response.end();
      return;
    case '/not-found':
      response.writeHead(404);
      response.end('not found');
      return;
    case '/server-error':
      response.writeHead(500);
      response.end();
      return;
    case '/hang':
      heldResponses.push(response); // never answers
      return;
    case '/slow-body':
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': IMAGE.length });
      response.write(IMAGE.subarray(0, 10));
      heldResponses.push(response);
      return;
    case '/declared-too-large':
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': MAX_BYTES + 1 });
      response.write(IMAGE);
      heldResponses.push(response);
      return;
    case '/endless': {
      response.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(ENDLESS_CHUNK_BYTES, 0xab);
      let open = true;
      response.on('close', () => {
        open = false;
        markEndlessClosed();
      });
      const pump = (): void => {
        if (!open) return;
        if (response.write(chunk)) setImmediate(pump);
        else response.once('drain', pump);
      };
      pump();
      return;
    }
    case '/reset':
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': IMAGE.length });
      response.write(IMAGE.subarray(0, 50));
      setTimeout(() => request.socket.destroy(), 20);
      return;
    default:
      response.writeHead(404);
      response.end();
  }
}

beforeAll(async () => {
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

beforeEach(() => resetState());

afterAll(async () => {
  for (const response of heldResponses) response.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// ---------------------------------------------------------------------------------------------

describe('forbidden addresses are refused before any request', () => {
  const LOOPBACK_FORMS = [
    'http://127.0.0.1/',
    'http://127.255.255.254/',
    'http://2130706433/', // decimal
    'http://0x7f000001/', // hex, one part
    'http://0x7f.1/', // hex, short form
    'http://0177.0.0.1/', // octal
    'http://017700000001/', // octal, one part
    'http://127.1/', // short form
    'http://127.0.1/',
    'http://127.0.0.1./', // trailing dot
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::ffff:127.0.0.1]/', // IPv4-mapped
    'http://[::ffff:7f00:1]/',
    'https://127.0.0.1/',
    'http://localhost/', // resolved by the injected resolver below
  ];
  const OTHER_FORBIDDEN_FORMS = [
    'http://10.0.0.1/',
    'http://10.255.255.255/',
    'http://172.16.0.1/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://0xc0.0xa8.1.1/', // hex private
    'http://3232235777/', // decimal 192.168.1.1
    'http://100.64.0.1/', // CGNAT
    'http://100.127.255.255/',
    'http://169.254.169.254/', // cloud metadata
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://2852039166/', // decimal 169.254.169.254
    'http://0xa9fea9fe/', // hex 169.254.169.254
    'http://0251.0376.0251.0376/', // octal 169.254.169.254
    'http://169.254.43518/', // short form 169.254.169.254
    'http://0.0.0.0/',
    'http://0/',
    'http://255.255.255.255/',
    'http://224.0.0.1/',
    'http://239.255.255.250/',
    'http://240.0.0.1/',
    'http://192.0.0.1/',
    'http://192.0.2.1/', // documentation
    'http://198.18.0.1/', // benchmarking
    'http://[::]/',
    'http://[fc00::1]/', // ULA
    'http://[fd00:ec2::254]/', // AWS IMDS over IPv6
    'http://[fe80::1]/', // link-local
    'http://[ff02::1]/', // multicast
    'http://[fec0::1]/', // site-local (deprecated)
    'http://[::ffff:10.0.0.1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[::127.0.0.1]/', // IPv4-compatible
    'http://[::10.0.0.1]/',
    'http://[64:ff9b::a9fe:a9fe]/', // NAT64 of the metadata address
    'http://[64:ff9b:1::1]/', // local-use NAT64
    'http://[2002:a9fe:a9fe::]/', // 6to4
    'http://[2001:0:4136:e378::1]/', // Teredo
    'http://[2001:db8::1]/', // documentation
    'http://[100::1]/', // discard
  ];
  const localhostResolver: HostResolver = async (hostname) => {
    if (hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];
    throw new Error(`unexpected DNS lookup of ${hostname}`);
  };

  let httpRequest: ReturnType<typeof jest.spyOn>;
  let httpsRequest: ReturnType<typeof jest.spyOn>;
  beforeEach(() => {
    httpRequest = jest.spyOn(http, 'request');
    httpsRequest = jest.spyOn(https, 'request');
  });
  afterEach(() => {
    expect(httpRequest).not.toHaveBeenCalled();
    expect(httpsRequest).not.toHaveBeenCalled();
    httpRequest.mockRestore();
    httpsRequest.mockRestore();
  });

  it.each([...LOOPBACK_FORMS, ...OTHER_FORBIDDEN_FORMS])('%s → URL_FORBIDDEN', async (url) => {
    const error = await failure(fetchUrlBytes(url, strictConfig, MAX_BYTES, FIELD, { resolveHost: localhostResolver }));
    expect(error.code).toBe('URL_FORBIDDEN');
    expect(error.message.startsWith(`${FIELD}: `)).toBe(true);
    expect(error.field).toBe(FIELD);
  });

  it.each(OTHER_FORBIDDEN_FORMS)('%s stays forbidden with allowLoopbackForTests', async (url) => {
    const error = await failure(fetchUrlBytes(url, loopbackConfig, MAX_BYTES, FIELD, { resolveHost: noDns }));
    expect(error.code).toBe('URL_FORBIDDEN');
  });

  it('a host name is refused when any of its addresses is forbidden', async () => {
    const mixed: HostResolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    const error = await failure(fetchUrlBytes('http://images.example/x.jpg', strictConfig, MAX_BYTES, FIELD, { resolveHost: mixed }));
    expect(error.code).toBe('URL_FORBIDDEN');
    expect(error.message).toContain('10.1.2.3');
  });

  it('a host name resolving to the metadata address (IPv4-mapped IPv6) is refused', async () => {
    const rebinding: HostResolver = async () => [{ address: '::ffff:169.254.169.254', family: 6 }];
    const error = await failure(fetchUrlBytes('http://metadata.example/', strictConfig, MAX_BYTES, FIELD, { resolveHost: rebinding }));
    expect(error.code).toBe('URL_FORBIDDEN');
  });

  it.each([
    ['ftp://example.com/a.jpg'],
    ['file:///etc/passwd'],
    ['gopher://example.com/'],
    ['not a url'],
    ['http://'],
    ['http://user:secret@example.com/a.jpg'],
  ])('%s → INVALID_URL', async (url) => {
    const error = await failure(fetchUrlBytes(url, strictConfig, MAX_BYTES, FIELD, { resolveHost: noDns }));
    expect(error.code).toBe('INVALID_URL');
  });
});

describe('address policy', () => {
  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(forbiddenAddressReason(address, false)).toBeUndefined();
    },
  );

  it('allowLoopbackForTests admits exactly loopback', () => {
    expect(forbiddenAddressReason('127.0.0.1', true)).toBeUndefined();
    expect(forbiddenAddressReason('127.9.9.9', true)).toBeUndefined();
    expect(forbiddenAddressReason('::1', true)).toBeUndefined();
    expect(forbiddenAddressReason('127.0.0.1', false)).toMatch(/loopback/);
    expect(forbiddenAddressReason('::1', false)).toMatch(/loopback/);
    expect(forbiddenAddressReason('0.0.0.0', true)).toBeDefined();
    expect(forbiddenAddressReason('::', true)).toBeDefined();
    expect(forbiddenAddressReason('10.0.0.1', true)).toBeDefined();
    expect(forbiddenAddressReason('::127.0.0.1', true)).toBeDefined();
  });
});

describe('downloads from the local test server (127.0.0.1 only)', () => {
  it('serves an image', async () => {
    const bytes = await fetchUrlBytes(`${origin}/image.jpg`, loopbackConfig, MAX_BYTES, FIELD, { resolveHost: noDns });
    expect(bytes.equals(IMAGE)).toBe(true);
  });

  it('assembles a chunked body', async () => {
    const bytes = await fetchUrlBytes(`${origin}/image-chunked.jpg`, loopbackConfig, MAX_BYTES, FIELD);
    expect(bytes.equals(IMAGE)).toBe(true);
  });

  it('the same local server is refused without allowLoopbackForTests', async () => {
    const error = await failure(fetchUrlBytes(`${origin}/image.jpg`, strictConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_FORBIDDEN');
    expect(state.requests).toBe(0);
  });

  it('connects to the pre-resolved address, resolves once, and keeps the host name in the Host header', async () => {
    const lookups: string[] = [];
    const resolver: HostResolver = async (hostname) => {
      lookups.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const bytes = await fetchUrlBytes(`http://images.facekit.test:${port}/image.jpg`, loopbackConfig, MAX_BYTES, FIELD, {
      resolveHost: resolver,
    });
    expect(bytes.equals(IMAGE)).toBe(true);
    expect(lookups).toEqual(['images.facekit.test']);
    expect(state.hostHeaders).toEqual([`images.facekit.test:${port}`]);
  });

  it('follows redirects up to the limit', async () => {
    // /redirect/2 → /redirect/1 → /redirect/0 → /image.jpg: 3 redirects
    const bytes = await fetchUrlBytes(`${origin}/redirect/2`, loopbackConfig, MAX_BYTES, FIELD);
    expect(bytes.equals(IMAGE)).toBe(true);
    expect(state.requests).toBe(4);
  });

  it('refuses one redirect beyond the limit', async () => {
    const error = await failure(fetchUrlBytes(`${origin}/redirect/3`, loopbackConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_HTTP_ERROR');
    expect(error.message).toContain(`${loopbackConfig.maxRedirects} redirects`);
    expect(state.requests).toBe(loopbackConfig.maxRedirects + 1);
  });

  it.each([
    ['/to-metadata', 'URL_FORBIDDEN'],
    ['/to-private', 'URL_FORBIDDEN'],
    ['/to-file', 'URL_FORBIDDEN'],
    ['/no-location', 'URL_HTTP_ERROR'],
  ])('redirect %s → %s (target never contacted)', async (route, code) => {
    const httpRequest = jest.spyOn(http, 'request');
    try {
      const error = await failure(fetchUrlBytes(`${origin}${route}`, loopbackConfig, MAX_BYTES, FIELD, { resolveHost: noDns }));
      expect(error.code).toBe(code);
      expect(httpRequest).toHaveBeenCalledTimes(1); // only the local server
    } finally {
      httpRequest.mockRestore();
    }
  });

  it('a redirect to a decimal-written loopback address is re-checked (forbidden without the test flag)', async () => {
    const bytes = await fetchUrlBytes(`${origin}/to-decimal-loopback`, loopbackConfig, MAX_BYTES, FIELD);
    expect(bytes.equals(IMAGE)).toBe(true);
    expect(state.requests).toBe(2);
  });

  it.each([
    ['/not-found', '404'],
    ['/server-error', '500'],
  ])('%s → URL_HTTP_ERROR', async (route, status) => {
    const error = await failure(fetchUrlBytes(`${origin}${route}`, loopbackConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_HTTP_ERROR');
    expect(error.message).toContain(status);
  });

  it('a server that never answers → URL_TIMEOUT after the total timeout', async () => {
    const config = { ...loopbackConfig, totalTimeoutMs: 300 };
    const started = performance.now();
    const error = await failure(fetchUrlBytes(`${origin}/hang`, config, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_TIMEOUT');
    expect(error.status).toBe(408);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a body that stalls → URL_TIMEOUT', async () => {
    const config = { ...loopbackConfig, totalTimeoutMs: 300 };
    const error = await failure(fetchUrlBytes(`${origin}/slow-body`, config, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_TIMEOUT');
  });

  it('an endless body is cut at the cap: IMAGE_TOO_LARGE and the server sees the socket closed', async () => {
    const error = await failure(fetchUrlBytes(`${origin}/endless`, loopbackConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toContain(String(MAX_BYTES));
    await state.endlessClosed; // resolves only when the server's response socket closed
  });

  it('a declared Content-Length over the cap is refused before reading the body', async () => {
    const error = await failure(fetchUrlBytes(`${origin}/declared-too-large`, loopbackConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toContain(String(MAX_BYTES + 1));
  });

  it('a connection reset mid-body → URL_UNREACHABLE', async () => {
    const error = await failure(fetchUrlBytes(`${origin}/reset`, loopbackConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_UNREACHABLE');
  });

  it('a refused port → URL_UNREACHABLE', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(fetchUrlBytes(`http://127.0.0.1:${closedPort}/`, loopbackConfig, MAX_BYTES, FIELD));
    expect(error.code).toBe('URL_UNREACHABLE');
    expect(error.message).toContain('connection refused');
  });

  it('a DNS lookup that never answers → URL_TIMEOUT (the total timeout covers resolution)', async () => {
    const never: HostResolver = () => new Promise(() => undefined);
    const config = { ...loopbackConfig, totalTimeoutMs: 200 };
    const error = await failure(fetchUrlBytes('http://slow-dns.facekit.test/', config, MAX_BYTES, FIELD, { resolveHost: never }));
    expect(error.code).toBe('URL_TIMEOUT');
  });

  it('a DNS failure → URL_UNREACHABLE', async () => {
    const failing: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const error = await failure(fetchUrlBytes('http://no-such-host.facekit.test/', loopbackConfig, MAX_BYTES, FIELD, { resolveHost: failing }));
    expect(error.code).toBe('URL_UNREACHABLE');
  });
});

describe('loadImage over http', () => {
  it('downloads and decodes, reporting format, size and timings', async () => {
    const limits = loadConfig({}).image;
    const loaded = await loadImage({ kind: 'url', url: `${origin}/image.jpg`, field: 'url' }, limits, loopbackConfig);
    expect(loaded.format).toBe('jpeg');
    expect(loaded.bytes).toBe(IMAGE.length);
    expect([loaded.image.width, loaded.image.height]).toEqual([96, 54]);
    expect(loaded.fetchMs).toBeGreaterThanOrEqual(0);
    expect(loaded.decodeMs).toBeGreaterThanOrEqual(0);
  });

  it('enforces maxBytes on downloads', async () => {
    const limits = { ...loadConfig({}).image, maxBytes: 1000 };
    const error = await failure(loadImage({ kind: 'url', url: `${origin}/image.jpg`, field: 'url' }, limits, loopbackConfig));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
  });

  it.each(['ftp://example.com/a.jpg', 'javascript:alert(1)', 'data:image/png;base64,AAAA', '/relative/path.jpg', ''])(
    'refuses %j with INVALID_URL',
    async (url) => {
      const error = await failure(loadImage({ kind: 'url', url, field: 'url' }, loadConfig({}).image, strictConfig));
      expect(error.code).toBe('INVALID_URL');
    },
  );
});
