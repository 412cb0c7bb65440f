/**
 * The OpenAPI document's examples: one request per case, sent to a running local server, whose
 * answer is the example response. Used by `npm run openapi` (scripts/openapi.ts, writes
 * docs/openapi.json) and by test/integration/openapi.test.ts (the examples still are the answers).
 *
 * Images are never embedded: requests name an S3 object (`s3://facekit-examples/portrait.jpg`,
 * served by s3rver) or, where the API takes only http(s) URLs (Alibaba), EXAMPLE_IMAGE_URL, which
 * the sender points at a local image server and the answer is mapped back.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { OpenApiExample, OpenApiExamples } from '../lib/openapi.js';
import { EVAL_DIR, REPO_ROOT, startLocalServer, type LocalServer } from '../test/helpers/local-server.js';
import { startImageServer } from '../test/helpers/image-server.js';
import { startS3rver, type TestS3 } from '../test/helpers/s3rver.js';

export const OPENAPI_FILE = path.join(REPO_ROOT, 'docs/openapi.json');

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The file's exact text for a document (what `npm run openapi` writes). */
export function serializeDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export const EXAMPLE_BUCKET = 'facekit-examples';
export const EXAMPLE_KEY = 'portrait.jpg';
export const EXAMPLE_S3_URL = `s3://${EXAMPLE_BUCKET}/${EXAMPLE_KEY}`;
export const EXAMPLE_IMAGE_URL = 'https://images.example.com/portrait.jpg';
/** A portrait of the evaluation images (EVAL_DIR): read at run time, never copied into the repository. */
const EXAMPLE_IMAGE_FILE = path.join(EVAL_DIR, 'unlabeled/dlib_faces/Tom_Cruise_avp_2014_4.jpg');

export interface ExampleCase {
  readonly operationId: string;
  readonly name: string;
  readonly summary: string;
  readonly method: 'GET' | 'POST';
  /** Path with query string. */
  readonly path: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON value; for urlencoded forms an object of fields. */
  readonly body?: unknown;
}

const REKOGNITION_HEADERS = { 'x-amz-target': 'RekognitionService.DetectFaces' };

export const EXAMPLE_CASES: readonly ExampleCase[] = [
  { operationId: 'detectFaces', name: 'url', summary: 'An S3 object by URL', method: 'POST', path: '/face_detection', contentType: 'application/json', body: { url: EXAMPLE_S3_URL } },
  { operationId: 'detectFaces', name: 'missingImage', summary: 'Neither url nor img', method: 'POST', path: '/face_detection', contentType: 'application/json', body: {} },
  {
    operationId: 'faceppDetect', name: 'attributes', summary: 'image_url with gender, age and smile', method: 'POST', path: '/facepp/v3/detect',
    contentType: 'application/x-www-form-urlencoded', body: { api_key: 'your-key', api_secret: 'your-secret', image_url: EXAMPLE_S3_URL, return_attributes: 'gender,age,smiling' },
  },
  {
    operationId: 'faceppDetect', name: 'missingKey', summary: 'No api_key', method: 'POST', path: '/facepp/v3/detect',
    contentType: 'application/x-www-form-urlencoded', body: { image_url: EXAMPLE_S3_URL },
  },
  { operationId: 'youtuDetect', name: 'largestFace', summary: 'mode 1: the largest face', method: 'POST', path: '/face/detect', contentType: 'application/json', body: { appid: '123456', mode: 1, url: EXAMPLE_S3_URL } },
  { operationId: 'youtuDetect', name: 'noImage', summary: 'No url or image', method: 'POST', path: '/face/detect', contentType: 'application/json', body: { appid: '123456' } },
  { operationId: 'alibabaFaceDetect', name: 'url', summary: 'The documented request', method: 'POST', path: '/green/face/detect', contentType: 'application/json', body: { url: EXAMPLE_IMAGE_URL, dataId: 'photo-1' } },
  { operationId: 'alibabaFaceDetect', name: 'badUrl', summary: 'A URL that is not http(s)', method: 'POST', path: '/green/face/detect', contentType: 'application/json', body: { url: 'ftp://example.com/a.jpg' } },
  {
    operationId: 'rekognitionDetectFaces', name: 's3Object', summary: 'Image.S3Object with GENDER and SMILE', method: 'POST', path: '/rekognition',
    contentType: 'application/x-amz-json-1.1', headers: REKOGNITION_HEADERS, body: { Image: { S3Object: { Bucket: EXAMPLE_BUCKET, Name: EXAMPLE_KEY } }, Attributes: ['GENDER', 'SMILE'] },
  },
  {
    operationId: 'rekognitionDetectFaces', name: 'badAttribute', summary: 'An unknown attribute', method: 'POST', path: '/rekognition',
    contentType: 'application/x-amz-json-1.1', headers: REKOGNITION_HEADERS, body: { Image: { S3Object: { Bucket: EXAMPLE_BUCKET, Name: EXAMPLE_KEY } }, Attributes: ['HAT'] },
  },
  { operationId: 'ciDetectFace', name: 'detect', summary: 'COS\'s own path', method: 'GET', path: `/${EXAMPLE_KEY}?ci-process=DetectFace&max-face-num=2` },
  { operationId: 'ciDetectFace', name: 'noSuchKey', summary: 'An object that does not exist', method: 'GET', path: '/missing.jpg?ci-process=DetectFace' },
  { operationId: 'ciDetectFaceAlias', name: 'detect', summary: 'The /ci/ alias', method: 'GET', path: `/ci/${EXAMPLE_KEY}?ci-process=DetectFace` },
  { operationId: 'health', name: 'ok', summary: 'Models loaded', method: 'GET', path: '/health' },
];

/** Fields that differ on every answer (ids, timings): masked when answers are compared. */
export const VOLATILE_FIELDS = new Set(['requestId', 'RequestId', 'request_id', 'taskId', 'face_token', 'image_id', 'time_used', 'session_id', 'face_id']);

export function maskVolatile(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/<RequestId>[^<]*<\/RequestId>/g, '<RequestId>*</RequestId>');
  if (Array.isArray(value)) return value.map(maskVolatile);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, VOLATILE_FIELDS.has(key) ? '*' : maskVolatile(item)]));
  }
  return value;
}

function encodeBody(example: ExampleCase): string | undefined {
  if (example.body === undefined) return undefined;
  if (example.contentType === 'application/x-www-form-urlencoded') return new URLSearchParams(example.body as Record<string, string>).toString();
  return JSON.stringify(example.body);
}

/** Sends one example; `imagesBase` replaces EXAMPLE_IMAGE_URL's origin going out and is replaced back in the answer. */
export async function sendExample(serverUrl: string, example: ExampleCase, imagesBase: string): Promise<OpenApiExample['response']> {
  const exampleOrigin = new URL(EXAMPLE_IMAGE_URL).origin;
  const body = encodeBody(example)?.replaceAll(exampleOrigin, imagesBase);
  const response = await fetch(`${serverUrl}${example.path}`, {
    method: example.method,
    headers: { ...(example.contentType ? { 'content-type': example.contentType } : {}), ...example.headers },
    ...(body !== undefined ? { body } : {}),
  });
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const text = (await response.text()).replaceAll(imagesBase, exampleOrigin);
  return { status: response.status, contentType, body: contentType.includes('json') ? JSON.parse(text) : text };
}

export function toOpenApiExample(example: ExampleCase, response: OpenApiExample['response']): OpenApiExample {
  const query = Object.fromEntries(new URL(example.path, 'http://x').searchParams);
  return {
    summary: example.summary,
    request: {
      path: example.path.split('?')[0]!,
      ...(Object.keys(query).length > 0 ? { query } : {}),
      ...(example.contentType ? { contentType: example.contentType } : {}),
      ...(example.headers ? { headers: example.headers } : {}),
      ...(example.body !== undefined ? { body: example.body } : {}),
    },
    response,
  };
}

export interface ExampleEnvironment {
  readonly server: LocalServer;
  readonly imagesBase: string;
  stop(): Promise<void>;
}

/** The local server (built bundle) with the example bucket on s3rver and the example image on HTTP. */
export async function startExampleEnvironment(): Promise<ExampleEnvironment> {
  const image = readFileSync(EXAMPLE_IMAGE_FILE);
  const s3: TestS3 = await startS3rver([EXAMPLE_BUCKET]);
  await s3.put(EXAMPLE_BUCKET, EXAMPLE_KEY, image);
  const images = await startImageServer({ [new URL(EXAMPLE_IMAGE_URL).pathname]: image });
  const imagesBase = images.url;
  const server = await startLocalServer({
    FACEKIT_TEST_ALLOW_LOOPBACK: '1',
    FACEKIT_S3_ENDPOINT: s3.endpoint,
    FACEKIT_S3_BUCKETS: EXAMPLE_BUCKET,
    FACEKIT_CI_BUCKET: EXAMPLE_BUCKET,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  return {
    server,
    imagesBase,
    stop: async () => {
      await server.stop();
      await images.stop();
      await s3.stop();
    },
  };
}

/** Every example, sent one after another, grouped as lib/openapi.ts takes them. */
export async function captureExamples(environment: ExampleEnvironment): Promise<OpenApiExamples> {
  const examples: Record<string, Record<string, OpenApiExample>> = {};
  for (const example of EXAMPLE_CASES) {
    const response = await sendExample(environment.server.url, example, environment.imagesBase);
    (examples[example.operationId] ??= {})[example.name] = toOpenApiExample(example, response);
  }
  return examples;
}
