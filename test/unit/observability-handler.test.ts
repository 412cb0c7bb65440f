/**
 * The Lambda handler with its Powertools middlewares, in-process with the real models, on an API
 * Gateway REST proxy event (test/fixtures/events, the documented payload v1; API Gateway and
 * CloudWatch cannot run here, so the event is a fixture and the EMF blobs are read from stdout,
 * where Lambda's log agent would pick them up). X-Ray is not available: the Tracer must stay off.
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiGatewayProxyEvent, ApiGatewayProxyResult } from '../../lambda/handler.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(here, '../fixtures/events', name), 'utf8'));
const PORTRAIT = readFileSync(path.resolve(here, '../../../shared/eval/dev/landmarks68/helen/3181052163_1.jpg'));
const context = { ...fixture('lambda-context.json'), getRemainingTimeInMillis: () => 28_000 };

type Handler = (event: ApiGatewayProxyEvent, context: unknown) => Promise<ApiGatewayProxyResult>;
let handler: Handler;
let printed: string[] = [];

beforeAll(async () => {
  process.env.FACEKIT_THREADS = '1';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  // The handler must not log the event (it holds the image) even when asked to.
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
  // What Lambda sets for an on-demand instance: Powertools counts cold starts only then.
  process.env.AWS_LAMBDA_FUNCTION_NAME = context.functionName;
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  // Powertools prints through Console objects bound to process.stdout / stderr.
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => { printed.push(String(chunk)); return true; });
  }
  ({ handler } = (await import('../../lambda/handler.js')) as unknown as { handler: Handler });
}, 120_000);

afterAll(() => jest.restoreAllMocks());

async function invoke(body: unknown): Promise<{ result: ApiGatewayProxyResult; lines: any[] }> {
  printed = [];
  const event = { ...fixture('apigateway-rest-face-detection.json'), body: JSON.stringify(body) };
  const result = await handler(event, context);
  const lines = printed.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  return { result, lines };
}

const emfBlobs = (lines: any[]) => lines.filter((line) => line._aws?.CloudWatchMetrics);
const blobWith = (lines: any[], metric: string) => emfBlobs(lines).find((blob) => blob._aws.CloudWatchMetrics[0].Metrics.some((item: { Name: string }) => item.Name === metric));

test('a detection: one structured request line with the Lambda context, and the agreed EMF metrics', async () => {
  const { result, lines } = await invoke({ img: PORTRAIT.toString('base64') });
  expect(result.statusCode).toBe(200);
  expect(JSON.parse(result.body).Faces).toHaveLength(1);

  const requests = lines.filter((line) => line.message === 'request');
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    level: 'INFO',
    service: 'facekit',
    cold_start: true,
    function_name: context.functionName,
    function_request_id: context.awsRequestId,
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    method: 'POST',
    route: 'POST /face_detection',
    dialect: 'native',
    status: 200,
    faces: 1,
  });
  for (const stage of ['totalMs', 'fetchMs', 'decodeMs', 'detectMs', 'landmarksMs', 'genderAgeMs']) expect(typeof requests[0][stage]).toBe('number');
  expect(requests[0].detectMs).toBeGreaterThan(0);

  // The invocation's blob: latencies and faces, dimension service only.
  const main = blobWith(lines, 'RequestLatency');
  expect(main._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'facekit', Dimensions: [['service']] });
  const names = main._aws.CloudWatchMetrics[0].Metrics.map((item: { Name: string; Unit: string }) => `${item.Name}:${item.Unit}`).sort();
  expect(names).toEqual(['DecodeLatency:Milliseconds', 'DetectLatency:Milliseconds', 'FacesPerImage:Count', 'FetchLatency:Milliseconds', 'GenderAgeLatency:Milliseconds', 'LandmarksLatency:Milliseconds', 'RequestLatency:Milliseconds']);
  expect(main).toMatchObject({ service: 'facekit', FacesPerImage: 1, DetectLatency: requests[0].detectMs, RequestLatency: requests[0].totalMs });

  const counted = blobWith(lines, 'Requests');
  expect(counted._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['dialect', 'service', 'status']);
  expect(counted).toMatchObject({ Requests: 1, dialect: 'native', status: '2xx' });
  expect(blobWith(lines, 'Errors')).toBeUndefined();
  expect(blobWith(lines, 'ColdStart')).toMatchObject({ ColdStart: 1, function_name: context.functionName });

  // Never the image: no window of its base64 anywhere in what was printed.
  const base64 = PORTRAIT.toString('base64');
  for (let offset = 0; offset + 48 <= base64.length; offset += 4000) expect(printed.join('')).not.toContain(base64.slice(offset, offset + 48));
}, 120_000);

test('a refused request: status class 4xx, an Errors metric by error code, no second cold start', async () => {
  const { result, lines } = await invoke({ img: '!!not base64!!' });
  expect(result.statusCode).toBe(400);
  const request = lines.find((line) => line.message === 'request');
  expect(request).toMatchObject({ status: 400, errorCode: 'INVALID_BASE64', dialect: 'native', cold_start: false });
  expect(blobWith(lines, 'Requests')).toMatchObject({ Requests: 1, dialect: 'native', status: '4xx' });
  expect(blobWith(lines, 'Errors')).toMatchObject({ Errors: 1, errorCode: 'INVALID_BASE64' });
  expect(blobWith(lines, 'ColdStart')).toBeUndefined();
  // No faces and no stage ran: only the request's own latency.
  expect(blobWith(lines, 'RequestLatency')._aws.CloudWatchMetrics[0].Metrics.map((item: { Name: string }) => item.Name)).toEqual(['RequestLatency']);
  // Tracing is off here (no X-Ray): nothing about a missing segment was printed.
  expect(printed.join('')).not.toMatch(/segment|X-Ray/i);
}, 60_000);
