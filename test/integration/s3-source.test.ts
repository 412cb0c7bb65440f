/**
 * s3:// sources through a real S3-compatible server (s3rver on 127.0.0.1, random port, temp dir),
 * using the same client factory as production with an explicit endpoint (no process.env changes).
 */
import { jest } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig, type FetchConfig } from '../../lambda/config.js';
import { FacekitError } from '../../lambda/errors.js';
import { loadImage } from '../../lambda/image/load.js';
import { createS3Client, fetchS3Bytes, parseS3Url } from '../../lambda/image/s3.js';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';
import { expectFacekitError } from '../helpers/facekit-error.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const evalDir = path.resolve(repoRoot, '../shared/eval/dev');
const IMAGE = readFileSync(path.join(evalDir, 'edge_cases/derived/maksssksksss288_tiny96.jpg'));
const BUCKET = 'facekit-test';
const OTHER_BUCKET = 'facekit-other';
const KEY_WITH_SPACE = 'faces/tiny 96+é.jpg';
const FIELD = 'url';
const MAX_BYTES = 256 * 1024;
const fetchConfig: FetchConfig = {
  connectTimeoutMs: 1000,
  totalTimeoutMs: 5000,
  maxRedirects: 3,
  allowedBuckets: [BUCKET],
  allowLoopbackForTests: false,
};

let s3: TestS3;
let client: S3Client;

const failure = expectFacekitError;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET, OTHER_BUCKET]);
  await s3.put(BUCKET, 'faces/tiny96.jpg', IMAGE);
  await s3.put(BUCKET, KEY_WITH_SPACE, IMAGE);
  await s3.put(OTHER_BUCKET, 'faces/tiny96.jpg', IMAGE);
  // The client under test is production's, pointed at the test server.
  client = createS3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS, connectTimeoutMs: 1000 });
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

describe('s3:// sources', () => {
  it('reads an object from an allowed bucket', async () => {
    const bytes = await fetchS3Bytes(`s3://${BUCKET}/faces/tiny96.jpg`, fetchConfig, MAX_BYTES, FIELD, { client });
    expect(bytes.equals(IMAGE)).toBe(true);
  });

  it('percent-decodes the key', async () => {
    const url = `s3://${BUCKET}/${KEY_WITH_SPACE.split('/').map(encodeURIComponent).join('/')}`;
    expect(url).toContain('%20');
    const bytes = await fetchS3Bytes(url, fetchConfig, MAX_BYTES, FIELD, { client });
    expect(bytes.equals(IMAGE)).toBe(true);
  });

  it('loadImage decodes an s3 object', async () => {
    const loaded = await loadImage(
      { kind: 'url', url: `s3://${BUCKET}/faces/tiny96.jpg`, field: FIELD },
      loadConfig({}).image,
      fetchConfig,
      { s3: { client } },
    );
    expect([loaded.image.width, loaded.image.height, loaded.format, loaded.bytes]).toEqual([96, 54, 'jpeg', IMAGE.length]);
  });

  it('`*` allows any bucket', async () => {
    const bytes = await fetchS3Bytes(`s3://${OTHER_BUCKET}/faces/tiny96.jpg`, { ...fetchConfig, allowedBuckets: ['*'] }, MAX_BYTES, FIELD, {
      client,
    });
    expect(bytes.equals(IMAGE)).toBe(true);
  });

  it('a missing object → S3_OBJECT_NOT_FOUND (404)', async () => {
    const error = await failure(fetchS3Bytes(`s3://${BUCKET}/faces/missing.jpg`, fetchConfig, MAX_BYTES, FIELD, { client }));
    expect(error.code).toBe('S3_OBJECT_NOT_FOUND');
    expect(error.status).toBe(404);
  });

  it('a missing (but allowed) bucket → S3_OBJECT_NOT_FOUND', async () => {
    const config = { ...fetchConfig, allowedBuckets: ['no-such-bucket-here'] };
    const error = await failure(fetchS3Bytes('s3://no-such-bucket-here/a.jpg', config, MAX_BYTES, FIELD, { client }));
    expect(error.code).toBe('S3_OBJECT_NOT_FOUND');
  });

  it('a bucket not in allowedBuckets is refused before any call', async () => {
    const send = jest.spyOn(client, 'send');
    try {
      for (const config of [fetchConfig, { ...fetchConfig, allowedBuckets: [] }]) {
        const error = await failure(fetchS3Bytes(`s3://${OTHER_BUCKET}/faces/tiny96.jpg`, config, MAX_BYTES, FIELD, { client }));
        expect(error.code).toBe('S3_BUCKET_NOT_ALLOWED');
        expect(error.message).toContain(OTHER_BUCKET);
      }
      expect(send).not.toHaveBeenCalled();
    } finally {
      send.mockRestore();
    }
  });

  it('an object over maxBytes → IMAGE_TOO_LARGE (from ContentLength)', async () => {
    const error = await failure(fetchS3Bytes(`s3://${BUCKET}/faces/tiny96.jpg`, fetchConfig, IMAGE.length - 1, FIELD, { client }));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toContain(String(IMAGE.length));
  });

  it('loadImage enforces limits.maxBytes on s3 objects', async () => {
    const limits = { ...loadConfig({}).image, maxBytes: 1000 };
    const error = await failure(
      loadImage({ kind: 'url', url: `s3://${BUCKET}/faces/tiny96.jpg`, field: FIELD }, limits, fetchConfig, { s3: { client } }),
    );
    expect(error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('a body without ContentLength is cut while streaming', async () => {
    let chunksRead = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        chunksRead++;
        yield Buffer.alloc(16 * 1024);
      }
    }
    const body = Readable.from(endless());
    const fakeClient = { send: async () => ({ Body: body }) } as unknown as S3Client;
    const error = await failure(fetchS3Bytes(`s3://${BUCKET}/endless`, fetchConfig, MAX_BYTES, FIELD, { client: fakeClient }));
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(body.destroyed).toBe(true);
    expect(chunksRead).toBeLessThan(MAX_BYTES / (16 * 1024) + 4);
  });

  // s3rver accepts any signature and has no bucket policies, so S3's error shapes are simulated.
  it.each([
    [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, 'S3_ACCESS_DENIED', 403],
    [{ name: 'Unknown', $metadata: { httpStatusCode: 403 } }, 'S3_ACCESS_DENIED', 403],
    [{ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }, 'S3_OBJECT_NOT_FOUND', 404],
    [{ name: 'InternalError', $metadata: { httpStatusCode: 500 } }, 'S3_UNAVAILABLE', 502],
    [{ name: 'AbortError' }, 'URL_TIMEOUT', 408],
  ])('SDK error %j → %s', async (sdkError, code, status) => {
    const fakeClient = {
      send: async () => {
        throw Object.assign(new Error('simulated'), sdkError);
      },
    } as unknown as S3Client;
    const error = await failure(fetchS3Bytes(`s3://${BUCKET}/a.jpg`, fetchConfig, MAX_BYTES, FIELD, { client: fakeClient }));
    expect([error.code, error.status]).toEqual([code, status]);
  });

  it('an unreachable endpoint → S3_UNAVAILABLE', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = createS3Client({ endpoint: `http://127.0.0.1:${closedPort}`, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
    try {
      const error = await failure(fetchS3Bytes(`s3://${BUCKET}/faces/tiny96.jpg`, fetchConfig, MAX_BYTES, FIELD, { client: down }));
      expect(error.code).toBe('S3_UNAVAILABLE');
    } finally {
      down.destroy();
    }
  });
});

describe('parseS3Url', () => {
  it('splits bucket and key, decoding the key', () => {
    expect(parseS3Url('s3://my.bucket-1/a/b%2Fc%20d.jpg', FIELD)).toEqual({ bucket: 'my.bucket-1', key: 'a/b/c d.jpg' });
    expect(parseS3Url('  S3://bucket/key.png ', FIELD)).toEqual({ bucket: 'bucket', key: 'key.png' });
  });

  it.each(['s3://', 's3://bucket', 's3://bucket/', 's3://Bad_Bucket/key', 's3://ab/key', 's3://bucket/%E0%A4%A', 'http://bucket/key'])(
    '%s → INVALID_URL',
    (url) => {
      expect(() => parseS3Url(url, FIELD)).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
    },
  );
});

describe('object keys that are not plain names are refused before any call', () => {
  it.each([
    ['a .. segment (would leave the bucket on path-style endpoints)', `s3://${BUCKET}/../${OTHER_BUCKET}/faces/tiny96.jpg`],
    ['an encoded .. segment', `s3://${BUCKET}/..%2f${OTHER_BUCKET}%2ffaces%2ftiny96.jpg`],
    ['a . segment', `s3://${BUCKET}/./faces/tiny96.jpg`],
    ['an empty segment', `s3://${BUCKET}/faces//tiny96.jpg`],
    ['a key over 1024 bytes', `s3://${BUCKET}/${'k'.repeat(1025)}`],
    ['a control character', `s3://${BUCKET}/faces/tiny%00.jpg`],
  ])('%s → INVALID_URL', async (_name, url) => {
    const error = await failure(fetchS3Bytes(url, fetchConfig, MAX_BYTES, FIELD, { client }));
    expect(error.code).toBe('INVALID_URL');
  });
});
