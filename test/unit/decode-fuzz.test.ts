/**
 * Mutation fuzzing of decodeImage on real eval images (fixed seed, so failures reproduce):
 * byte flips, header flips, truncations, inserted and duplicated chunks. Every outcome must be a
 * correctly shaped RGB image or a 4xx FacekitError, each within a time bound; no crash, no hang.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../../lambda/config.js';
import { FacekitError } from '../../lambda/errors.js';
import { decodeImage } from '../../lambda/image/decode.js';
import { mulberry32 } from '../helpers/synthetic-bytes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const evalDir = path.resolve(repoRoot, '../shared/eval/dev');
const limits = loadConfig({}).image;

const SEED = 20261122;
const MUTATIONS_PER_IMAGE = 500;
/** One decode of a small (≤ 500 px) mutated image; a hang would blow far past this. */
const PER_ITEM_LIMIT_MS = 3000;
/** Mutations that target the first bytes, where formats keep their dimensions. */
const HEADER_BYTES = 64;
const MAX_INSERTED_BYTES = 64;

/** Small, varied seeds: JPEG (EXIF, odd tables), PNG (1-bit, 16-bit), GIF, WebP (alpha), BMP, TIFF. */
const SEED_FILES = [
  'edge_cases/derived/maksssksksss288_tiny96.jpg',
  'edge_cases/derived/maksssksksss288_exif6.jpg',
  'edge_cases/pillow_tests/hopper_16bit_qtables.jpg',
  'edge_cases/pillow_tests/broken_exif_dpi.jpg',
  'edge_cases/pillow_tests/hopper.gif',
  'edge_cases/pillow_tests/hopper.bmp',
  'edge_cases/pillow_tests/hopper_bw_500.png',
  'edge_cases/pillow_tests/transparent.webp',
  'edge_cases/pillow_tests/flower.webp',
];


type Mutation = (input: Buffer, random: () => number) => Buffer;
const randomInt = (random: () => number, below: number): number => Math.floor(random() * below);
const randomBytes = (random: () => number, length: number): Buffer =>
  Buffer.from(Array.from({ length }, () => randomInt(random, 256)));

const MUTATIONS: Record<string, Mutation> = {
  flipBytes(input, random) {
    const output = Buffer.from(input);
    const count = 1 + randomInt(random, 8);
    for (let i = 0; i < count; i++) output[randomInt(random, output.length)] = randomInt(random, 256);
    return output;
  },
  flipHeaderBits(input, random) {
    const output = Buffer.from(input);
    const count = 1 + randomInt(random, 3);
    for (let i = 0; i < count; i++) output[randomInt(random, Math.min(HEADER_BYTES, output.length))] ^= 1 << randomInt(random, 8);
    return output;
  },
  truncate(input, random) {
    return Buffer.from(input.subarray(0, randomInt(random, input.length)));
  },
  insertChunk(input, random) {
    const at = randomInt(random, input.length);
    return Buffer.concat([input.subarray(0, at), randomBytes(random, 1 + randomInt(random, MAX_INSERTED_BYTES)), input.subarray(at)]);
  },
  duplicateSlice(input, random) {
    const start = randomInt(random, input.length);
    const end = Math.min(input.length, start + 1 + randomInt(random, 512));
    const at = randomInt(random, input.length);
    return Buffer.concat([input.subarray(0, at), input.subarray(start, end), input.subarray(at)]);
  },
  zeroRun(input, random) {
    const output = Buffer.from(input);
    const start = randomInt(random, output.length);
    output.fill(0, start, Math.min(output.length, start + 1 + randomInt(random, 256)));
    return output;
  },
};

async function withTimeBound<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`decode exceeded ${ms} ms: ${label}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('decodeImage under mutation', () => {
  it('never crashes, hangs or fails with anything but a 4xx FacekitError', async () => {
    const seeds = SEED_FILES.map((file) => ({ name: file, bytes: readFileSync(path.join(evalDir, file)) }));
    const hopper = readFileSync(path.join(evalDir, 'edge_cases/pillow_tests/hopper.bmp'));
    const hopperRgb = await decodeImage(hopper, limits);
    seeds.push({
      name: 'hopper.tiff (made from hopper.bmp)',
      bytes: await sharp(hopperRgb.data, { raw: { width: hopperRgb.width, height: hopperRgb.height, channels: 3 } })
        .tiff()
        .toBuffer(),
    });

    const random = mulberry32(SEED);
    const mutationNames = Object.keys(MUTATIONS);
    const outcomes: Record<string, number> = {};
    let slowestMs = 0;
    const started = performance.now();

    for (const seed of seeds) {
      for (let i = 0; i < MUTATIONS_PER_IMAGE; i++) {
        const mutationName = mutationNames[randomInt(random, mutationNames.length)];
        const mutated = MUTATIONS[mutationName](seed.bytes, random);
        const label = `${seed.name} #${i} ${mutationName}`;
        const itemStarted = performance.now();
        try {
          const image = await withTimeBound(decodeImage(mutated, limits), PER_ITEM_LIMIT_MS, label);
          if (image.data.length !== image.width * image.height * 3) throw new Error(`bad RGB layout: ${label}`);
          outcomes.decoded = (outcomes.decoded ?? 0) + 1;
        } catch (error) {
          if (!(error instanceof FacekitError) || error.status < 400 || error.status >= 500) {
            throw new Error(`${label}: unexpected failure ${String(error)}`, { cause: error });
          }
          outcomes[error.code] = (outcomes[error.code] ?? 0) + 1;
        }
        slowestMs = Math.max(slowestMs, performance.now() - itemStarted);
      }
    }

    const total = Object.values(outcomes).reduce((sum, count) => sum + count, 0);
    expect(total).toBe(seeds.length * MUTATIONS_PER_IMAGE);
    // Both paths are exercised: many mutants still decode, many are refused.
    expect(outcomes.decoded).toBeGreaterThan(total * 0.1);
    expect(outcomes.CORRUPT_IMAGE).toBeGreaterThan(total * 0.1);
    console.log(
      `decode fuzz: ${total} mutants in ${Math.round(performance.now() - started)} ms, slowest ${Math.round(slowestMs)} ms`,
      outcomes,
    );
  });
});
