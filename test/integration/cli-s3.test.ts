/**
 * `facekit detect s3://bucket/prefix` through a real S3-compatible server (s3rver on 127.0.0.1,
 * random port), reached by the built CLI through FACEKIT_S3_ENDPOINT and s3rver's credentials in
 * the standard AWS environment variables.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EVAL_DIR, REPO_ROOT } from '../helpers/local-server.js';
import { S3RVER_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/cli/facekit.mjs');
const BUCKET = 'facekit-cli';
const PORTRAIT = readFileSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg'));
const GROUP = readFileSync(path.join(EVAL_DIR, 'unlabeled/faceapi_examples/bbt2.jpg'));
let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  await s3.put(BUCKET, 'photos/portrait.jpg', PORTRAIT);
  await s3.put(BUCKET, 'photos/2026/group one.jpg', GROUP);
  await s3.put(BUCKET, 'photos/readme.txt', Buffer.from('not an image'));
  await s3.put(BUCKET, 'elsewhere/portrait.jpg', PORTRAIT);
});

afterAll(async () => {
  await s3?.stop();
});

test('every image under the prefix is analysed; other objects are reported as skipped', async () => {
  const { stdout, stderr } = await run(process.execPath, [CLI, 'detect', `s3://${BUCKET}/photos/`, '--only', 'detect', '--jsonl'], {
    env: {
      ...process.env,
      FACEKIT_THREADS: '1',
      FACEKIT_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
  });
  const records = stdout.trim().split('\n').map((line) => JSON.parse(line));
  // S3 lists keys in UTF-8 binary order.
  expect(records.map((record) => record.file)).toEqual([`s3://${BUCKET}/photos/2026/group one.jpg`, `s3://${BUCKET}/photos/portrait.jpg`]);
  expect(records[0].faces.length).toBeGreaterThanOrEqual(3);
  expect(records[1].faces).toHaveLength(1);
  expect([records[1].width, records[1].height]).toEqual([930, 850]);
  expect(stderr).toContain(`facekit: skipped s3://${BUCKET}/photos/readme.txt: not an image file`);
  expect(stderr.trim().split('\n').at(-1)).toMatch(/^facekit: 2 images, \d+ faces, 0 errors, 1 skipped in /);
}, 120_000);

test('a bucket that does not exist is one line and exit code 2', async () => {
  const failed = await run(process.execPath, [CLI, 'detect', 's3://no-such-bucket/photos/'], {
    env: { ...process.env, FACEKIT_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
  }).then(() => undefined, (error: { code: number; stdout: string; stderr: string }) => error);
  expect(failed?.code).toBe(2);
  // (On Node 20 the AWS SDK first prints its own Node-version notice.)
  expect(failed?.stderr.trim().split('\n').at(-1)).toMatch(/^facekit: cannot list the inputs: .*bucket/i);
  expect(failed?.stderr).not.toMatch(/\n\s+at /);
  expect(failed?.stdout).toBe('');
}, 60_000);
