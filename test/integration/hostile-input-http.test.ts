/**
 * Hostile input over real HTTP against the running local server (the `npm start` bundle), through
 * every dialect and every image input form that carries bytes: the malformed-image corpus, oversized
 * and garbage base64, SSRF attempts (DNS-free), redirects to forbidden addresses, slow and endless
 * URL sources, s3:// to a bucket the deployment was not given, and the request log. Every test here
 * fails if the protection it names is removed (see docs/reliability.md).
 *
 * Two servers: `open` has the test-only loopback switch (FACEKIT_TEST_ALLOW_LOOPBACK=1) so it can
 * fetch from the local test servers; `strict` has not, like production. No traffic goes anywhere
 * but 127.0.0.1: the forbidden non-loopback addresses are refused before any connection.
 */
import { XMLParser } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { EVAL_DIR, REPO_ROOT, startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';
import {
  STACK_TRACE_PATTERN, call, multipart, postJsonTo, requestLogLines, startS3Proxy, startTestServer, urlEncoded,
  type Reply, type S3Proxy, type TestHttpServer,
} from '../helpers/hostile.js';

interface CorpusItem {
  readonly file: string;
  readonly bytes: number;
  readonly expect: string | { ok: [number, number] };
  readonly description: string;
}

const CORPUS_DIR = path.join(REPO_ROOT, 'test/fixtures/malformed');
const CORPUS: CorpusItem[] = JSON.parse(readFileSync(path.join(CORPUS_DIR, 'manifest.json'), 'utf8'));
const corpusBytes = (file: string): Buffer => readFileSync(path.join(CORPUS_DIR, file));
const HOSTILE = CORPUS.filter((item) => typeof item.expect === 'string');
const VALID = CORPUS.filter((item) => typeof item.expect !== 'string');

const FACE = readFileSync(path.join(EVAL_DIR, 'edge_cases/derived/maksssksksss288_tiny96.jpg'));
const PORTRAIT = readFileSync(path.join(EVAL_DIR, 'unlabeled/dlib_faces/Tom_Cruise_avp_2014_4.jpg'));

const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 1500;
const CI_BUCKET = 'facekit-ci';
const OTHER_BUCKET = 'not-allowed';
const FACEPP_CREDENTIALS = { api_key: 'k', api_secret: 's' };
const YOUTU_FIELDS = { appid: '1000', mode: '0' };

let s3: TestS3;
let s3Proxy: S3Proxy;
let open: LocalServer;
let strict: LocalServer;
/** Serves corpus items and the misbehaving sources for the `open` server. */
let sources: TestHttpServer;
/** Must never be contacted: the target of every loopback SSRF form. */
let canary: TestHttpServer;
/** Sockets of the endless source, to see that the fetcher closed them. */
const endless = { bytesSent: 0, closed: 0 };
/** Every request id a response carried, with its status, to check the log afterwards. */
const seen: Array<{ server: 'open' | 'strict'; requestId: string; status: number }> = [];

beforeAll(async () => {
  s3 = await startS3rver([CI_BUCKET, OTHER_BUCKET]);
  s3Proxy = await startS3Proxy(s3.endpoint);
  for (const item of CORPUS) await s3.put(CI_BUCKET, `corpus/${item.file}`, corpusBytes(item.file));
  await s3.put(CI_BUCKET, 'face.jpg', FACE);
  await s3.put(CI_BUCKET, 'too-large.bin', Buffer.alloc(MAX_IMAGE_BYTES + 1, 0xff));
  await s3.put(OTHER_BUCKET, 'face.jpg', FACE);

  canary = await startTestServer((_request, reply) => { reply.writeHead(200, { 'content-type': 'image/jpeg' }); reply.end(FACE); }, { alsoIpv6: true });
  sources = await startTestServer((request, reply) => {
    const url = request.url ?? '';
    if (url.startsWith('/corpus/')) {
      reply.writeHead(200, { 'content-type': 'application/octet-stream' });
      reply.end(corpusBytes(decodeURIComponent(url.slice('/corpus/'.length))));
    } else if (url === '/face.jpg') {
      reply.writeHead(200, { 'content-type': 'image/jpeg' });
      reply.end(FACE);
    } else if (url.startsWith('/redirect?to=')) {
      reply.writeHead(302, { location: decodeURIComponent(url.slice('/redirect?to='.length)) });
      reply.end();
    } else if (url === '/slow') {
      // Headers at once, then one byte a second: only the total timeout ends this.
      reply.writeHead(200, { 'content-type': 'image/jpeg' });
      reply.write(FACE.subarray(0, 10));
      const timer = setInterval(() => reply.write(Buffer.from([0])), 1000);
      reply.on('close', () => clearInterval(timer));
    } else if (url === '/endless') {
      reply.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024, 0xab);
      const pump = (): void => {
        while (!reply.destroyed && endless.bytesSent < 1024 * 1024 * 1024) {
          endless.bytesSent += chunk.length;
          if (!reply.write(chunk)) { reply.once('drain', pump); return; }
        }
      };
      reply.on('close', () => { endless.closed++; });
      pump();
    } else if (url === '/declared-huge') {
      reply.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50 * 1024 * 1024) });
      reply.write(FACE);
    } else {
      reply.writeHead(404);
      reply.end('not found');
    }
  });

  const common = {
    FACEKIT_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
    FACEKIT_FETCH_TIMEOUT_MS: String(FETCH_TIMEOUT_MS),
    FACEKIT_S3_ENDPOINT: s3Proxy.endpoint,
    FACEKIT_S3_BUCKETS: CI_BUCKET,
    FACEKIT_CI_BUCKET: CI_BUCKET,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  [open, strict] = await Promise.all([
    startLocalServer({ ...common, FACEKIT_TEST_ALLOW_LOOPBACK: '1' }),
    startLocalServer({ ...common, FACEKIT_TEST_ALLOW_LOOPBACK: '' }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([open?.stop(), strict?.stop()]);
  await Promise.all([s3Proxy?.close(), s3?.stop(), sources?.close(), canary?.close()]);
});

const xml = new XMLParser();

/** Records the request id for the log check and checks what every error must be. */
function remember(server: 'open' | 'strict', reply: Reply): Reply {
  seen.push({ server, requestId: reply.requestId, status: reply.status });
  return reply;
}

function expectCleanClientError(reply: Reply): void {
  expect(reply.status).toBeGreaterThanOrEqual(400);
  expect(reply.status).toBeLessThan(500);
  expect(reply.text).not.toMatch(STACK_TRACE_PATTERN);
  expect(reply.requestId).not.toBe('');
}

// ---------------------------------------------------------------------------------------------
// The dialects' error shapes, for the neutral codes of the corpus (from each dialect's reference).

type CorpusCode = 'EMPTY_IMAGE' | 'UNSUPPORTED_FORMAT' | 'CORRUPT_IMAGE' | 'IMAGE_DIMENSIONS_TOO_LARGE' | 'MISSING_IMAGE';

/** Face++ error_message prefixes (reference 001: "IMAGE_ERROR_UNSUPPORTED_FORMAT:<param>", ...). */
const FACEPP_MESSAGE: Record<CorpusCode, (field: string) => string> = {
  EMPTY_IMAGE: (field) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${field}`,
  UNSUPPORTED_FORMAT: (field) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${field}`,
  CORRUPT_IMAGE: (field) => `IMAGE_ERROR_UNSUPPORTED_FORMAT:${field}`,
  IMAGE_DIMENSIONS_TOO_LARGE: (field) => `INVALID_IMAGE_SIZE:${field}`,
  MISSING_IMAGE: () => 'MISSING_ARGUMENTS: image_url, image_file, image_base64',
};
/** Youtu codes (reference 003): -1300 image empty, -1400 illegal format, -1102 decode failed. */
const YOUTU_CODE: Record<CorpusCode, number> = {
  EMPTY_IMAGE: -1300, UNSUPPORTED_FORMAT: -1400, CORRUPT_IMAGE: -1102, IMAGE_DIMENSIONS_TOO_LARGE: -1400, MISSING_IMAGE: -1300,
};
/** Tencent CI error codes (reference 002). */
const CI_CODE: Record<CorpusCode, string> = {
  EMPTY_IMAGE: 'InvalidParameterValue.ImageEmpty',
  UNSUPPORTED_FORMAT: 'FailedOperation.ImageDecodeFailed',
  CORRUPT_IMAGE: 'FailedOperation.ImageDecodeFailed',
  IMAGE_DIMENSIONS_TOO_LARGE: 'FailedOperation.ImageResolutionExceed',
  MISSING_IMAGE: 'MissingParameter.ErrorParameterEmpty',
};
/** Alibaba: `code` is the HTTP status; msg starts with a short reason. */
const ALIBABA_MSG: Record<CorpusCode, string> = {
  EMPTY_IMAGE: 'BadFormat', UNSUPPORTED_FORMAT: 'BadFormat', CORRUPT_IMAGE: 'BadFormat', IMAGE_DIMENSIONS_TOO_LARGE: 'TooLarge', MISSING_IMAGE: 'InvalidParameter',
};

function expectNative(reply: Reply, code: string, status = 400): void {
  expectCleanClientError(reply);
  expect(reply.status).toBe(status);
  expect(reply.json).toEqual({ code, message: expect.any(String), requestId: reply.requestId });
}

function expectFacepp(reply: Reply, errorMessage: string, status = 400): void {
  expectCleanClientError(reply);
  expect(reply.status).toBe(status);
  expect(reply.json).toEqual({ time_used: expect.any(Number), error_message: errorMessage, request_id: expect.any(String) });
}

function expectYoutu(reply: Reply, code: number, status = 400): void {
  expectCleanClientError(reply);
  expect(reply.status).toBe(status);
  expect(reply.json).toEqual({ code, message: expect.any(String) });
}

function expectCi(reply: Reply, code: string, status = 400): void {
  expectCleanClientError(reply);
  expect(reply.status).toBe(status);
  expect(reply.contentType).toMatch(/^application\/xml/);
  const error = xml.parse(reply.text).Error;
  expect(error).toEqual({ Code: code, Message: expect.any(String), RequestId: reply.requestId });
}

function expectAlibaba(reply: Reply, status: number, msgPrefix: string): void {
  expectCleanClientError(reply);
  expect(reply.status).toBe(status);
  expect(reply.json).toMatchObject({ code: status, msg: expect.stringMatching(new RegExp(`^${msgPrefix}: `)), taskId: expect.any(String) });
}

// ---------------------------------------------------------------------------------------------
// Senders: one per dialect and image input form.

const sendNativeBase64 = (bytes: Buffer): Promise<Reply> => postJsonTo(`${open.url}/face_detection`, { img: bytes.toString('base64') }).then((r) => remember('open', r));
const sendFaceppFile = (bytes: Buffer): Promise<Reply> =>
  call(`${open.url}/facepp/v3/detect`, { method: 'POST', body: multipart(FACEPP_CREDENTIALS, { image_file: bytes }) }).then((r) => remember('open', r));
const sendFaceppBase64 = (bytes: Buffer): Promise<Reply> =>
  call(`${open.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ ...FACEPP_CREDENTIALS, image_base64: bytes.toString('base64') }) }).then((r) => remember('open', r));
const sendYoutuFile = (bytes: Buffer): Promise<Reply> =>
  call(`${open.url}/face/detect`, { method: 'POST', body: multipart(YOUTU_FIELDS, { image: bytes }) }).then((r) => remember('open', r));
const sendCi = (key: string): Promise<Reply> =>
  call(`${open.url}/ci/${encodeURIComponent(key).replace(/%2F/g, '/')}?ci-process=DetectFace`).then((r) => remember('open', r));
const sendAlibabaUrl = (url: string, server: LocalServer = open): Promise<Reply> =>
  postJsonTo(`${server.url}/green/face/detect`, { url, dataId: 'd1' }).then((r) => remember(server === open ? 'open' : 'strict', r));

/** Empty text fields count as absent in the base64 forms (the image is missing, not empty). */
const textFormCode = (code: CorpusCode): CorpusCode => (code === 'EMPTY_IMAGE' ? 'MISSING_IMAGE' : code);

describe('the malformed corpus through every dialect and byte-carrying input form: 4xx in the dialect shape', () => {
  test.each(HOSTILE)('native {"img": base64}: $file ($description)', async ({ file, expect: code }) => {
    const neutral = textFormCode(code as CorpusCode);
    expectNative(await sendNativeBase64(corpusBytes(file)), neutral);
  });

  test.each(HOSTILE)('Face++ multipart image_file: $file', async ({ file, expect: code }) => {
    expectFacepp(await sendFaceppFile(corpusBytes(file)), FACEPP_MESSAGE[code as CorpusCode]('image_file'));
  });

  test.each(HOSTILE)('Face++ form image_base64: $file', async ({ file, expect: code }) => {
    expectFacepp(await sendFaceppBase64(corpusBytes(file)), FACEPP_MESSAGE[textFormCode(code as CorpusCode)]('image_base64'));
  });

  test.each(HOSTILE)('Youtu multipart image: $file', async ({ file, expect: code }) => {
    expectYoutu(await sendYoutuFile(corpusBytes(file)), YOUTU_CODE[code as CorpusCode]);
  });

  test.each(HOSTILE)('Tencent CI object in the bucket (S3): $file', async ({ file, expect: code }) => {
    expectCi(await sendCi(`corpus/${file}`), CI_CODE[code as CorpusCode]);
  });

  test.each(HOSTILE)('Alibaba url served by a local server: $file', async ({ file, expect: code }) => {
    expectAlibaba(await sendAlibabaUrl(`${sources.url}/corpus/${file}`), 400, ALIBABA_MSG[code as CorpusCode]);
  });

  test.each(VALID)('the valid $file ($description) succeeds in every dialect', async ({ file }) => {
    const bytes = corpusBytes(file);
    const replies = [
      await sendNativeBase64(bytes), await sendFaceppFile(bytes), await sendFaceppBase64(bytes),
      await sendYoutuFile(bytes), await sendCi(`corpus/${file}`), await sendAlibabaUrl(`${sources.url}/corpus/${file}`),
    ];
    for (const reply of replies) expect(reply.status).toBe(200);
  });

  test('the 64-megapixel bomb PNG is refused from its header, in under a second, in every dialect', async () => {
    const bomb = corpusBytes('bomb-64mp.png');
    const replies = [
      await sendNativeBase64(bomb), await sendFaceppFile(bomb), await sendFaceppBase64(bomb),
      await sendYoutuFile(bomb), await sendCi('corpus/bomb-64mp.png'), await sendAlibabaUrl(`${sources.url}/corpus/bomb-64mp.png`),
    ];
    for (const reply of replies) {
      expectCleanClientError(reply);
      expect(reply.ms).toBeLessThan(1000);
    }
    expect(open.process.exitCode).toBeNull();
  });
});

describe('oversized, garbage and non-image payloads', () => {
  /** Decodes to more than the cap, but the request body itself is under the router's body cap. */
  const overCapBase64 = Buffer.alloc(MAX_IMAGE_BYTES + 3000, 0x41).toString('base64');
  /** Far over the body cap: the server stops reading and answers 413. */
  const hugeBody = 'A'.repeat(4 * MAX_IMAGE_BYTES);
  const garbage = `${FACE.toString('base64').slice(0, 400)}!!<script>**${FACE.toString('base64').slice(400)}`;
  const text = Buffer.from('hello, this is not an image at all\n');

  test('native: base64 over the image cap → 413 IMAGE_TOO_LARGE; a body over the body cap → 413 PAYLOAD_TOO_LARGE', async () => {
    expectNative(await postJsonTo(`${open.url}/face_detection`, { img: overCapBase64 }).then((r) => remember('open', r)), 'IMAGE_TOO_LARGE', 413);
    expectNative(await postJsonTo(`${open.url}/face_detection`, { img: hugeBody }).then((r) => remember('open', r)), 'PAYLOAD_TOO_LARGE', 413);
  });

  test('native: garbage characters in base64 → 400 INVALID_BASE64; text → 400 UNSUPPORTED_FORMAT', async () => {
    expectNative(await postJsonTo(`${open.url}/face_detection`, { img: garbage }).then((r) => remember('open', r)), 'INVALID_BASE64');
    expectNative(await sendNativeBase64(text), 'UNSUPPORTED_FORMAT');
  });

  test('Face++: image_base64 over the cap → 400 IMAGE_FILE_TOO_LARGE:image_base64; image_file over the cap → IMAGE_FILE_TOO_LARGE:image_file; a body over the body cap → 413 plain text', async () => {
    const form = (fields: Record<string, string>): Promise<Reply> =>
      call(`${open.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ ...FACEPP_CREDENTIALS, ...fields }) }).then((r) => remember('open', r));
    expectFacepp(await form({ image_base64: overCapBase64 }), 'IMAGE_FILE_TOO_LARGE:image_base64');
    expectFacepp(await sendFaceppFile(Buffer.alloc(MAX_IMAGE_BYTES + 1, 0xff)), 'IMAGE_FILE_TOO_LARGE:image_file');
    const huge = await form({ image_base64: hugeBody });
    expectCleanClientError(huge);
    expect(huge.status).toBe(413);
    expect(huge.text).toBe('Request Entity Too Large');
  });

  test('Face++: garbage base64 → 400 IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64; text → the same', async () => {
    const reply = await call(`${open.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ ...FACEPP_CREDENTIALS, image_base64: garbage }) });
    expectFacepp(remember('open', reply), 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64');
    // Face++ has one message for bad base64 and bad images: the log says which it was.
    expect(await loggedErrorCode(open, reply)).toBe('INVALID_BASE64');
    expectFacepp(await sendFaceppBase64(text), 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64');
  });

  test('Youtu: an image over the cap → 413 code 23 (request body too large); text → -1400', async () => {
    expectYoutu(await sendYoutuFile(Buffer.alloc(MAX_IMAGE_BYTES + 1, 0xff)), 23, 413);
    expectYoutu(await sendYoutuFile(text), -1400);
  });

  test('Tencent CI: an object over the cap → 400 FailedOperation.ImageSizeExceed', async () => {
    expectCi(await sendCi('too-large.bin'), 'FailedOperation.ImageSizeExceed');
  });

  test('Alibaba: an endless body is cut at the byte cap (413 TooLarge) and its socket closed', async () => {
    const reply = await sendAlibabaUrl(`${sources.url}/endless`);
    expectAlibaba(reply, 413, 'TooLarge');
    await waitFor(() => endless.closed >= 1);
    // The fetcher read at most the cap; the rest is what the kernel buffers held when it closed.
    expect(endless.bytesSent).toBeLessThan(MAX_IMAGE_BYTES + 16 * 1024 * 1024);
  });

  test('native: a declared Content-Length over the cap is refused before the body (413 IMAGE_TOO_LARGE)', async () => {
    expectNative(await postJsonTo(`${open.url}/face_detection`, { url: `${sources.url}/declared-huge` }).then((r) => remember('open', r)), 'IMAGE_TOO_LARGE', 413);
  });

  test('native and Face++: an endless body is cut at the byte cap too', async () => {
    const before = endless.closed;
    expectNative(await postJsonTo(`${open.url}/face_detection`, { url: `${sources.url}/endless` }).then((r) => remember('open', r)), 'IMAGE_TOO_LARGE', 413);
    const facepp = await call(`${open.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ ...FACEPP_CREDENTIALS, image_url: `${sources.url}/endless` }) });
    expectFacepp(remember('open', facepp), 'IMAGE_FILE_TOO_LARGE:image_url');
    await waitFor(() => endless.closed >= before + 2);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---------------------------------------------------------------------------------------------
// SSRF

/** Every URL-taking dialect on a server, with the dialect's "invalid URL" expectation. */
interface UrlDialect {
  readonly name: string;
  send(server: LocalServer, url: string): Promise<Reply>;
  /** `neutral`: the image layer's code (INVALID_URL for a bad scheme, URL_FORBIDDEN for an address). */
  check(reply: Reply, neutral: 'INVALID_URL' | 'URL_FORBIDDEN' | 'URL_TIMEOUT'): void;
}

const serverName = (server: LocalServer): 'open' | 'strict' => (server === open ? 'open' : 'strict');

const URL_DIALECTS: UrlDialect[] = [
  {
    name: 'native url',
    send: (server, url) => postJsonTo(`${server.url}/face_detection`, { url }).then((r) => remember(serverName(server), r)),
    check: (reply, neutral) => expectNative(reply, neutral, neutral === 'URL_TIMEOUT' ? 408 : 400),
  },
  {
    name: 'Face++ image_url',
    send: (server, url) =>
      call(`${server.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ ...FACEPP_CREDENTIALS, image_url: url }) }).then((r) => remember(serverName(server), r)),
    check: (reply, neutral) =>
      neutral === 'URL_TIMEOUT' ? expectFacepp(reply, 'IMAGE_DOWNLOAD_TIMEOUT', 412) : expectFacepp(reply, 'INVALID_IMAGE_URL'),
  },
  {
    name: 'Youtu JSON url',
    send: (server, url) => postJsonTo(`${server.url}/face/detect`, { appid: '1000', mode: 0, url }).then((r) => remember(serverName(server), r)),
    // 21 invalid parameter (not an http URL), -1308 url image download failed, -1403 download failed (timeout).
    check: (reply, neutral) => expectYoutu(reply, { INVALID_URL: 21, URL_FORBIDDEN: -1308, URL_TIMEOUT: -1403 }[neutral], neutral === 'URL_TIMEOUT' ? 408 : 400),
  },
  {
    name: 'Alibaba url',
    send: (server, url) => sendAlibabaUrl(url, server),
    check: (reply, neutral) =>
      neutral === 'URL_FORBIDDEN' ? expectAlibaba(reply, 403, 'Forbidden')
        : neutral === 'URL_TIMEOUT' ? expectAlibaba(reply, 408, 'DownloadTimeout')
          : expectAlibaba(reply, 400, 'InvalidParameter'),
  },
];

/**
 * The neutral code the server logged for a reply (the router logs errorCode with the request id).
 * The line travels through the child's stdout pipe, so it may arrive just after the response.
 */
async function loggedErrorCode(server: LocalServer, reply: Reply): Promise<string | undefined> {
  const line = (): any => requestLogLines(server.output()).get(reply.requestId)?.[0];
  const deadline = Date.now() + 2000;
  while (!line() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return line()?.errorCode;
}

describe('SSRF: forbidden URL forms are refused by every URL-taking dialect, before any connection', () => {
  /** Loopback in every spelling, aimed at the canary's port: it would answer with a real face. */
  const loopbackForms = (): string[] => [
    `http://127.0.0.1:${canary.port}/face.jpg`,
    `http://2130706433:${canary.port}/face.jpg`,
    `http://0177.0.0.1:${canary.port}/face.jpg`,
    `http://0x7f.1:${canary.port}/face.jpg`,
    `http://127.1:${canary.port}/face.jpg`,
    `http://[::1]:${canary.port}/face.jpg`,
    `http://[::ffff:127.0.0.1]:${canary.port}/face.jpg`,
    `http://[::ffff:7f00:1]:${canary.port}/face.jpg`,
    `http://0.0.0.0:${canary.port}/face.jpg`,
    `http://localhost:${canary.port}/face.jpg`,
  ];
  /** Private, link-local, metadata, CGNAT, ULA, multicast...: refused from the literal address. */
  const otherForms = [
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://10.0.0.1/',
    'http://192.168.1.1/',
    'http://172.16.0.1/',
    'http://100.64.0.1/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://0/',
  ];
  const badSchemes = (): string[] => ['file:///etc/passwd', `gopher://127.0.0.1:${canary.port}/_GET%20/`, `ftp://127.0.0.1:${canary.port}/a.jpg`, 'dict://127.0.0.1:11211/stat', 'javascript:alert(1)'];

  for (const dialect of URL_DIALECTS) {
    test(`${dialect.name}: loopback in every spelling (server without the loopback switch)`, async () => {
      for (const url of loopbackForms()) {
        const reply = await dialect.send(strict, url);
        dialect.check(reply, 'URL_FORBIDDEN');
        expect([url, await loggedErrorCode(strict, reply)]).toEqual([url, 'URL_FORBIDDEN']);
      }
      expect(canary.connections()).toBe(0);
    });

    test(`${dialect.name}: private, link-local, metadata, CGNAT, ULA, multicast addresses`, async () => {
      for (const url of otherForms) {
        const reply = await dialect.send(strict, url);
        dialect.check(reply, 'URL_FORBIDDEN');
        expect([url, await loggedErrorCode(strict, reply)]).toEqual([url, 'URL_FORBIDDEN']);
        // Refused from the address itself: no connect attempt (that would take the connect timeout or fail otherwise).
        expect(reply.ms).toBeLessThan(1000);
      }
    });

    test(`${dialect.name}: schemes other than http and https`, async () => {
      for (const url of badSchemes()) {
        const reply = await dialect.send(strict, url);
        dialect.check(reply, 'INVALID_URL');
        expect([url, await loggedErrorCode(strict, reply)]).toEqual([url, 'INVALID_URL']);
      }
      expect(canary.connections()).toBe(0);
    });

    test(`${dialect.name}: a redirect from an allowed server to a forbidden address is refused (loopback switch on)`, async () => {
      // 0.0.0.0 reaches this host: without the re-check the canary would see a connection.
      const targets = ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'http://[fd00::1]/', 'file:///etc/passwd', `http://0.0.0.0:${canary.port}/face.jpg`];
      for (const target of targets) {
        const reply = await dialect.send(open, `${sources.url}/redirect?to=${encodeURIComponent(target)}`);
        dialect.check(reply, 'URL_FORBIDDEN');
        expect([target, await loggedErrorCode(open, reply)]).toEqual([target, 'URL_FORBIDDEN']);
      }
      expect(canary.connections()).toBe(0);
      // Control: the same redirect to an allowed address is followed.
      const followed = await dialect.send(open, `${sources.url}/redirect?to=${encodeURIComponent(`${sources.url}/face.jpg`)}`);
      expect(followed.status).toBe(200);
    });

    test(`${dialect.name}: a slow source times out after FACEKIT_FETCH_TIMEOUT_MS`, async () => {
      const reply = await dialect.send(open, `${sources.url}/slow`);
      dialect.check(reply, 'URL_TIMEOUT');
      expect(reply.ms).toBeGreaterThanOrEqual(FETCH_TIMEOUT_MS - 100);
      expect(reply.ms).toBeLessThan(FETCH_TIMEOUT_MS + 2000);
    });
  }

  test('control: with the loopback switch on, the canary is reachable (so the refusals above are the policy)', async () => {
    const reply = await postJsonTo(`${open.url}/face_detection`, { url: `http://127.0.0.1:${canary.port}/face.jpg` });
    remember('open', reply);
    expect(reply.status).toBe(200);
    expect(canary.connections()).toBe(1);
  });
});

describe('s3:// to a bucket the deployment was not given is refused before any S3 call', () => {
  const sends: Array<[string, (url: string) => Promise<Reply>, (reply: Reply) => void]> = [
    ['native url', (url) => postJsonTo(`${strict.url}/face_detection`, { url }).then((r) => remember('strict', r)), (reply) => expectNative(reply, 'S3_BUCKET_NOT_ALLOWED', 403)],
    ['Face++ image_url', (url) => call(`${strict.url}/facepp/v3/detect`, { method: 'POST', body: urlEncoded({ ...FACEPP_CREDENTIALS, image_url: url }) }).then((r) => remember('strict', r)), (reply) => expectFacepp(reply, 'INVALID_IMAGE_URL')],
    ['Youtu url', (url) => postJsonTo(`${strict.url}/face/detect`, { appid: '1000', url }).then((r) => remember('strict', r)), (reply) => expectYoutu(reply, -1308)],
  ];

  test.each(sends)('%s', async (_name, send, check) => {
    const before = s3Proxy.requests.length;
    const reply = await send(`s3://${OTHER_BUCKET}/face.jpg`);
    check(reply);
    expect(await loggedErrorCode(strict, reply)).toBe('S3_BUCKET_NOT_ALLOWED');
    expect(s3Proxy.requests.slice(before)).toEqual([]);
    // Control: the allowed bucket goes through the same proxy.
    const allowed = await send(`s3://${CI_BUCKET}/face.jpg`);
    expect(allowed.status).toBe(200);
    expect(s3Proxy.requests.slice(before).some((line) => line.startsWith(`GET /${CI_BUCKET}/face.jpg`))).toBe(true);
    expect(s3Proxy.requests.some((line) => line.includes(`/${OTHER_BUCKET}`))).toBe(false);
  });
});

/**
 * Keys with `.`/`..` segments would let a path-style endpoint (FACEKIT_S3_ENDPOINT) normalise
 * `GET /facekit-ci/../not-allowed/face.jpg` into another bucket, past the allow-list. parseS3Url
 * refuses such keys (INVALID_URL), and the CI route decodes its key exactly once.
 */
describe('s3:// dot segments cannot leave the allowed bucket', () => {
  const escapes: Array<[string, () => Promise<Reply>]> = [
    ['native s3://facekit-ci/../not-allowed/face.jpg', () => postJsonTo(`${strict.url}/face_detection`, { url: `s3://${CI_BUCKET}/../${OTHER_BUCKET}/face.jpg` })],
    ['native s3://facekit-ci/..%2fnot-allowed%2fface.jpg', () => postJsonTo(`${strict.url}/face_detection`, { url: `s3://${CI_BUCKET}/..%2f${OTHER_BUCKET}%2fface.jpg` })],
    ['Tencent CI /ci/..%2fnot-allowed%2fface.jpg', () => call(`${strict.url}/ci/..%2f${OTHER_BUCKET}%2fface.jpg?ci-process=DetectFace`)],
    ['Tencent CI /ci/%252e%252e%252fnot-allowed%252fface.jpg (double-encoded)', () => call(`${strict.url}/ci/%252e%252e%252f${OTHER_BUCKET}%252fface.jpg?ci-process=DetectFace`)],
  ];

  test.each(escapes)('%s is refused and never reaches the other bucket', async (_name, send) => {
    const reply = await send();
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(s3Proxy.requests.some((line) => line.includes(`/${OTHER_BUCKET}/`))).toBe(false);
  });
});

describe('afterwards', () => {
  test('both servers are alive and still serve a real face', async () => {
    for (const server of [open, strict]) {
      expect(server.process.exitCode).toBeNull();
      const reply = await postJsonTo(`${server.url}/face_detection`, { img: PORTRAIT.toString('base64') });
      remember(server === open ? 'open' : 'strict', reply);
      expect(reply.status).toBe(200);
      expect(reply.json.Faces).toHaveLength(1);
    }
  });

  test('one log line per request (id, route, status, timings) and never image bytes or base64', async () => {
    // The last lines may still be in the children's stdout pipes.
    await waitFor(() => seen.every(({ server, requestId }) => (server === 'open' ? open : strict).output().includes(requestId)), 3000).catch(() => undefined);
    const logs = { open: requestLogLines(open.output()), strict: requestLogLines(strict.output()) };
    expect(seen.length).toBeGreaterThan(300);
    for (const { server, requestId, status } of seen) {
      const lines = logs[server].get(requestId) ?? [];
      expect([requestId, lines.length]).toEqual([requestId, 1]);
      expect(lines[0]).toMatchObject({ level: 'INFO', message: 'request', requestId, route: expect.any(String), status, totalMs: expect.any(Number) });
    }
    // No base64 of anything sent (48-character windows of it).
    const output = open.output() + strict.output();
    const samples = [corpusBytes('bad-ihdr-crc.png'), corpusBytes('truncated.png'), corpusBytes('jpeg-magic-random.jpg'), FACE, PORTRAIT];
    for (const bytes of samples) {
      const base64 = bytes.toString('base64');
      for (let offset = 0; offset + 48 <= Math.min(base64.length, 4000); offset += 500) {
        expect(output).not.toContain(base64.slice(offset, offset + 48));
      }
    }
    expect(output).not.toContain('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(output).not.toMatch(/"level":"error"/);
  });
});
