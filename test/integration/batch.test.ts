/**
 * FaceBatch's batch code for real: real models on real images read from, and results written to,
 * a real S3-compatible server (s3rver on 127.0.0.1, random port). Step Functions itself cannot run
 * here; what it would hand the function is built the way its ListObjectsV2 item reader and
 * ItemBatcher document it, and lib/face-batch.ts's template is checked in test/infra.
 *
 *  - `npm run batch -- --local` (scripts/batch.ts) over a prefix of 60 real face images plus one
 *    corrupt object: one result line per image, the corrupt one an error line, the rest analysed;
 *  - the bundled handler (dist/lambda/batch.mjs, what the image runs) on a Map item batch.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { EVAL_DIR, REPO_ROOT } from '../helpers/local-server.js';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';

const run = promisify(execFile);
const IN_BUCKET = 'facekit-batch-in';
const OUT_BUCKET = 'facekit-batch-out';
const PREFIX = 'photos/2024/';
/** Small real portraits (UTKFace chips, 200×200, one face each): read at test time, never committed. */
const IMAGE_DIR = path.join(EVAL_DIR, 'age_gender/utkface');
const IMAGE_COUNT = 60;
const CORRUPT = readFileSync(path.join(REPO_ROOT, 'test/fixtures/malformed/jpeg-magic-random.jpg'));
const CORRUPT_KEY = `${PREFIX}broken/corrupt.jpg`;

let s3: TestS3;
const images = new Map<string, Buffer>();

/** Environment of a child process that talks to s3rver through the SDK's default credential chain. */
function s3Env(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    FACEKIT_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    FACEKIT_MODEL_DIR: path.join(REPO_ROOT, 'models'),
  };
}

async function readText(bucket: string, key: string): Promise<string> {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function readLines(prefix: string): Promise<Array<Record<string, any>>> {
  const lines: Array<Record<string, any>> = [];
  for (const key of await listKeys(OUT_BUCKET, prefix)) {
    if (!key.endsWith('.jsonl')) continue;
    lines.push(...(await readText(OUT_BUCKET, key)).split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, any>));
  }
  return lines;
}

beforeAll(async () => {
  s3 = await startS3rver([IN_BUCKET, OUT_BUCKET]);
  const files = readdirSync(IMAGE_DIR).filter((name) => name.endsWith('.jpg')).sort().slice(0, IMAGE_COUNT);
  expect(files).toHaveLength(IMAGE_COUNT);
  for (const [index, file] of files.entries()) {
    // Some in a sub-folder, one with a space: the reader lists the whole prefix, keys are not URLs.
    const key = `${PREFIX}${index % 4 === 0 ? 'more/' : ''}${index === 7 ? 'with space ' : ''}${file}`;
    const bytes = readFileSync(path.join(IMAGE_DIR, file));
    images.set(key, bytes);
    await s3.put(IN_BUCKET, key, bytes);
  }
  await s3.put(IN_BUCKET, CORRUPT_KEY, CORRUPT);
  // A console-made "folder" and an object outside the prefix: neither is an image of this run.
  await s3.put(IN_BUCKET, `${PREFIX}empty-folder/`, Buffer.alloc(0));
  await s3.put(IN_BUCKET, 'photos/2023/outside.jpg', images.values().next().value!);
}, 120_000);

afterAll(async () => {
  await s3?.stop();
});

describe('npm run batch -- --local, against an S3-compatible endpoint', () => {
  test('60 real images and a corrupt object: one line each, the corrupt one reported, the rest analysed', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/batch.ts', '--local', '--analysis', 'detect', '--items-per-batch', '16', `s3://${IN_BUCKET}/${PREFIX}`, `s3://${OUT_BUCKET}/results/run-1/`],
      { cwd: REPO_ROOT, env: s3Env(), maxBuffer: 16 * 1024 * 1024 },
    );
    const reports = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    // 60 images + corrupt + folder marker = 62 listed items → 4 batches of ≤ 16.
    expect(reports.at(-1)).toEqual({ batches: 4, images: IMAGE_COUNT + 1, failed: 1, skipped: 1 });

    const outputKeys = await listKeys(OUT_BUCKET, 'results/run-1/');
    expect(outputKeys).toHaveLength(4);
    expect(outputKeys.sort()).toEqual(reports.slice(0, -1).map((report) => (report.output as string).replace(`s3://${OUT_BUCKET}/`, '')).sort());

    const lines = await readLines('results/run-1/');
    expect(lines.map((line) => line.key).sort()).toEqual([...images.keys(), CORRUPT_KEY].sort());
    const corrupt = lines.find((line) => line.key === CORRUPT_KEY)!;
    expect(corrupt.error.code).toBe('CORRUPT_IMAGE');
    expect(corrupt.faces).toBeUndefined();

    const analysed = lines.filter((line) => line.key !== CORRUPT_KEY);
    for (const line of analysed) {
      expect(line.error).toBeUndefined();
      const { width, height } = await sharp(images.get(line.key)!).metadata();
      expect([line.key, line.width, line.height]).toEqual([line.key, width, height]);
      for (const face of line.faces) {
        expect(face.score).toBeGreaterThanOrEqual(0.5);
        expect(face.landmarks5).toHaveLength(5);
        // --analysis detect: no per-face models ran.
        expect(face.landmarks106).toBeUndefined();
        expect(face.age).toBeUndefined();
      }
    }
    // Each chip is a cropped portrait of one person: the detector finds a face in nearly all.
    const withFace = analysed.filter((line) => line.faces.length >= 1).length;
    expect(withFace / analysed.length).toBeGreaterThanOrEqual(0.95);
  }, 300_000);

  test('a bad argument is a usage error, before any model or S3 call', async () => {
    const failed = await run(process.execPath, ['--import', 'tsx', 'scripts/batch.ts', '--local', `s3://${IN_BUCKET}/${PREFIX}`, 'results/'], { cwd: REPO_ROOT, env: s3Env() })
      .then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('the output must be s3://bucket/prefix/');
    expect(failed?.stderr).toContain('usage: npm run batch');
  }, 60_000);
});

describe('the bundled batch handler (dist/lambda/batch.mjs) on a Distributed Map item batch', () => {
  let workDir: string;
  beforeAll(() => {
    workDir = mkdtempSync(path.join(os.tmpdir(), 'facekit-batch-'));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  /** Calls the handler once per event in a fresh Node process, as the image would. */
  async function invoke(events: unknown[], env: Record<string, string> = {}): Promise<Array<{ result?: any; error?: { name: string; message: string } }>> {
    const eventsFile = path.join(workDir, `events-${Date.now()}.json`);
    writeFileSync(eventsFile, JSON.stringify(events));
    const script = `
      const fs = await import('node:fs');
      const { handler } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/lambda/batch.mjs'))});
      const outcomes = [];
      for (const event of JSON.parse(fs.readFileSync(${JSON.stringify(eventsFile)}, 'utf8'))) {
        try { outcomes.push({ result: await handler(event) }); }
        catch (error) { outcomes.push({ error: { name: error.name, message: error.message } }); }
      }
      fs.writeFileSync(${JSON.stringify(`${eventsFile}.out`)}, JSON.stringify(outcomes));`;
    await run(process.execPath, ['--input-type=module', '-e', script], { cwd: workDir, env: { ...s3Env(), FACEKIT_S3_BUCKETS: IN_BUCKET, FACEKIT_THREADS: '1', ...env }, maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(readFileSync(`${eventsFile}.out`, 'utf8')) as Array<{ result?: any; error?: { name: string; message: string } }>;
  }

  test('full analysis per image, error lines for the corrupt and the vanished object, same result object on a retry', async () => {
    const someImages = [...images.keys()].slice(0, 3);
    // The S3 ListObjectsV2 reader's item shape: Key, Size, Etag, LastModified, StorageClass.
    const items = [...someImages, CORRUPT_KEY, `${PREFIX}deleted-after-listing.jpg`, `${PREFIX}empty-folder/`].map((Key) => ({
      Key, Size: images.get(Key)?.length ?? 0, Etag: '"0"', LastModified: 'Mon, 30 Nov 2026 10:00:00 GMT', StorageClass: 'STANDARD',
    }));
    const event = { Items: items, BatchInput: { inputBucket: IN_BUCKET, outputBucket: OUT_BUCKET, outputPrefix: 'results/map/', analysis: 'full' } };
    const [first, retry] = await invoke([event, event]);
    expect(first.error).toBeUndefined();
    expect(first.result).toEqual({ output: expect.stringMatching(new RegExp(`^s3://${OUT_BUCKET}/results/map/batch-[0-9a-f]{32}\\.jsonl$`)), images: 5, failed: 2, skipped: 1 });
    expect(retry.result).toEqual(first.result);
    expect(await listKeys(OUT_BUCKET, 'results/map/')).toHaveLength(1);

    const lines = (await readLines('results/map/'));
    expect(lines.map((line) => line.key)).toEqual([...someImages, CORRUPT_KEY, `${PREFIX}deleted-after-listing.jpg`]);
    expect(lines.slice(3).map((line) => line.error.code)).toEqual(['CORRUPT_IMAGE', 'S3_OBJECT_NOT_FOUND']);
    for (const line of lines.slice(0, 3)) {
      expect(line.faces.length).toBeGreaterThanOrEqual(1);
      expect(line.faces[0].landmarks106).toHaveLength(106);
      expect(['male', 'female']).toContain(line.faces[0].gender.value);
      expect(typeof line.faces[0].age).toBe('number');
      expect(line.faceModelVersion).toMatch(/^facekit-/);
    }
  }, 180_000);

  test('a bucket the deployment was not given, or a malformed event, fails the batch as a whole', async () => {
    const outcomes = await invoke([
      { Items: [{ Key: 'x.jpg' }], BatchInput: { inputBucket: OUT_BUCKET, outputBucket: OUT_BUCKET, outputPrefix: 'results/x/' } },
      { Items: [{ Key: 'x.jpg' }], BatchInput: { inputBucket: IN_BUCKET, outputBucket: OUT_BUCKET } },
      { BatchInput: { inputBucket: IN_BUCKET, outputBucket: OUT_BUCKET, outputPrefix: 'results/x/' } },
      { Items: [{ Key: 'x.jpg' }], BatchInput: { inputBucket: IN_BUCKET, outputBucket: OUT_BUCKET, outputPrefix: 'results/x/', analysis: 'everything' } },
    ]);
    expect(outcomes.map((outcome) => outcome.error?.message)).toEqual([
      expect.stringContaining(`bucket "${OUT_BUCKET}" is not one this deployment may read`),
      'facekit batch: BatchInput.outputPrefix is missing',
      'facekit batch: the event has no Items array',
      'facekit batch: BatchInput.analysis must be one of detect, full',
    ]);
    expect(await listKeys(OUT_BUCKET, 'results/x/')).toEqual([]);
  }, 120_000);
});
