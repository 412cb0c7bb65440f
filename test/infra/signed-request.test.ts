/**
 * The signed-request example of docs/deploy.md (scripts/signed-request.ts), run for real: it signs
 * with SigV4 for execute-api using the SDK's default credential chain (here: environment
 * variables) and posts an image. API Gateway cannot run here, so a small gateway on loopback does
 * what an AWS_IAM method does first: it recomputes the SigV4 signature from the received request and
 * refuses a mismatch with 403; a valid request goes on to the real local facekit server.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256, regionOf } from '../../scripts/signed-request.js';
import { EVAL_DIR, REPO_ROOT, startLocalServer, type LocalServer } from '../helpers/local-server.js';

const run = promisify(execFile);
const CREDENTIALS = { accessKeyId: 'AKIDFACEKITEXAMPLE', secretAccessKey: 'facekit-example-secret-key' };
const REGION = 'eu-west-1';
const STAGE = '/prod';
const IMAGE = path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg');

let facekit: LocalServer;
let gateway: http.Server;
let gatewayUrl: string;
const verdicts: string[] = [];

/** `20261201T014500Z` → Date. */
function amzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw new Error(`bad x-amz-date ${value}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function verify(request: http.IncomingMessage, body: string): Promise<boolean> {
  const authorization = request.headers.authorization ?? '';
  const date = request.headers['x-amz-date'];
  if (typeof date !== 'string' || !authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/`)) return false;
  const url = new URL(request.url!, `http://${request.headers.host}`);
  const signer = new SignatureV4({ service: 'execute-api', region: REGION, credentials: CREDENTIALS, sha256: NodeSha256 });
  const expected = await signer.sign(
    {
      method: request.method!, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {},
      headers: { 'content-type': String(request.headers['content-type']), host: String(request.headers.host) },
      body,
    },
    { signingDate: amzDate(date) },
  );
  return expected.headers.authorization === authorization;
}

beforeAll(async () => {
  facekit = await startLocalServer();
  gateway = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = await verify(request, body);
      verdicts.push(valid ? 'valid' : 'refused');
      if (!valid) {
        response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'The request signature we calculated does not match the signature you provided.' }));
        return;
      }
      const upstream = await fetch(`${facekit.url}${request.url!.slice(STAGE.length)}`, { method: 'POST', headers: { 'content-type': String(request.headers['content-type']) }, body });
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(await upstream.text());
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}${STAGE}/face_detection`;
}, 90_000);

afterAll(async () => {
  await new Promise<void>((resolve) => gateway?.close(() => resolve()));
  await facekit?.stop();
});

function example(secretAccessKey: string) {
  return run(process.execPath, ['--import', 'tsx', 'scripts/signed-request.ts', gatewayUrl, IMAGE], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: REGION },
    maxBuffer: 8 * 1024 * 1024,
  });
}

test('the example\'s SigV4 signature verifies, and the API answers with the faces', async () => {
  const { stdout } = await example(CREDENTIALS.secretAccessKey);
  const [status, ...rest] = stdout.trim().split(' ');
  expect(status).toBe('200');
  const body = JSON.parse(rest.join(' ')) as { Faces: Array<{ Confidence: number }> };
  expect(body.Faces.length).toBeGreaterThanOrEqual(1);
  expect(verdicts.at(-1)).toBe('valid');
}, 120_000);

test('signed with the wrong secret, the same request is refused (the check is real)', async () => {
  const failed = await example('not-the-secret').then(() => undefined, (error: { code: number; stdout: string }) => error);
  expect(failed?.code).toBe(1);
  expect(failed?.stdout).toMatch(/^403 .*signature/);
  expect(verdicts.at(-1)).toBe('refused');
}, 120_000);

test('the region comes from AWS_REGION, else from the execute-api host name', () => {
  expect(regionOf(new URL('https://abc123.execute-api.ap-south-1.amazonaws.com/prod/face_detection'), {})).toBe('ap-south-1');
  expect(regionOf(new URL('https://abc123.execute-api.ap-south-1.amazonaws.com/prod/'), { AWS_REGION: 'eu-west-1' })).toBe('eu-west-1');
  expect(() => regionOf(new URL('http://127.0.0.1:3000/'), {})).toThrow(/AWS_REGION/);
});
