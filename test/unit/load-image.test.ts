/** loadImage dispatch for in-memory inputs (bytes, base64); URL sources are in test/integration. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type FetchConfig } from '../../lambda/config.js';
import { FacekitError } from '../../lambda/errors.js';
import { loadImage } from '../../lambda/image/load.js';
import { expectFacekitError } from '../helpers/facekit-error.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const evalDir = path.resolve(repoRoot, '../shared/eval/dev');
const IMAGE = readFileSync(path.join(evalDir, 'edge_cases/derived/maksssksksss288_tiny96.jpg'));
const limits = loadConfig({}).image;
const fetchConfig: FetchConfig = { ...loadConfig({}).fetch, allowedBuckets: [] };

const failure = expectFacekitError;

describe('loadImage', () => {
  it('decodes raw bytes and reports size, format and timings', async () => {
    const loaded = await loadImage({ kind: 'bytes', bytes: IMAGE, field: 'image_file' }, limits, fetchConfig);
    expect([loaded.image.width, loaded.image.height, loaded.format, loaded.bytes]).toEqual([96, 54, 'jpeg', IMAGE.length]);
    expect(loaded.image.data.length).toBe(96 * 54 * 3);
    expect(loaded.decodeMs).toBeGreaterThan(0);
    expect(loaded.fetchMs).toBeGreaterThanOrEqual(0);
  });

  it('decodes base64 with a data URL prefix', async () => {
    const base64 = `data:image/jpeg;base64,${IMAGE.toString('base64')}`;
    const loaded = await loadImage({ kind: 'base64', base64, field: 'img' }, limits, fetchConfig);
    expect([loaded.image.width, loaded.image.height, loaded.bytes]).toEqual([96, 54, IMAGE.length]);
  });

  it('enforces maxBytes on bytes and on base64', async () => {
    const small = { ...limits, maxBytes: IMAGE.length - 1 };
    const fromBytes = await failure(loadImage({ kind: 'bytes', bytes: IMAGE, field: 'image_file' }, small, fetchConfig));
    expect([fromBytes.code, fromBytes.message.startsWith('image_file: ')]).toEqual(['IMAGE_TOO_LARGE', true]);
    const fromBase64 = await failure(
      loadImage({ kind: 'base64', base64: IMAGE.toString('base64'), field: 'img' }, small, fetchConfig),
    );
    expect([fromBase64.code, fromBase64.message.startsWith('img: ')]).toEqual(['IMAGE_TOO_LARGE', true]);
  });

  it('names the request field in decode errors', async () => {
    const error = await failure(loadImage({ kind: 'bytes', bytes: Buffer.from('hello'), field: 'image_file' }, limits, fetchConfig));
    expect(error.code).toBe('UNSUPPORTED_FORMAT');
    expect(error.message.startsWith('image_file: ')).toBe(true);
    expect(error.field).toBe('image_file'); // dialects such as Face++ name the parameter from it
  });

  it('empty bytes → EMPTY_IMAGE, bad base64 → INVALID_BASE64', async () => {
    expect((await failure(loadImage({ kind: 'bytes', bytes: Buffer.alloc(0), field: 'f' }, limits, fetchConfig))).code).toBe('EMPTY_IMAGE');
    expect((await failure(loadImage({ kind: 'base64', base64: '@@@@', field: 'f' }, limits, fetchConfig))).code).toBe('INVALID_BASE64');
  });

  it('s3 URLs with no allowed bucket are refused without a network call', async () => {
    const error = await failure(loadImage({ kind: 'url', url: 's3://some-bucket/a.jpg', field: 'url' }, limits, fetchConfig));
    expect([error.code, error.field]).toEqual(['S3_BUCKET_NOT_ALLOWED', 'url']);
  });
});
