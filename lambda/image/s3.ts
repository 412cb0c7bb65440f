/**
 * `s3://bucket/key` → bytes. The bucket must be one the deployment was given (FetchConfig
 * allowedBuckets, or `*` for local use); that is checked before any network call. One S3Client
 * per process, created lazily; FetchConfig.s3Endpoint points it at an S3-compatible server
 * (path-style, checksums only when required) for local tests.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { FetchConfig } from '../config.js';
import { FacekitError } from '../errors.js';

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface S3Dependencies {
  /** Client to use instead of the process-wide one (tests). */
  readonly client?: S3Client;
}

export interface S3ClientOptions {
  /** S3-compatible endpoint (path-style); unset for AWS S3. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: S3ClientConfig['credentials'];
  readonly connectTimeoutMs?: number;
}

const S3_SCHEME = 's3://';
const ANY_BUCKET = '*';
const DEFAULT_REGION = 'us-east-1';
/** S3 bucket naming rules: 3–63 lower-case letters, digits, dots, hyphens; starts and ends alphanumeric. */
const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HTTP_FORBIDDEN = 403;
const HTTP_NOT_FOUND = 404;
/** S3's own limit on key length, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
// Control characters are valid in S3 keys but never in an image's name, and confuse logs and proxies.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER_PATTERN = /[\u0000-\u001f\u007f]/;
const HTTP_CLIENT_ERROR_MIN = 400;
const HTTP_SERVER_ERROR_MIN = 500;
const NOT_FOUND_ERROR_NAMES = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);
const ACCESS_DENIED_ERROR_NAMES = new Set(['AccessDenied', 'Forbidden', 'AllAccessDisabled']);

/** Parses `s3://bucket/key`; the key is percent-decoded. Pure. */
export function parseS3Url(url: string, field: string): S3Location {
  const text = url.trim();
  if (!text.toLowerCase().startsWith(S3_SCHEME)) {
    throw new FacekitError('INVALID_URL', `${field}: expected s3://bucket/key`, { field });
  }
  const rest = text.slice(S3_SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  // `?versionId=` selects an object version (Rekognition's S3Object.Version); a literal `?` in a key is percent-encoded.
  const [encodedKey = '', versionQuery] = (slash === -1 ? '' : rest.slice(slash + 1)).split('?', 2);
  const versionId = versionQuery === undefined ? undefined : new URLSearchParams(versionQuery).get('versionId') ?? undefined;
  if (!BUCKET_NAME_PATTERN.test(bucket)) {
    throw new FacekitError('INVALID_URL', `${field}: "${bucket}" is not a valid S3 bucket name`, { field });
  }
  if (encodedKey === '') throw new FacekitError('INVALID_URL', `${field}: the s3 URL has no object key`, { field });
  let key: string;
  try {
    key = decodeURIComponent(encodedKey);
  } catch (error) {
    throw new FacekitError(
      'INVALID_URL',
      `${field}: the S3 object key has invalid percent-encoding`,
      { cause: error, field },
    );
  }
  checkKey(key, field);
  return versionId ? { bucket, key, versionId } : { bucket, key };
}

/**
 * Refuses keys that are not plain object names: `.`/`..`/empty path segments would let a
 * path-style endpoint (S3-compatible servers) resolve the request into another bucket, past the
 * allow-list; over-long keys and control characters are bad input, not an S3 outage.
 */
export function checkKey(key: string, field: string): void {
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new FacekitError('INVALID_URL', `${field}: the S3 object key may not contain "." or ".." path segments`, { field });
  }
  if (key.startsWith('/') || key.includes('//')) {
    throw new FacekitError('INVALID_URL', `${field}: the S3 object key may not contain empty path segments`, { field });
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new FacekitError('INVALID_URL', `${field}: the S3 object key is longer than ${MAX_KEY_BYTES} bytes`, { field });
  }
  if (CONTROL_CHARACTER_PATTERN.test(key)) {
    throw new FacekitError('INVALID_URL', `${field}: the S3 object key contains control characters`, { field });
  }
}

/** Throws S3_BUCKET_NOT_ALLOWED unless the bucket is listed (or `*` is). Pure. */
export function checkBucketAllowed(bucket: string, allowedBuckets: readonly string[], field: string): void {
  if (allowedBuckets.includes(ANY_BUCKET) || allowedBuckets.includes(bucket)) return;
  throw new FacekitError(
    'S3_BUCKET_NOT_ALLOWED',
    `${field}: bucket "${bucket}" is not one this deployment may read`,
    { field },
  );
}

export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const { endpoint } = options;
  const config: S3ClientConfig = {
    region: options.region ?? process.env.AWS_REGION ?? DEFAULT_REGION,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.connectTimeoutMs ? { requestHandler: { connectionTimeout: options.connectTimeoutMs } } : {}),
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
  };
  return new S3Client(config);
}

let processClient: S3Client | undefined;

/** The process-wide client, created on first use (endpoint and connect timeout from the first caller's config). */
export function getS3Client(config?: Pick<FetchConfig, 'connectTimeoutMs' | 's3Endpoint'>): S3Client {
  processClient ??= createS3Client({ connectTimeoutMs: config?.connectTimeoutMs, endpoint: config?.s3Endpoint });
  return processClient;
}

function s3Error(error: unknown, location: S3Location, field: string, config: FetchConfig, abortSignal: AbortSignal): FacekitError {
  if (error instanceof FacekitError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? '';
  const code = (error as { code?: string } | undefined)?.code;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const object = `s3://${location.bucket}/${location.key}`;
  if (NOT_FOUND_ERROR_NAMES.has(name) || status === HTTP_NOT_FOUND) {
    return new FacekitError('S3_OBJECT_NOT_FOUND', `${field}: ${object} does not exist`, { cause: error, field });
  }
  if (ACCESS_DENIED_ERROR_NAMES.has(name) || status === HTTP_FORBIDDEN) {
    return new FacekitError('S3_ACCESS_DENIED', `${field}: access to ${object} was denied`, { cause: error, field });
  }
  // Our own deadline fired (the SDK may surface it as a plain stream error mid-body).
  if (abortSignal.aborted) {
    return new FacekitError('URL_TIMEOUT', `${field}: ${object} was not read within ${config.totalTimeoutMs} ms`, { cause: error, field });
  }
  // The SDK names a reset connection "TimeoutError": it is an outage, not a slow read.
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNREFUSED') {
    return new FacekitError('S3_UNAVAILABLE', `${field}: S3 could not be read (${code})`, { cause: error, field });
  }
  if (status !== undefined && status >= HTTP_CLIENT_ERROR_MIN && status < HTTP_SERVER_ERROR_MIN) {
    return new FacekitError('INVALID_URL', `${field}: S3 refused the request for ${object} (${name || status})`, { cause: error, field });
  }
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new FacekitError(
      'URL_TIMEOUT',
      `${field}: ${object} was not read within ${config.totalTimeoutMs} ms`,
      { cause: error, field },
    );
  }
  return new FacekitError(
    'S3_UNAVAILABLE',
    `${field}: S3 could not be read (${name || 'unknown error'})`,
    { cause: error, field },
  );
}

function tooLarge(field: string, maxBytes: number, size?: number): FacekitError {
  const sizeText = size === undefined ? 'more than' : `${size} bytes,`;
  return new FacekitError(
    'IMAGE_TOO_LARGE',
    `${field}: the S3 object is ${sizeText} over the limit of ${maxBytes} bytes`,
    { field },
  );
}

/**
 * Reads `s3://bucket/key` into memory. Errors: INVALID_URL, S3_BUCKET_NOT_ALLOWED (before any
 * call), S3_OBJECT_NOT_FOUND, S3_ACCESS_DENIED, S3_UNAVAILABLE, URL_TIMEOUT, IMAGE_TOO_LARGE.
 */
export async function fetchS3Bytes(
  url: string,
  config: FetchConfig,
  maxBytes: number,
  field: string,
  dependencies: S3Dependencies = {},
): Promise<Buffer> {
  const location = parseS3Url(url, field);
  checkBucketAllowed(location.bucket, config.allowedBuckets, field);
  const client = dependencies.client ?? getS3Client(config);
  const abortSignal = AbortSignal.timeout(config.totalTimeoutMs);

  let body: Readable | undefined;
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...(location.versionId ? { VersionId: location.versionId } : {}) }), {
      abortSignal,
    });
    body = response.Body as Readable | undefined;
    if (response.ContentLength !== undefined && response.ContentLength > maxBytes) {
      throw tooLarge(field, maxBytes, response.ContentLength);
    }
    if (!body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      receivedBytes += chunk.length;
      if (receivedBytes > maxBytes) throw tooLarge(field, maxBytes);
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return Buffer.concat(chunks, receivedBytes);
  } catch (error) {
    throw s3Error(error, location, field, config, abortSignal);
  } finally {
    // Stops the download if we left early (cap, error); a no-op once fully read.
    body?.destroy();
  }
}
