/**
 * SSRF-safe HTTP(S) download of an image.
 *
 * - Only http: and https: URLs without credentials.
 * - The host is resolved once (all addresses); if any address is not public unicast the URL is
 *   refused before connecting. The connection then goes to exactly those checked addresses (a
 *   pinned `lookup`), while Host header and TLS SNI keep the original name: no DNS-rebinding window.
 * - Every redirect target is checked the same way; at most `maxRedirects` are followed.
 * - Connect and total timeouts; the byte cap is enforced from Content-Length and while streaming.
 * Error messages name the host, never the path or query (they may carry tokens).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { FetchConfig } from '../config.js';
import { FacekitError } from '../errors.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (default: the OS resolver via dns.lookup). */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface FetchDependencies {
  /** Replaces DNS (tests). */
  readonly resolveHost?: HostResolver;
}

const ALLOWED_PROTOCOLS = new Set(['http:', 'https:']);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const SUCCESS_STATUS_MIN = 200;
const SUCCESS_STATUS_MAX = 299;
const USER_AGENT = 'facekit-image-fetcher';
/** Global unicast IPv6 (RFC 4291): 2000::/3. Everything outside it is special or unallocated. */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
/** Network errors that mean "the host cannot be reached" (everything else is reported the same way). */
const NETWORK_ERROR_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'connection closed',
};

export const defaultResolveHost: HostResolver = async (hostname) => {
  const results = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return results.map((result) => ({ address: result.address, family: result.family === 6 ? 6 : 4 }));
};

// ---------------------------------------------------------------------------------------------
// Address policy (pure)

/**
 * The address in canonical form, or undefined if it is not one. IPv6 goes through the WHATWG
 * serialiser first: ipaddr.js reads a dotted tail such as `::127.0.0.1` as IPv4-mapped
 * (::ffff:127.0.0.1), whereas the OS and the URL parser read it as IPv4-compatible (::7f00:1).
 */
function canonicalAddress(address: string): string | undefined {
  let text = address;
  if (text.includes(':')) {
    try {
      text = urlHost(new URL(`http://[${text}]/`));
    } catch {
      return undefined;
    }
  }
  return ipaddr.isValid(text) ? ipaddr.parse(text).toString() : undefined;
}

function isLoopback(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return address.range() === 'loopback';
}

/**
 * Why an address must not be contacted, or undefined when it is public unicast.
 * Allow-list: IPv4 must be in ipaddr.js's 'unicast' range (not private, loopback, link-local,
 * CGNAT, multicast, broadcast, reserved, documentation, benchmarking...); IPv6 must be 'unicast'
 * inside 2000::/3 (so no ULA, link-local, NAT64, 6to4, Teredo...). IPv4-mapped and
 * IPv4-compatible IPv6 addresses are judged by their embedded IPv4 address (compatible ones are
 * deprecated and refused anyway). `allowLoopback` (tests only) admits 127.0.0.0/8 and ::1.
 */
export function forbiddenAddressReason(address: string, allowLoopback: boolean): string | undefined {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return 'invalid';
  const parsed = ipaddr.parse(canonical);
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    if (range === 'unicast') return undefined;
    if (allowLoopback && range === 'loopback') return undefined;
    return `${range} IPv4`;
  }
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) {
    const reason = forbiddenAddressReason(v6.toIPv4Address().toString(), allowLoopback);
    return reason === undefined ? undefined : `IPv4-mapped ${reason}`;
  }
  if (allowLoopback && isLoopback(v6)) return undefined;
  const range = v6.range();
  if (range !== 'unicast') return `${range} IPv6`;
  const firstHextets = v6.parts.slice(0, 6);
  if (firstHextets.every((part) => part === 0)) {
    const embedded = ipaddr.fromByteArray(v6.toByteArray().slice(12)).toString();
    return `IPv4-compatible (${embedded}) IPv6`;
  }
  if (!v6.match(IPV6_GLOBAL_UNICAST)) return 'non-global IPv6';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// URL checks (pure)

/** Host name or address of a URL, without IPv6 brackets. */
export function urlHost(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Parses and checks scheme, host and credentials. */
export function parseHttpUrl(text: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch (error) {
    throw new FacekitError('INVALID_URL', `${field}: not a valid URL`, { cause: error, field });
  }
  checkHttpUrl(url, field, 'INVALID_URL');
  return url;
}

function checkHttpUrl(url: URL, field: string, schemeErrorCode: 'INVALID_URL' | 'URL_FORBIDDEN'): void {
  if (!ALLOWED_PROTOCOLS.has(url.protocol)) {
    throw new FacekitError(
      schemeErrorCode,
      `${field}: only http and https URLs can be fetched (got ${url.protocol})`,
      { field },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new FacekitError('INVALID_URL', `${field}: URLs with credentials are not accepted`, { field });
  }
  if (urlHost(url) === '') throw new FacekitError('INVALID_URL', `${field}: the URL has no host`, { field });
}

// ---------------------------------------------------------------------------------------------
// Download

interface FetchContext {
  readonly field: string;
  readonly config: FetchConfig;
  readonly maxBytes: number;
  /** Epoch ms by which the whole download (DNS, redirects, body) must be done. */
  readonly deadline: number;
  readonly resolveHost: HostResolver;
}

type HopResult =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'body'; readonly bytes: Buffer };

function timeoutError(ctx: FetchContext, host: string, what: string): FacekitError {
  const limit = what === 'connect' ? ctx.config.connectTimeoutMs : ctx.config.totalTimeoutMs;
  return new FacekitError(
    'URL_TIMEOUT',
    `${ctx.field}: ${host} did not ${what} within ${limit} ms`,
    { field: ctx.field },
  );
}

function tooLargeError(ctx: FetchContext, host: string, size?: number): FacekitError {
  const sizeText = size === undefined ? 'more than' : `${size} bytes,`;
  return new FacekitError(
    'IMAGE_TOO_LARGE',
    `${ctx.field}: the image at ${host} is ${sizeText} over the limit of ${ctx.maxBytes} bytes`,
    { field: ctx.field },
  );
}

function networkError(ctx: FetchContext, host: string, error: unknown): FacekitError {
  if (error instanceof FacekitError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const description = NETWORK_ERROR_DESCRIPTIONS[code] ?? (code ? `connection failed (${code})` : 'connection failed');
  return new FacekitError(
    'URL_UNREACHABLE',
    `${ctx.field}: could not download from ${host}: ${description}`,
    { cause: error, field: ctx.field },
  );
}

function remainingMs(ctx: FetchContext): number {
  return ctx.deadline - Date.now();
}

/** Resolves the URL's host (or takes its literal address) and refuses any forbidden address. */
async function resolveCheckedAddresses(url: URL, ctx: FetchContext): Promise<readonly ResolvedAddress[]> {
  const host = urlHost(url);
  const allowLoopback = ctx.config.allowLoopbackForTests;
  const refuse = (address: string, reason: string): FacekitError =>
    new FacekitError(
      'URL_FORBIDDEN',
      `${ctx.field}: ${host === address ? host : `${host} (${address})`} is a ${reason} address; ` +
        'only public addresses can be fetched',
      { field: ctx.field },
    );

  const literal = canonicalAddress(host);
  if (literal !== undefined) {
    const reason = forbiddenAddressReason(literal, allowLoopback);
    if (reason !== undefined) throw refuse(host, reason);
    return [{ address: literal, family: literal.includes(':') ? 6 : 4 }];
  }

  let resolved: readonly ResolvedAddress[];
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(ctx, host, 'resolve')), Math.max(0, remainingMs(ctx)));
    });
    resolved = await Promise.race([ctx.resolveHost(host), timeout]);
  } catch (error) {
    if (error instanceof FacekitError) throw error;
    throw new FacekitError(
      'URL_UNREACHABLE',
      `${ctx.field}: could not resolve host ${host}`,
      { cause: error, field: ctx.field },
    );
  } finally {
    clearTimeout(timer);
  }
  if (resolved.length === 0) {
    throw new FacekitError('URL_UNREACHABLE', `${ctx.field}: host ${host} has no address`, { field: ctx.field });
  }
  const checked: ResolvedAddress[] = [];
  for (const { address } of resolved) {
    const reason = forbiddenAddressReason(address, allowLoopback);
    if (reason !== undefined) throw refuse(address, reason);
    const canonical = canonicalAddress(address) as string; // valid: the check above passed
    checked.push({ address: canonical, family: canonical.includes(':') ? 6 : 4 });
  }
  return checked;
}

/** A `lookup` for http(s).request that only ever answers with the pre-checked addresses. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) {
      callback(null, addresses.map(({ address, family }) => ({ address, family })));
    } else {
      callback(null, addresses[0].address, addresses[0].family);
    }
  };
}

/** One request: either a redirect location or the whole (capped) body. */
function requestOnce(url: URL, addresses: readonly ResolvedAddress[], ctx: FetchContext): Promise<HopResult> {
  const host = urlHost(url);
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise<HopResult>((resolve, reject) => {
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const totalTimer = setTimeout(() => fail(timeoutError(ctx, host, 'respond')), Math.max(0, remainingMs(ctx)));

    const request = transport.request({
      protocol: url.protocol,
      hostname: host, // Host header and SNI keep the name; the pinned lookup decides the address
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      agent: false, // fresh connection per request: no pooled socket to a previous address
      lookup: pinnedLookup(addresses),
      headers: { accept: 'image/*', 'accept-encoding': 'identity', 'user-agent': USER_AGENT },
    });

    function finish(): boolean {
      if (settled) return false;
      settled = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      return true;
    }
    function fail(error: FacekitError): void {
      if (!finish()) return;
      request.destroy(); // closes the socket: nothing more is read
      reject(error);
    }
    function succeed(result: HopResult): void {
      if (finish()) resolve(result);
    }

    request.on('socket', (socket) => {
      connectTimer = setTimeout(() => fail(timeoutError(ctx, host, 'connect')), ctx.config.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (error) => fail(networkError(ctx, host, error)));

    request.on('response', (response) => {
      // Listen first: every early exit below destroys the request, which may fail the response.
      response.on('error', (error) => fail(networkError(ctx, host, error)));
      const status = response.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status)) {
        const location = response.headers.location;
        if (!location) {
          const message = `${ctx.field}: ${host} answered HTTP ${status} without a Location`;
          fail(new FacekitError('URL_HTTP_ERROR', message, { field: ctx.field }));
          return;
        }
        if (finish()) {
          request.destroy(); // the redirect body is not needed
          resolve({ kind: 'redirect', location });
        }
        return;
      }
      if (status < SUCCESS_STATUS_MIN || status > SUCCESS_STATUS_MAX) {
        fail(new FacekitError('URL_HTTP_ERROR', `${ctx.field}: ${host} answered HTTP ${status}`, { field: ctx.field }));
        return;
      }
      const declaredLength = Number(response.headers['content-length']);
      if (Number.isFinite(declaredLength) && declaredLength > ctx.maxBytes) {
        fail(tooLargeError(ctx, host, declaredLength));
        return;
      }

      const chunks: Buffer[] = [];
      let receivedBytes = 0;
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        receivedBytes += chunk.length;
        if (receivedBytes > ctx.maxBytes) {
          fail(tooLargeError(ctx, host));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (response.complete) succeed({ kind: 'body', bytes: Buffer.concat(chunks, receivedBytes) });
        else fail(networkError(ctx, host, Object.assign(new Error('incomplete body'), { code: 'ECONNRESET' })));
      });
      response.on('close', () => {
        if (!response.complete) {
          fail(networkError(ctx, host, Object.assign(new Error('incomplete body'), { code: 'ECONNRESET' })));
        }
      });
    });

    request.end();
  });
}

/**
 * Downloads `url` (http/https) into memory, following at most `config.maxRedirects` redirects.
 * Errors: INVALID_URL, URL_FORBIDDEN, URL_UNREACHABLE, URL_HTTP_ERROR, URL_TIMEOUT, IMAGE_TOO_LARGE.
 */
export async function fetchUrlBytes(
  url: string,
  config: FetchConfig,
  maxBytes: number,
  field: string,
  dependencies: FetchDependencies = {},
): Promise<Buffer> {
  const ctx: FetchContext = {
    field,
    config,
    maxBytes,
    deadline: Date.now() + config.totalTimeoutMs,
    resolveHost: dependencies.resolveHost ?? defaultResolveHost,
  };
  let current = parseHttpUrl(url, field);
  for (let redirects = 0; ; redirects++) {
    const addresses = await resolveCheckedAddresses(current, ctx);
    const result = await requestOnce(current, addresses, ctx);
    if (result.kind === 'body') return result.bytes;

    if (redirects >= config.maxRedirects) {
      throw new FacekitError('URL_HTTP_ERROR', `${field}: more than ${config.maxRedirects} redirects`, { field });
    }
    let next: URL;
    try {
      next = new URL(result.location, current);
    } catch (error) {
      throw new FacekitError(
        'INVALID_URL',
        `${field}: ${urlHost(current)} redirected to an invalid URL`,
        { cause: error, field },
      );
    }
    checkHttpUrl(next, field, 'URL_FORBIDDEN');
    current = next;
  }
}
