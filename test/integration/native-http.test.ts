/**
 * The native route (AI Solution Kit) over real HTTP against the running local server (the
 * `npm start` bundle), with real models on real images. Image sources: base64, an HTTP URL served
 * by a local test server, and s3:// through s3rver (a real S3-compatible server on 127.0.0.1).
 * The loopback address of the test servers is allowed only through the test-only switch
 * FACEKIT_TEST_ALLOW_LOOPBACK=1.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EVAL_DIR, REPO_ROOT, postJson, startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';

const evalImage = (file: string): Buffer => readFileSync(path.join(EVAL_DIR, file));
const malformed = (file: string): Buffer => readFileSync(path.join(REPO_ROOT, 'test/fixtures/malformed', file));

const PORTRAIT = evalImage('landmarks68/helen/3181052163_1.jpg');
const GROUP = evalImage('unlabeled/faceapi_examples/bbt1.jpg');
const NO_FACE = evalImage('negatives/opencv_samples/orange.jpg');
const HUGE = evalImage('edge_cases/derived/maksssksksss39_huge6000.jpg');
const BUCKET = 'facekit-images';
const SMALL_BYTE_CAP = 200_000;

let server: LocalServer;
let deniedServer: LocalServer;
let s3: TestS3;
let images: http.Server;
let imagesUrl: string;
let route: string;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET, 'not-allowed']);
  await s3.put(BUCKET, 'people/portrait.jpg', PORTRAIT);
  await s3.put('not-allowed', 'portrait.jpg', PORTRAIT);
  images = http.createServer((request, reply) => {
    if (request.url === '/portrait.jpg') { reply.writeHead(200, { 'content-type': 'image/jpeg' }); reply.end(PORTRAIT); return; }
    if (request.url === '/large.jpg') { reply.writeHead(200, { 'content-type': 'image/jpeg' }); reply.end(GROUP); return; }
    reply.writeHead(404); reply.end('not found');
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  const s3Environment = { FACEKIT_S3_ENDPOINT: s3.endpoint, FACEKIT_S3_BUCKETS: BUCKET, AWS_REGION: 'us-east-1' };
  [server, deniedServer] = await Promise.all([
    startLocalServer({
      ...s3Environment,
      FACEKIT_TEST_ALLOW_LOOPBACK: '1',
      FACEKIT_MAX_IMAGE_BYTES: String(SMALL_BYTE_CAP),
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    }),
    // Same S3, wrong credentials: s3rver answers 403 like S3 does for a role without s3:GetObject.
    startLocalServer({ ...s3Environment, AWS_ACCESS_KEY_ID: 'WRONG', AWS_SECRET_ACCESS_KEY: 'WRONG' }),
  ]);
  route = `${server.url}/face_detection`;
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.stop(), deniedServer?.stop(), s3?.stop(), new Promise((resolve) => images?.close(resolve))]);
});

/** Checks a 200 body field by field against the seed's documented response. */
function expectSeedShape(json: any, imageWidth: number, imageHeight: number): void {
  expect(Object.keys(json).sort()).toEqual(['FaceModelVersion', 'Faces']);
  expect(typeof json.FaceModelVersion).toBe('string');
  for (const face of json.Faces) {
    expect(Object.keys(face).sort()).toEqual(['BoundingBox', 'Confidence', 'age', 'gender', 'landmark_106']);
    expect(Object.keys(face.BoundingBox).sort()).toEqual(['Height', 'Left', 'Top', 'Width']);
    for (const ratio of Object.values(face.BoundingBox) as number[]) {
      expect(ratio).toBeGreaterThanOrEqual(0);
      expect(ratio).toBeLessThanOrEqual(1);
    }
    expect(face.BoundingBox.Left + face.BoundingBox.Width).toBeLessThanOrEqual(1 + 1e-9);
    expect(face.Confidence).toBeGreaterThan(0);
    expect(face.Confidence).toBeLessThanOrEqual(1);
    expect(face.landmark_106).toHaveLength(106);
    for (const point of face.landmark_106) {
      expect(Object.keys(point).sort()).toEqual(['x', 'y']);
      expect(Number.isInteger(point.x) && Number.isInteger(point.y)).toBe(true);
    }
    // The points lie on the face: the nose tip (86) inside the box.
    const nose = face.landmark_106[86];
    expect(nose.x / imageWidth).toBeGreaterThan(face.BoundingBox.Left);
    expect(nose.x / imageWidth).toBeLessThan(face.BoundingBox.Left + face.BoundingBox.Width);
    expect(nose.y / imageHeight).toBeGreaterThan(face.BoundingBox.Top);
    expect(nose.y / imageHeight).toBeLessThan(face.BoundingBox.Top + face.BoundingBox.Height);
    expect(['male', 'female']).toContain(face.gender);
    expect(Number.isInteger(face.age)).toBe(true);
  }
}

const PORTRAIT_SIZE = { width: 930, height: 850 };

describe('POST /face_detection: image sources', () => {
  test('base64 img: one face with the seed response shape', async () => {
    const response = await postJson(route, { img: PORTRAIT.toString('base64') });
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.json.Faces).toHaveLength(1);
    expectSeedShape(response.json, PORTRAIT_SIZE.width, PORTRAIT_SIZE.height);
  });

  test('the /face-detection alias and a data-URL prefix work the same', async () => {
    const response = await postJson(`${server.url}/face-detection`, { img: `data:image/jpeg;base64,${PORTRAIT.toString('base64')}` });
    expect(response.status).toBe(200);
    expect(response.json.Faces).toHaveLength(1);
  });

  test('http url served by a local server', async () => {
    const response = await postJson(route, { url: `${imagesUrl}/portrait.jpg` });
    expect(response.status).toBe(200);
    expect(response.json.Faces).toHaveLength(1);
    expectSeedShape(response.json, PORTRAIT_SIZE.width, PORTRAIT_SIZE.height);
  });

  test('s3://bucket/key read through S3 (s3rver)', async () => {
    const response = await postJson(route, { url: `s3://${BUCKET}/people/portrait.jpg` });
    expect(response.status).toBe(200);
    expect(response.json.Faces).toHaveLength(1);
  });

  test('a group photo gives several faces; a photo without faces gives Faces: []', async () => {
    const group = await postJson(`${deniedServer.url}/face_detection`, { img: GROUP.toString('base64') });
    expect(group.status).toBe(200);
    expect(group.json.Faces.length).toBeGreaterThanOrEqual(4);
    expectSeedShape(group.json, 1366, 768);
    const none = await postJson(route, { img: NO_FACE.toString('base64') });
    expect(none.status).toBe(200);
    expect(none.json).toEqual({ Faces: [], FaceModelVersion: expect.any(String) });
  });

  test('extensions: max_faces keeps the largest faces; attributes adds an attributes object', async () => {
    const response = await postJson(`${deniedServer.url}/face_detection`, { img: GROUP.toString('base64'), max_faces: 2, attributes: ['headPose'] });
    expect(response.status).toBe(200);
    expect(response.json.Faces).toHaveLength(2);
    for (const face of response.json.Faces) expect(typeof face.attributes.headPose.yaw).toBe('number');
  });
});

interface ErrorCase {
  readonly name: string;
  readonly send: () => Promise<{ status: number; contentType: string; json: any; text: string }>;
  readonly status: number;
  readonly code: string;
}

const raw = (body: string | Buffer, contentType?: string) => async () => {
  const response = await fetch(route, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', json: JSON.parse(text), text };
};

const ERROR_CASES: ErrorCase[] = [
  { name: 'no body', send: raw('', 'application/json'), status: 400, code: 'MISSING_BODY' },
  { name: 'not JSON', send: raw('{"img": ', 'application/json'), status: 400, code: 'INVALID_JSON' },
  { name: 'a JSON array', send: () => postJson(route, [1, 2]), status: 400, code: 'INVALID_ARGUMENT' },
  { name: 'wrong content type', send: raw('img=abc', 'text/plain'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'neither url nor img', send: () => postJson(route, {}), status: 400, code: 'MISSING_IMAGE' },
  { name: 'both url and img', send: () => postJson(route, { url: `${imagesUrl}/portrait.jpg`, img: 'AAAA' }), status: 400, code: 'CONFLICTING_IMAGE' },
  { name: 'an unknown field', send: () => postJson(route, { image: 'AAAA' }), status: 400, code: 'INVALID_ARGUMENT' },
  { name: 'bad base64', send: () => postJson(route, { img: 'not base64 at all!' }), status: 400, code: 'INVALID_BASE64' },
  { name: 'unsupported format (text)', send: () => postJson(route, { img: malformed('text.txt').toString('base64') }), status: 400, code: 'UNSUPPORTED_FORMAT' },
  { name: 'corrupt image (truncated JPEG)', send: () => postJson(route, { img: malformed('truncated.jpg').toString('base64') }), status: 400, code: 'CORRUPT_IMAGE' },
  { name: 'image bytes over the cap', send: () => postJson(route, { url: `${imagesUrl}/large.jpg` }), status: 413, code: 'IMAGE_TOO_LARGE' },
  { name: 'request body over the cap', send: () => postJson(route, { img: HUGE.toString('base64') }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'long side over 4096 px', send: () => postJson(`${deniedServer.url}/face_detection`, { img: HUGE.toString('base64') }), status: 400, code: 'IMAGE_DIMENSIONS_TOO_LARGE' },
  { name: 'unsupported url scheme', send: () => postJson(route, { url: 'ftp://example.com/a.jpg' }), status: 400, code: 'INVALID_URL' },
  { name: 'url to the instance metadata address', send: () => postJson(route, { url: 'http://169.254.169.254/latest/meta-data/' }), status: 400, code: 'URL_FORBIDDEN' },
  { name: 'url not found', send: () => postJson(route, { url: `${imagesUrl}/missing.jpg` }), status: 400, code: 'URL_HTTP_ERROR' },
  { name: 'url unreachable (closed port)', send: () => postJson(route, { url: 'http://127.0.0.1:9/a.jpg' }), status: 400, code: 'URL_UNREACHABLE' },
  { name: 'S3 object missing', send: () => postJson(route, { url: `s3://${BUCKET}/people/missing.jpg` }), status: 404, code: 'S3_OBJECT_NOT_FOUND' },
  { name: 'S3 bucket not allowed', send: () => postJson(route, { url: 's3://not-allowed/portrait.jpg' }), status: 403, code: 'S3_BUCKET_NOT_ALLOWED' },
  { name: 'S3 access denied', send: () => postJson(`${deniedServer.url}/face_detection`, { url: `s3://${BUCKET}/people/portrait.jpg` }), status: 403, code: 'S3_ACCESS_DENIED' },
  { name: 'wrong method', send: async () => { const r = await fetch(route); const text = await r.text(); return { status: r.status, contentType: r.headers.get('content-type') ?? '', json: JSON.parse(text), text }; }, status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'unknown route', send: () => postJson(`${server.url}/face_detect`, { img: 'AAAA' }), status: 404, code: 'NOT_FOUND' },
];

describe('POST /face_detection: every bad request is a 4xx JSON error with a stable code', () => {
  test.each(ERROR_CASES)('$name → $status $code', async ({ send, status, code }) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.json).toEqual({ code, message: expect.any(String), requestId: expect.any(String) });
    expect(response.json.message.length).toBeGreaterThan(10);
    expect(response.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/); // no stack trace
  });

  test('the server logged one line per request, with no image bytes', () => {
    const logged = server.output();
    expect(logged).toContain('"message":"request"');
    expect(logged).not.toContain(PORTRAIT.toString('base64').slice(0, 64));
  });
});
