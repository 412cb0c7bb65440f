/**
 * The CLI (`facekit detect`) and the local server's start-up checks and shutdown, each in a fresh
 * process running the built bundles, with real models on real images.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../lambda/config.js';
import { FACEKIT_ROUTES } from '../../lib/routes.js';
import { EVAL_DIR, REPO_ROOT, postJson, startLocalServer } from '../helpers/local-server.js';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/cli/facekit.mjs');
const SERVER = path.join(REPO_ROOT, 'dist/server/server.mjs');
const PORTRAIT = readFileSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg'));
let folder: string;

beforeAll(() => {
  // Links, not copies: the eval images never enter the repository or a test artefact.
  folder = mkdtempSync(path.join(os.tmpdir(), 'facekit-cli-'));
  symlinkSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg'), path.join(folder, 'a-portrait.jpg'));
  symlinkSync(path.join(EVAL_DIR, 'unlabeled/faceapi_examples/bbt2.jpg'), path.join(folder, 'b-group.jpg'));
  writeFileSync(path.join(folder, 'c-broken.png'), 'not an image');
  writeFileSync(path.join(folder, 'notes.txt'), 'ignored: not an image extension');
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, FACEKIT_THREADS: '1' }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('detect --format full --jsonl: one line per image with boxes, 5 and 106 points, gender and age', async () => {
  const { code, stdout } = await cli(['detect', folder, '--format', 'full', '--jsonl']);
  expect(code).toBe(1); // the broken file fails; the others are still processed
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(lines.map((line) => path.basename(line.file))).toEqual(['a-portrait.jpg', 'b-group.jpg', 'c-broken.png']);
  const [portrait, group, broken] = lines;
  expect([portrait.width, portrait.height]).toEqual([930, 850]);
  expect(portrait.faces).toHaveLength(1);
  const face = portrait.faces[0];
  expect(face.box).toHaveLength(4);
  expect(face.score).toBeGreaterThan(0.5);
  expect(face.landmarks5).toHaveLength(5);
  expect(face.landmarks106).toHaveLength(106);
  expect(face.landmarks106[0]).toHaveLength(2);
  expect(Number.isInteger(face.landmarks106[0][0])).toBe(false); // display pixels as floats
  expect(['male', 'female']).toContain(face.gender);
  expect(Number.isInteger(face.age)).toBe(true);
  expect(group.faces.length).toBeGreaterThanOrEqual(3);
  expect(broken.error.code).toBe('UNSUPPORTED_FORMAT');
}, 120_000);

test('--min-confidence 0.02 returns more candidates; the default prints one JSON document of native responses', async () => {
  const image = path.join(folder, 'b-group.jpg');
  const low = JSON.parse((await cli(['detect', image, '--format', 'full', '--jsonl', '--min-confidence', '0.02'])).stdout);
  const normal = JSON.parse((await cli(['detect', image, '--format', 'full', '--jsonl'])).stdout);
  expect(low.faces.length).toBeGreaterThan(normal.faces.length);
  expect(Math.min(...low.faces.map((face: { score: number }) => face.score))).toBeLessThan(0.5);
  const native = await cli(['detect', image]);
  expect(native.code).toBe(0);
  const document = JSON.parse(native.stdout);
  expect(document).toHaveLength(1);
  expect(Object.keys(document[0]).sort()).toEqual(['FaceModelVersion', 'Faces', 'file']);
  expect(document[0].Faces).toHaveLength(normal.faces.length);
}, 120_000);

test('bad CLI usage exits 2 with the usage line', async () => {
  const { code, stderr } = await cli(['detect', folder, '--min-confidence', '7']);
  expect(code).toBe(2);
  expect(stderr).toContain('--min-confidence');
});

/** Starts the server bundle with a model folder and returns its exit code and output. */
function startWithModels(modelDir: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SERVER], { env: { ...process.env, FACEKIT_MODEL_DIR: modelDir, PORT: '0', ...extraEnv } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); if (output.includes('listening')) child.kill(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('exit', (code) => resolve({ code, output }));
  });
}

test('the server refuses a bad setting at start with one clear line, no stack trace', async () => {
  for (const [name, value, message] of [
    ['FACEKIT_GENDER_MODEL', 'faceres', 'FACEKIT_GENDER_MODEL must be one of fused, genderage, got "faceres"'],
    ['FACEKIT_THREADS', 'many', 'FACEKIT_THREADS must be a number, got "many"'],
  ]) {
    const result = await startWithModels(path.join(REPO_ROOT, 'models'), { [name]: value });
    expect(result.code).toBe(1);
    expect(result.output.trim()).toBe(`facekit: cannot start: ${message}`);
  }
}, 60_000);

test('the server refuses to start when a model is missing or corrupt, naming the file', async () => {
  const models = mkdtempSync(path.join(os.tmpdir(), 'facekit-bad-models-'));
  try {
    const missing = await startWithModels(models);
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/cannot start: .*\.onnx cannot be read/);
    expect(missing.output).not.toContain('listening');

    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'models/manifest.json'), 'utf8')) as { models: { file: string }[] };
    for (const { file } of manifest.models) copyFileSync(path.join(REPO_ROOT, 'models', file), path.join(models, file));
    writeFileSync(path.join(models, 'pfld106_lite_if106.onnx'), Buffer.alloc(4096, 7));
    const corrupt = await startWithModels(models);
    expect(corrupt.code).toBe(1);
    expect(corrupt.output).toMatch(/pfld106_lite_if106\.onnx is not a valid ONNX model/);
  } finally {
    rmSync(models, { recursive: true, force: true });
  }
}, 60_000);

test('a busy port is one clear line and exit code 1', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as net.AddressInfo;
  try {
    const result = await startWithModels(path.join(REPO_ROOT, 'models'), { PORT: String(port), HOST: '127.0.0.1' });
    expect(result.code).toBe(1);
    expect(result.output.trim()).toBe(`facekit: cannot start: port ${port} on 127.0.0.1 is already in use (another facekit, or another program); stop it or set PORT to a free port`);
  } finally {
    holder.close();
  }
}, 60_000);

test('FACEKIT_TEST_ALLOW_LOOPBACK takes the usual words; anything else stops the start with one line', async () => {
  for (const word of ['1', 'true', 'TRUE', 'yes', 'on']) expect(loadConfig({ FACEKIT_TEST_ALLOW_LOOPBACK: word }).fetch.allowLoopbackForTests).toBe(true);
  for (const word of ['', '0', 'false', 'no', 'Off']) expect(loadConfig({ FACEKIT_TEST_ALLOW_LOOPBACK: word }).fetch.allowLoopbackForTests).toBe(false);
  const result = await startWithModels(path.join(REPO_ROOT, 'models'), { FACEKIT_TEST_ALLOW_LOOPBACK: 'maybe' });
  expect(result.code).toBe(1);
  expect(result.output.trim()).toBe('facekit: cannot start: FACEKIT_TEST_ALLOW_LOOPBACK must be one of 1, true, yes, on, 0, false, no, off, got "maybe"');
}, 60_000);

test('npm start lists its URLs; SIGINT lets the request in flight finish, stops the workers and exits 0', async () => {
  // An image source that tells the test when facekit is inside a request, and answers only after the signal.
  let inside!: () => void;
  const requested = new Promise<void>((resolve) => { inside = resolve; });
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  const source = http.createServer((_request, reply) => {
    inside();
    void released.then(() => reply.writeHead(200, { 'content-type': 'image/jpeg' }).end(PORTRAIT));
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  const imageUrl = `http://127.0.0.1:${(source.address() as net.AddressInfo).port}/portrait.jpg`;
  // "true", not "1": the usual true words are accepted.
  const server = await startLocalServer({ FACEKIT_TEST_ALLOW_LOOPBACK: 'true', FACEKIT_INFERENCE_WORKERS: '1' });
  try {
    for (const line of [`facekit is listening on ${server.url}`, `  demo      ${server.url}/`, `  API docs  ${server.url}/docs`, `  health    ${server.url}/health`,
      `  POST ${server.url}/face_detection  — Detect faces (AI Solution Kit Face Detection)`, `  POST ${server.url}/facepp/v3/detect  — Face++ Detect API v3`,
      `  GET  ${server.url}/{proxy+}?ci-process=…  — ${FACEKIT_ROUTES.find((route) => route.path === '/{proxy+}')!.summary}`]) {
      expect(server.output().split('\n')).toContain(line);
    }
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    const reply = postJson(`${server.url}/face_detection`, { url: imageUrl });
    await requested;
    server.process.kill('SIGINT');
    // New connections are refused once the server is stopping; the held image is released meanwhile
    // (within the server's 10 s drain), so a slow machine cannot turn the wait into a cut request.
    const refused = waitUntilRefused(`${server.url}/face_detection`);
    setTimeout(release, 1000);
    await expect(refused).resolves.toBe(true);
    const answered = await reply;
    expect(answered.status).toBe(200);
    expect(answered.json.Faces).toHaveLength(1);
    expect(await exited).toBe(0);
    // After 'stopping': the request in flight is logged (answered 200, one face) and 'stopped' comes
    // last. A refusal probe that reached the server before it stopped accepting may be logged in
    // between, so the order of those lines is not fixed.
    const entries = server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { message: string; status?: number; faces?: number });
    const stoppingAt = entries.findIndex((entry) => entry.message === 'stopping');
    expect(stoppingAt).toBeGreaterThanOrEqual(0);
    expect(entries.at(-1)!.message).toBe('stopped');
    expect(entries.slice(stoppingAt + 1).some((entry) => entry.message === 'request' && entry.status === 200 && entry.faces === 1)).toBe(true);
  } finally {
    release();
    source.close();
    await server.stop();
  }
}, 120_000);

/** Polls until a new connection is refused (the listening socket closed); false if it never is. */
async function waitUntilRefused(url: string): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const outcome = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }).then(() => 'served', (error: Error & { cause?: { code?: string } }) => error.cause?.code);
    if (outcome === 'ECONNREFUSED') return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

test('killing the `npm start` process stops the server too (npm passes SIGTERM to node itself)', async () => {
  // --ignore-scripts: no prestart build here (dist/ is built; other tests are reading it).
  const npm = spawn('npm', ['start', '--ignore-scripts'], { cwd: REPO_ROOT, env: { ...process.env, PORT: '0', FACEKIT_THREADS: '1', FACEKIT_INFERENCE_WORKERS: '1' } });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  npm.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 60_000);
    npm.stdout.on('data', () => {
      const match = /"message":"listening".*?"url":"([^"]+)"/.exec(output);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
  });
  // An answer first: the server installs its signal handlers right after printing the listening
  // line, and a signal that lands in between meets Node's default action (a race under load).
  await fetch(`${url}/health`).then((response) => response.text());
  // 'close': npm has exited and so has every process holding its output pipes (the node server).
  const closed = new Promise<void>((resolve) => npm.once('close', () => resolve()));
  npm.kill('SIGTERM');
  await closed;
  await expect(waitUntilRefused(`${url}/face_detection`)).resolves.toBe(true);
  expect(output).toContain('"message":"stopped"');
}, 90_000);
