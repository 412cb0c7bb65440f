/**
 * The built CLI (`dist/cli/facekit.mjs`, the package's `facekit` bin) on a folder of real images:
 * one valid JSON document on stdout, progress, skipped and refused files and a summary on stderr,
 * `--only` (issue 8: bulk detection without the per-face models), `--annotate`, `--concurrency`,
 * and `npx facekit` keeping npm's own output off stdout.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { EVAL_DIR, REPO_ROOT } from '../helpers/local-server.js';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/cli/facekit.mjs');
let work: string;
let folder: string;

interface Run { code: number; stdout: string; stderr: string }

async function runCommand(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: REPO_ROOT, env: { ...process.env, FACEKIT_THREADS: '1', ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as Run;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCommand(process.execPath, [CLI, ...args], env);

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'facekit-cli-detect-'));
  folder = path.join(work, 'in');
  // Links, not copies: the eval images never enter the repository or a test artefact.
  const nested = path.join(folder, 'nested');
  mkdirSync(nested, { recursive: true });
  symlinkSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg'), path.join(folder, 'a-portrait.jpg'));
  symlinkSync(path.join(EVAL_DIR, 'unlabeled/faceapi_examples/bbt2.jpg'), path.join(nested, 'b-group.jpg'));
  writeFileSync(path.join(folder, 'c-broken.png'), 'not an image');
  writeFileSync(path.join(folder, 'notes.txt'), 'not an image extension');
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('a folder: one valid JSON document on stdout; progress, skipped, refused and the summary on stderr', async () => {
  // DEBUG: the Powertools Logger's per-image lines go to stderr too, never to stdout.
  const { code, stdout, stderr } = await cli(['detect', folder, '--format', 'full'], { POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  expect(code).toBe(1); // the broken file is refused; the others are still processed
  const document = JSON.parse(stdout);
  expect(document.map((record: { file: string }) => path.relative(folder, record.file))).toEqual(['a-portrait.jpg', 'c-broken.png', 'nested/b-group.jpg']);
  const [portrait, broken, group] = document;
  expect(portrait.faces).toHaveLength(1);
  expect(portrait.faces[0].landmarks106).toHaveLength(106);
  expect(broken.error.code).toBe('UNSUPPORTED_FORMAT');
  expect(group.faces.length).toBeGreaterThanOrEqual(3);

  const lines = stderr.trim().split('\n');
  expect(lines).toContain(`facekit: skipped ${path.join(folder, 'notes.txt')}: not an image file (.jpg .jpeg .png .bmp .webp .gif .tif .tiff)`);
  expect(lines.some((line) => line.startsWith(`facekit: refused ${path.join(folder, 'c-broken.png')}: `) && line.endsWith('(UNSUPPORTED_FORMAT)'))).toBe(true);
  // stderr is a pipe here, not a terminal: plain progress lines, the last one complete.
  expect(lines.filter((line) => /^facekit: \d+\/3 images, [\d.]+ images\/s, ETA \d+ s$/.test(line)).at(-1)).toMatch(/^facekit: 3\/3 images/);
  const faces = portrait.faces.length + group.faces.length;
  expect(lines.at(-1)).toMatch(new RegExp(`^facekit: 3 images, ${faces} faces, 1 error, 1 skipped in [\\d.]+ s \\([\\d.]+ images/s\\)$`));
  const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  expect(logged.map((entry) => [entry.level, entry.message, path.basename(entry.file), entry.faces])).toEqual([
    ['DEBUG', 'image', 'a-portrait.jpg', 1], ['DEBUG', 'image', 'b-group.jpg', group.faces.length],
  ]);
  expect(logged[0]).toMatchObject({ service: 'facekit', width: 930, height: 850, bytes: expect.any(Number), timings: { detectMs: expect.any(Number) } });
  // Never image bytes: no window of either image's base64 in anything printed.
  for (const file of ['a-portrait.jpg', 'nested/b-group.jpg']) {
    const base64 = readFileSync(path.join(folder, file)).toString('base64');
    for (let offset = 0; offset + 48 <= base64.length; offset += 4000) expect(stdout + stderr).not.toContain(base64.slice(offset, offset + 48));
  }
}, 180_000);

test('--only detect: boxes, scores and 5 points only, the same boxes as a full run; --only adds parts back', async () => {
  const image = path.join(folder, 'nested/b-group.jpg');
  const [full, detectOnly, withLandmarks, withEmotion] = await Promise.all([
    cli(['detect', image, '--format', 'full', '--jsonl']),
    // --only without landmarks and gender-age implies --format full (the native body needs them).
    cli(['detect', image, '--only', 'detect', '--jsonl']),
    cli(['detect', image, '--only', 'detect,landmarks', '--jsonl']),
    cli(['detect', image, '--only', 'detect,emotion', '--jsonl']),
  ]);
  const [fullFaces, detectFaces, landmarkFaces, emotionFaces] = [full, detectOnly, withLandmarks, withEmotion].map((result) => {
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(result.stdout).faces as Record<string, unknown>[];
  });
  expect(detectFaces.map((face) => face.box)).toEqual(fullFaces.map((face) => face.box));
  for (const face of detectFaces) expect(Object.keys(face).sort()).toEqual(['box', 'landmarks5', 'score']);
  for (const face of landmarkFaces) {
    expect(face.landmarks106).toHaveLength(106);
    expect(face.gender).toBeUndefined();
  }
  for (const face of emotionFaces) {
    expect(Object.keys(face.attributes as object)).toEqual(['emotion']);
    expect(face.landmarks106).toBeUndefined();
  }
  for (const face of fullFaces) expect(['male', 'female']).toContain(face.gender);
}, 180_000);

test('usage errors exit 2 with one line naming the option', async () => {
  for (const [args, message] of [
    [['detect', folder, '--only', 'detect,wings'], '--only: unknown part "wings"'],
    [['detect', folder, '--only', 'detect', '--format', 'native'], '--format native needs landmarks and gender-age'],
    [['detect', folder, '--min-face-size', 'big'], '--min-face-size must be a number of pixels > 0, got "big"'],
    [['detect', folder, '--concurrency', '0'], '--concurrency must be an integer from 1 to'],
    [['detect', folder, '--frobnicate'], "Unknown option '--frobnicate'"],
    [['detect'], 'name at least one image file, folder or s3://bucket/prefix'],
  ] as const) {
    const result = await cli([...args]);
    expect([args, result.code]).toEqual([args, 2]);
    expect(result.stderr.split('\n')[0]).toContain(message);
    expect(result.stdout).toBe('');
  }
});

test('--annotate draws boxes and points on each image; --concurrency 2 gives the same results in the same order', async () => {
  const annotated = path.join(work, 'annotated');
  const [serial, parallel] = await Promise.all([
    cli(['detect', folder, '--format', 'full', '--jsonl', '--min-face-size', '16']),
    cli(['detect', folder, '--format', 'full', '--jsonl', '--min-face-size', '16', '--concurrency', '2', '--annotate', annotated]),
  ]);
  const records = (result: Run) => result.stdout.trim().split('\n').map((line) => JSON.parse(line));
  const summary = (record: { file: string; faces?: { box: number[] }[]; error?: { code: string } }) => [record.file, record.error?.code ?? record.faces!.length];
  expect(records(parallel).map(summary)).toEqual(records(serial).map(summary));

  // One JPEG per analysed image, mirroring the folder, at the image's display size.
  const portrait = records(parallel)[0];
  const drawn = path.join(annotated, 'a-portrait.jpg');
  expect(existsSync(path.join(annotated, 'nested/b-group.jpg'))).toBe(true);
  expect(existsSync(path.join(annotated, 'c-broken.jpg'))).toBe(false);
  const { data, info } = await sharp(drawn).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([portrait.width, portrait.height]);
  const original = await sharp(path.join(folder, 'a-portrait.jpg')).rotate().raw().toBuffer();
  // The box's left edge is drawn in green over the photo; a pixel far from any face is untouched.
  const [x, y, , height] = portrait.faces[0].box as number[];
  const pixel = (buffer: Buffer, px: number, py: number) => Array.from(buffer.subarray((Math.round(py) * info.width + Math.round(px)) * 3, (Math.round(py) * info.width + Math.round(px)) * 3 + 3));
  const [red, green, blue] = pixel(data, x, y + height / 2);
  expect(green).toBeGreaterThan(180);
  expect(green - Math.max(red, blue)).toBeGreaterThan(80);
  const corner = pixel(data, 5, info.height - 5);
  pixel(original, 5, info.height - 5).forEach((value, channel) => expect(Math.abs(corner[channel] - value)).toBeLessThan(24));
  expect(readFileSync(drawn).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
}, 180_000);

test('`npx facekit` (the package bin) writes only the JSON document to stdout', async () => {
  const { code, stdout } = await runCommand('npx', ['--no-install', 'facekit', 'detect', path.join(folder, 'a-portrait.jpg'), '--only', 'detect']);
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toHaveLength(1);
}, 120_000);
