/**
 * Faults of the image sources, over real HTTP against the running local server (the `npm start`
 * bundle): S3 dropping the connection mid-body, stalling mid-body, refusing connections and being
 * stopped; a URL source dropping the connection mid-body. Each gives a documented error (S3:
 * S3_UNAVAILABLE 502, or URL_TIMEOUT 408 when our deadline fires; URL: URL_UNREACHABLE 400) in the dialect's shape within
 * the fetch timeout, never a hang or a crash, and the NEXT request works. S3 sits behind a fault-injecting proxy (127.0.0.1).
 * (A missing or corrupt model at start is covered by cli-and-startup.test.ts.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { EVAL_DIR, startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';
import {
  STACK_TRACE_PATTERN, call, postJsonTo, requestLogLines, startS3Proxy, startTestServer, urlEncoded,
  type Reply, type S3Proxy, type TestHttpServer,
} from '../helpers/hostile.js';

const PORTRAIT = readFileSync(path.join(EVAL_DIR, 'unlabeled/dlib_faces/Tom_Cruise_avp_2014_4.jpg'));
const BUCKET = 'facekit-images';
const FETCH_TIMEOUT_MS = 2000;

let s3: TestS3;
let s3Proxy: S3Proxy;
let server: LocalServer;
let source: TestHttpServer;
let s3Stopped = false;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  await s3.put(BUCKET, 'portrait.jpg', PORTRAIT);
  s3Proxy = await startS3Proxy(s3.endpoint);
  source = await startTestServer((request, reply) => {
    if (request.url === '/portrait.jpg') {
      reply.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(PORTRAIT.length) });
      reply.end(PORTRAIT);
    } else if (request.url === '/drop-with-length') {
      // Announces the whole image, sends a third, then drops the connection.
      reply.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(PORTRAIT.length) });
      reply.write(PORTRAIT.subarray(0, Math.floor(PORTRAIT.length / 3)));
      setTimeout(() => request.socket.destroy(), 50);
    } else if (request.url === '/drop-chunked') {
      reply.writeHead(200, { 'content-type': 'image/jpeg' });
      reply.write(PORTRAIT.subarray(0, Math.floor(PORTRAIT.length / 3)));
      setTimeout(() => request.socket.destroy(), 50);
    } else {
      reply.writeHead(404);
      reply.end();
    }
  });
  server = await startLocalServer({
    FACEKIT_TEST_ALLOW_LOOPBACK: '1',
    FACEKIT_FETCH_TIMEOUT_MS: String(FETCH_TIMEOUT_MS),
    FACEKIT_S3_ENDPOINT: s3Proxy.endpoint,
    FACEKIT_S3_BUCKETS: BUCKET,
    FACEKIT_CI_BUCKET: BUCKET,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([s3Stopped ? undefined : s3Proxy?.close(), s3Stopped ? undefined : s3?.stop(), source?.close()]);
});

const nativeUrl = (url: string): Promise<Reply> => postJsonTo(`${server.url}/face_detection`, { url });
const ci = (key: string): Promise<Reply> => call(`${server.url}/ci/${key}?ci-process=DetectFace`);
const youtuUrl = (url: string): Promise<Reply> => postJsonTo(`${server.url}/face/detect`, { appid: '1000', url });
const faceppUrl = (url: string): Promise<Reply> =>
  call(`${server.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ api_key: 'k', api_secret: 's', image_url: url }) });
const alibabaUrl = (url: string): Promise<Reply> => postJsonTo(`${server.url}/green/face/detect`, { url });

function expectNoTrace(reply: Reply): void {
  expect(reply.text).not.toMatch(STACK_TRACE_PATTERN);
}

/** The logged neutral code; the line travels through the child's stdout pipe, so wait for it a little. */
async function loggedCode(reply: Reply): Promise<string | undefined> {
  const line = (): any => requestLogLines(server.output()).get(reply.requestId)?.[0];
  const deadline = Date.now() + 2000;
  while (!line() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return line()?.errorCode;
}

async function expectServesAFace(): Promise<void> {
  const reply = await postJsonTo(`${server.url}/face_detection`, { img: PORTRAIT.toString('base64') });
  expect(reply.status).toBe(200);
  expect(reply.json.Faces).toHaveLength(1);
}

const S3_URL = `s3://${BUCKET}/portrait.jpg`;

describe('S3 faults', () => {
  test('baseline: the object reads through the proxy', async () => {
    expect((await nativeUrl(S3_URL)).status).toBe(200);
    expect((await ci('portrait.jpg')).status).toBe(200);
  });

  test('S3 drops the connection mid-body → S3_UNAVAILABLE (native 502, Youtu 502 -1403, CI 503); the next request works', async () => {
    s3Proxy.setFault('drop-mid-body', '/portrait.jpg');
    const native = await nativeUrl(S3_URL);
    expect(native.status).toBe(502);
    expect(native.json).toEqual({ code: 'S3_UNAVAILABLE', message: expect.any(String), requestId: native.requestId });
    expectNoTrace(native);
    const youtu = await youtuUrl(S3_URL);
    expect([youtu.status, youtu.json.code]).toEqual([502, -1403]);
    const tencent = await ci('portrait.jpg');
    expect(tencent.status).toBe(503);
    expect(tencent.text).toContain('<Code>FailedOperation.ImageDownloadError</Code>');
    expect(await loggedCode(tencent)).toBe('S3_UNAVAILABLE');
    const facepp = await faceppUrl(S3_URL);
    expect([facepp.status, facepp.json.error_message]).toEqual([400, 'INVALID_IMAGE_URL']);

    s3Proxy.setFault('none');
    expect((await nativeUrl(S3_URL)).status).toBe(200);
    expect((await ci('portrait.jpg')).status).toBe(200);
  });

  /**
   * A stall is cut by our own deadline → URL_TIMEOUT 408; a reset connection is an outage →
   * S3_UNAVAILABLE 502 (the AWS SDK names a reset "TimeoutError"; s3.ts looks at the cause).
   */
  test('S3 stalls mid-body → cut by the fetch timeout: 408 URL_TIMEOUT; the next request works', async () => {
    s3Proxy.setFault('stall-mid-body', '/portrait.jpg');
    const native = await nativeUrl(S3_URL);
    expect([native.status, native.json.code]).toEqual([408, 'URL_TIMEOUT']);
    expect(native.ms).toBeGreaterThanOrEqual(FETCH_TIMEOUT_MS - 100);
    expect(native.ms).toBeLessThan(FETCH_TIMEOUT_MS + 2000);
    expectNoTrace(native);
    s3Proxy.setFault('none');
    expect((await nativeUrl(S3_URL)).status).toBe(200);
  });

  test('S3 resets every connection → 502 S3_UNAVAILABLE, quickly; the next request works', async () => {
    s3Proxy.setFault('refuse');
    const native = await nativeUrl(S3_URL);
    expect([native.status, native.json.code]).toEqual([502, 'S3_UNAVAILABLE']);
    expect(native.ms).toBeLessThan(FETCH_TIMEOUT_MS + 2000);
    expectNoTrace(native);
    const tencent = await ci('portrait.jpg');
    expect(tencent.status).toBe(503);
    s3Proxy.setFault('none');
    expect((await nativeUrl(S3_URL)).status).toBe(200);
  });

  test('S3 down (s3rver stopped, nothing listens on the endpoint) → S3_UNAVAILABLE 502 (CI 503); a base64 request right after works', async () => {
    await s3.stop();
    await s3Proxy.close();
    s3Stopped = true;
    const native = await nativeUrl(S3_URL);
    expect(native.status).toBe(502);
    expect(native.json.code).toBe('S3_UNAVAILABLE');
    const tencent = await ci('portrait.jpg');
    expect(tencent.status).toBe(503);
    expect(await loggedCode(tencent)).toBe('S3_UNAVAILABLE');
    await expectServesAFace();
  });
});

describe('URL source faults', () => {
  test.each(['/drop-with-length', '/drop-chunked'])('%s: the source drops the connection mid-body → 4xx URL_UNREACHABLE in every URL dialect; the next request works', async (route) => {
    const url = `${source.url}${route}`;
    const native = await nativeUrl(url);
    expect(native.status).toBe(400);
    expect(native.json.code).toBe('URL_UNREACHABLE');
    expectNoTrace(native);
    const facepp = await faceppUrl(url);
    expect([facepp.status, facepp.json.error_message]).toEqual([400, 'INVALID_IMAGE_URL']);
    const youtu = await youtuUrl(url);
    expect([youtu.status, youtu.json.code]).toEqual([400, -1308]);
    const alibaba = await alibabaUrl(url);
    expect([alibaba.status, alibaba.json.code]).toEqual([400, 400]);
    expect(alibaba.json.msg).toMatch(/^DownloadFailed: /);
    for (const reply of [facepp, youtu, alibaba]) expect(await loggedCode(reply)).toBe('URL_UNREACHABLE');

    expect((await nativeUrl(`${source.url}/portrait.jpg`)).status).toBe(200);
    await expectServesAFace();
  });

  test('the server is alive and logged no unhandled error', () => {
    expect(server.process.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/"level":"error"/i);
  });
});
