/**
 * The Lambda bundle exactly as lambda/Dockerfile copies it (dist/lambda/, built by
 * `npm run build:lambda`), run in a fresh Node process with only the two externals its
 * package.json names, on API Gateway REST proxy events built by hand (API Gateway itself cannot
 * run here; the event shape is the documented proxy payload v1).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EVAL_DIR, REPO_ROOT } from '../helpers/local-server.js';

const run = promisify(execFile);
const PORTRAIT = readFileSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg'));
let taskRoot: string;

/** Invokes the bundle's handler once per event in a new process; returns the proxy results. */
async function invoke(events: unknown[], env: Record<string, string> = {}): Promise<{ results: any[]; stderr: string; code: number }> {
  const eventsFile = path.join(taskRoot, `events-${Date.now()}.json`);
  const resultsFile = `${eventsFile}.results`;
  writeFileSync(eventsFile, JSON.stringify(events));
  const script = `
    const events = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(eventsFile)}, 'utf8'));
    import(${JSON.stringify(path.join(taskRoot, 'index.mjs'))}).then(async ({ handler }) => {
      const results = [];
      for (const event of events) results.push(await handler(event, { awsRequestId: 'lambda-test', getRemainingTimeInMillis: () => 28000 }));
      // stdout carries the handler's request log lines; results go to their own file.
      require('node:fs').writeFileSync(${JSON.stringify(resultsFile)}, JSON.stringify(results));
    });`;
  try {
    const { stderr } = await run(process.execPath, ['-e', script], {
      cwd: taskRoot,
      env: { PATH: process.env.PATH ?? '', FACEKIT_MODEL_DIR: path.join(REPO_ROOT, 'models'), FACEKIT_THREADS: '1', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { results: JSON.parse(readFileSync(resultsFile, 'utf8')), stderr, code: 0 };
  } catch (error) {
    const failed = error as { stderr?: string; code?: number };
    return { results: [], stderr: failed.stderr ?? String(error), code: failed.code ?? 1 };
  }
}

beforeAll(() => {
  // A task root like the image's: the bundle plus only the externals its package.json lists.
  taskRoot = mkdtempSync(path.join(os.tmpdir(), 'facekit-lambda-'));
  cpSync(path.join(REPO_ROOT, 'dist/lambda'), taskRoot, { recursive: true });
  const { dependencies } = JSON.parse(readFileSync(path.join(taskRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(Object.keys(dependencies).sort()).toEqual(['onnxruntime-node', 'sharp']);
  mkdirSync(path.join(taskRoot, 'node_modules'));
  for (const name of Object.keys(dependencies)) symlinkSync(path.join(REPO_ROOT, 'node_modules', name), path.join(taskRoot, 'node_modules', name), 'dir');
});

afterAll(() => rmSync(taskRoot, { recursive: true, force: true }));

const jsonEvent = (body: unknown, extra: Record<string, unknown> = {}) => ({
  httpMethod: 'POST',
  path: '/face_detection',
  headers: { 'Content-Type': 'application/json' },
  queryStringParameters: null,
  body: JSON.stringify(body),
  isBase64Encoded: false,
  requestContext: { requestId: 'apigw-request-1', stage: 'prod' },
  ...extra,
});

test('the built handler answers API Gateway proxy events on a real image', async () => {
  const json = JSON.stringify({ img: PORTRAIT.toString('base64') });
  const { results, stderr, code } = await invoke([
    jsonEvent({ img: PORTRAIT.toString('base64') }),
    // A binary-media-type body arrives base64-encoded by API Gateway.
    jsonEvent(undefined, { body: Buffer.from(json).toString('base64'), isBase64Encoded: true }),
    jsonEvent({ img: '!!' }),
    { ...jsonEvent({}), httpMethod: 'GET' },
  ]);
  expect({ code, stderr: stderr.includes('Error') ? stderr : '' }).toEqual({ code: 0, stderr: '' });
  const [plain, base64Body, badBase64, wrongMethod] = results;
  for (const result of [plain, base64Body]) {
    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(result.body);
    expect(body.Faces).toHaveLength(1);
    expect(body.Faces[0].landmark_106).toHaveLength(106);
    expect(['male', 'female']).toContain(body.Faces[0].gender);
  }
  expect(badBase64.statusCode).toBe(400);
  expect(JSON.parse(badBase64.body)).toMatchObject({ code: 'INVALID_BASE64', requestId: 'apigw-request-1' });
  expect(wrongMethod.statusCode).toBe(405);
}, 120_000);

test('a missing model stops the Lambda init with a message naming the file', async () => {
  const emptyModels = mkdtempSync(path.join(os.tmpdir(), 'facekit-no-models-'));
  try {
    const { code, stderr } = await invoke([jsonEvent({ img: 'AAAA' })], { FACEKIT_MODEL_DIR: emptyModels });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/scrfd_2\.5g_kps_dynhw\.onnx cannot be read.*npm run models/);
  } finally {
    rmSync(emptyModels, { recursive: true, force: true });
  }
}, 60_000);
