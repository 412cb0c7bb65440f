/**
 * The committed malformed-input corpus (test/fixtures/make-malformed.ts → test/fixtures/malformed/):
 * every item gives the FacekitError its manifest names (always 4xx), or decodes when it is valid
 * but hostile; the decompression bomb is refused from its header, fast.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lambda/config.js';
import { FacekitError } from '../../lambda/errors.js';
import { decodeImage } from '../../lambda/image/decode.js';

const corpusDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/malformed');
const limits = loadConfig({}).image;
/** Generous for CI; a header-only refusal takes a few milliseconds. */
const FAST_REFUSAL_MS = 500;

interface CorpusItem {
  file: string;
  bytes: number;
  expect: string | { ok: [number, number] };
  description: string;
}
const manifest: CorpusItem[] = JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8'));

async function outcome(bytes: Buffer): Promise<{ error?: unknown; width?: number; height?: number; ms: number }> {
  const started = performance.now();
  try {
    const image = await decodeImage(bytes, limits);
    return { width: image.width, height: image.height, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe('malformed-input corpus', () => {
  it('has the expected items, each small', () => {
    expect(manifest.length).toBeGreaterThanOrEqual(20);
    for (const item of manifest) {
      expect(readFileSync(path.join(corpusDir, item.file)).length).toBe(item.bytes);
      expect(item.bytes).toBeLessThan(64 * 1024);
    }
  });

  const failing = manifest.filter((item) => typeof item.expect === 'string');
  it.each(failing.map((item) => [item.file, item.description, item]))(
    '%s (%s) → the expected 4xx FacekitError',
    async (_file, _description, item) => {
      const result = await outcome(readFileSync(path.join(corpusDir, item.file)));
      expect(result.error).toBeInstanceOf(FacekitError);
      const error = result.error as FacekitError;
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(500);
      expect(error.code).toBe(item.expect);
      expect(error.message).toMatch(/^image: /);
      expect(error.field).toBe('image');
    },
  );

  const valid = manifest.filter((item) => typeof item.expect !== 'string');
  it.each(valid.map((item) => [item.file, item.description, item]))('%s (%s) decodes its first frame', async (_file, _d, item) => {
    const result = await outcome(readFileSync(path.join(corpusDir, item.file)));
    expect(result.error).toBeUndefined();
    expect([result.width, result.height]).toEqual((item.expect as { ok: [number, number] }).ok);
    expect(result.ms).toBeLessThan(2000);
  });

  it('the 64-megapixel bomb is refused from its header, before any pixel is decoded', async () => {
    const bytes = readFileSync(path.join(corpusDir, 'bomb-64mp.png'));
    expect(bytes.length).toBeLessThan(64 * 1024);
    const result = await outcome(bytes);
    // IMAGE_DIMENSIONS_TOO_LARGE comes only from the header check (sharp's own limit has the
    // same code but would first allocate and inflate); the time bound confirms it.
    expect((result.error as FacekitError).code).toBe('IMAGE_DIMENSIONS_TOO_LARGE');
    expect((result.error as FacekitError).message).toContain('8000×8000');
    expect(result.ms).toBeLessThan(FAST_REFUSAL_MS);
  });

  it('absurd header dimensions are refused fast for every format', async () => {
    for (const file of ['absurd-dimensions.png', 'absurd-dimensions.jpg', 'absurd-dimensions.bmp', 'absurd-dimensions.gif']) {
      const result = await outcome(readFileSync(path.join(corpusDir, file)));
      expect((result.error as FacekitError).code).toBe('IMAGE_DIMENSIONS_TOO_LARGE');
      expect(result.ms).toBeLessThan(FAST_REFUSAL_MS);
    }
  });

  it('the bomb is also refused when only maxPixels is exceeded (long side raised)', async () => {
    const bytes = readFileSync(path.join(corpusDir, 'bomb-64mp.png'));
    const started = performance.now();
    await expect(decodeImage(bytes, { ...limits, maxLongSide: 10000 })).rejects.toMatchObject({
      code: 'IMAGE_DIMENSIONS_TOO_LARGE',
      message: expect.stringContaining(`${limits.maxPixels} pixels`),
    });
    expect(performance.now() - started).toBeLessThan(FAST_REFUSAL_MS);
  });
});
