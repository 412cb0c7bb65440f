import { expressionFromSmile, YOUTU_NO_FACE_CODE, youtuDialect } from '../../lambda/api/youtu.js';
import { resolveRoute } from '../../lambda/router.js';
import type { HttpRequest } from '../../lambda/api/http.js';
import { FacekitError, type ErrorCode } from '../../lambda/errors.js';
import {
  ALL_ERROR_CODES,
  analysedFace,
  bareFace,
  bodyJson,
  FAKE_JPEG,
  jsonRequest,
  makeContext,
  makeRequest,
  makeResult,
  multipartRequest,
  refusal,
} from './dialect-fixtures.js';

const PATH = '/face/detect';
const context = makeContext();

function imageForm(fields: Record<string, string>, withImage = true): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (withImage) form.append('image', new Blob([FAKE_JPEG], { type: 'image/jpeg' }), 'test.jpg');
  return form;
}

async function youtuError(request: HttpRequest): Promise<{ status: number; body: any }> {
  const response = await refusal(youtuDialect, request, context);
  return { status: response.status, body: bodyJson(response) };
}

describe('Youtu dialect: parse', () => {
  it('serves POST /face/detect', () => {
    expect(resolveRoute({ method: 'POST', path: PATH, query: {}, headers: {} }).served?.route.dialect).toBe('youtu');
  });

  it('reads the documented JSON example (mode 1 = largest face only)', async () => {
    const parsed = await youtuDialect.parse(
      jsonRequest(PATH, { appid: '123456', mode: 1, url: 'http://test-123456.image.myqcloud.com/test.jpg' }),
      context,
    );
    expect(parsed.detect.image).toEqual({ kind: 'url', url: 'http://test-123456.image.myqcloud.com/test.jpg', field: 'url' });
    expect(parsed.detect.options.maxFaces).toBe(1);
    expect(parsed.state.mode).toBe(1);
  });

  it('asks the pipeline for gender/age, smile, glasses and head pose only', async () => {
    const parsed = await youtuDialect.parse(jsonRequest(PATH, { appid: '1', url: 'https://e.com/a.jpg' }), context);
    expect(parsed.detect.options.genderAge).toBe(true);
    expect(parsed.detect.options.landmarks106).toBe(false);
    expect([...parsed.detect.options.attributes].sort()).toEqual(['glasses', 'headPose', 'smile']);
    expect(parsed.detect.options.maxFaces).toBeUndefined();
    expect(parsed.state.mode).toBe(0);
  });

  it('reads the documented multipart example (appid, mode, image)', async () => {
    const parsed = await youtuDialect.parse(await multipartRequest(PATH, imageForm({ appid: '123456', mode: '1' })), context);
    expect(parsed.detect.image).toEqual({ kind: 'bytes', bytes: FAKE_JPEG, field: 'image' });
    expect(parsed.detect.options.maxFaces).toBe(1);
  });

  it('uses url when both url and image are given', async () => {
    const parsed = await youtuDialect.parse(await multipartRequest(PATH, imageForm({ appid: '1', url: 'https://e.com/a.jpg' })), context);
    expect(parsed.detect.image).toEqual({ kind: 'url', url: 'https://e.com/a.jpg', field: 'url' });
  });

  it.each([
    ['mode 2', { appid: '1', mode: 2, url: 'https://e.com/a.jpg' }, 400, 21],
    ['mode "x"', { appid: '1', mode: 'x', url: 'https://e.com/a.jpg' }, 400, 21],
    ['url not a string', { appid: '1', url: 5 }, 400, 21],
    ['no appid', { url: 'https://e.com/a.jpg' }, 400, -1301],
    ['no url', { appid: '1' }, 400, -1300],
  ])('rejects %s', async (_label, payload, status, code) => {
    const { status: actualStatus, body } = await youtuError(jsonRequest(PATH, payload));
    expect(actualStatus).toBe(status);
    expect(body.code).toBe(code);
    expect(typeof body.message).toBe('string');
  });

  it('rejects bad bodies with Youtu codes', async () => {
    expect((await youtuError(makeRequest({ path: PATH }))).body.code).toBe(-1301);
    const badJson = makeRequest({ path: PATH, headers: { 'content-type': 'application/json' }, body: Buffer.from('{') });
    expect(await youtuError(badJson)).toMatchObject({ status: 400, body: { code: 21 } });
    const form = makeRequest({ path: PATH, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('a=1') });
    expect(await youtuError(form)).toMatchObject({ status: 415, body: { code: 21 } });
    expect((await youtuError(await multipartRequest(PATH, imageForm({ appid: '1' }, false)))).body.code).toBe(-1300);
  });
});

describe('Youtu dialect: format', () => {
  it('returns the documented body with every FaceItem field in range', async () => {
    const parsed = await youtuDialect.parse(jsonRequest(PATH, { appid: '1', url: 'https://e.com/a.jpg' }), context);
    const response = youtuDialect.format(makeResult([analysedFace()], 200, 300), parsed, jsonRequest(PATH, {}), context);
    expect(response.status).toBe(200);
    const body = bodyJson(response);
    expect(body.code).toBe(0);
    expect(body.message).toBe('OK');
    expect(Object.keys(body.data).sort()).toEqual(['face', 'image_height', 'image_width', 'session_id']);
    expect(body.data.image_width).toBe(200);
    expect(body.data.image_height).toBe(300);
    expect(typeof body.data.session_id).toBe('string');
    const [face] = body.data.face;
    expect(face.face_id).toMatch(/^[1-9]\d{18}$/);
    expect(face).toMatchObject({
      x: 110,
      y: 201,
      width: 100.2,
      height: 120.7,
      gender: 12,
      age: 28,
      // smile 72.35 with threshold 50 → 50 + 22.35 / 50 · 50
      expression: 72,
      glass: true,
      // pitch 35.5 clamped to 30, yaw -12.35, roll -190 clamped to -180
      pitch: 30,
      yaw: -12,
      roll: -180,
    });
    expect(face.beauty).toBeUndefined();
    expect(Object.keys(face).sort()).toEqual(['age', 'expression', 'face_id', 'gender', 'glass', 'height', 'pitch', 'roll', 'width', 'x', 'y', 'yaw']);
  });

  it('maps smile intensity to the 0 / 50 / 100 expression scale', () => {
    expect(expressionFromSmile({ value: 0, threshold: 30 })).toBe(0);
    expect(expressionFromSmile({ value: 15, threshold: 30 })).toBe(25);
    expect(expressionFromSmile({ value: 30, threshold: 30 })).toBe(50);
    expect(expressionFromSmile({ value: 65, threshold: 30 })).toBe(75);
    expect(expressionFromSmile({ value: 100, threshold: 30 })).toBe(100);
  });

  it('reports glass false when no glasses is most likely, and leaves out what was not computed', async () => {
    const parsed = await youtuDialect.parse(jsonRequest(PATH, { appid: '1', url: 'https://e.com/a.jpg' }), context);
    const face = analysedFace({ attributes: { glasses: { none: 0.8, eyeglasses: 0.15, sunglasses: 0.05 } }, gender: undefined, age: undefined });
    const [item] = bodyJson(youtuDialect.format(makeResult([face]), parsed, jsonRequest(PATH, {}), context)).data.face;
    expect(item.glass).toBe(false);
    expect(Object.keys(item).sort()).toEqual(['face_id', 'glass', 'height', 'width', 'x', 'y']);
  });

  it('orders faces largest first and keeps one face in mode 1', async () => {
    const all = await youtuDialect.parse(jsonRequest(PATH, { appid: '1', url: 'https://e.com/a.jpg' }), context);
    const faces = [bareFace(0, 10), bareFace(100, 30), bareFace(200, 20)];
    const body = bodyJson(youtuDialect.format(makeResult(faces), all, jsonRequest(PATH, {}), context));
    expect(body.data.face.map((face: any) => face.width)).toEqual([30, 20, 10]);
    const largest = await youtuDialect.parse(jsonRequest(PATH, { appid: '1', mode: 1, url: 'https://e.com/a.jpg' }), context);
    expect(bodyJson(youtuDialect.format(makeResult(faces), largest, jsonRequest(PATH, {}), context)).data.face).toHaveLength(1);
  });

  it('answers -1101 (face detection failed) when no face is found', async () => {
    const parsed = await youtuDialect.parse(jsonRequest(PATH, { appid: '1', url: 'https://e.com/a.jpg' }), context);
    const response = youtuDialect.format(makeResult([]), parsed, jsonRequest(PATH, {}), context);
    expect(response.status).toBe(200);
    expect(bodyJson(response)).toEqual({ code: YOUTU_NO_FACE_CODE, message: expect.any(String) });
  });
});

describe('Youtu dialect: formatError', () => {
  const expected: Record<ErrorCode, [number, number]> = {
    MISSING_BODY: [400, -1301],
    INVALID_JSON: [400, 21],
    INVALID_ARGUMENT: [400, 21],
    MISSING_ARGUMENT: [400, -1301],
    MISSING_IMAGE: [400, -1300],
    CONFLICTING_IMAGE: [400, 21],
    INVALID_BASE64: [400, -1102],
    UNSUPPORTED_MEDIA_TYPE: [415, 21],
    PAYLOAD_TOO_LARGE: [413, 23],
    EMPTY_IMAGE: [400, -1300],
    UNSUPPORTED_FORMAT: [400, -1400],
    CORRUPT_IMAGE: [400, -1102],
    IMAGE_TOO_LARGE: [413, 23],
    IMAGE_DIMENSIONS_TOO_LARGE: [400, -1400],
    IMAGE_TOO_SMALL: [400, -1400],
    INVALID_URL: [400, 21],
    URL_FORBIDDEN: [400, -1308],
    URL_UNREACHABLE: [400, -1308],
    URL_HTTP_ERROR: [400, -1308],
    URL_TIMEOUT: [408, -1403],
    S3_BUCKET_NOT_ALLOWED: [400, -1308],
    S3_OBJECT_NOT_FOUND: [400, -1308],
    S3_ACCESS_DENIED: [400, -1308],
    S3_UNAVAILABLE: [502, -1403],
    NOT_FOUND: [404, 3],
    METHOD_NOT_ALLOWED: [405, 3],
    UNAUTHORIZED: [401, 14],
    OVERLOADED: [503, 15],
    INTERNAL_ERROR: [500, 213],
  };

  it('covers every neutral code', () => {
    expect(Object.keys(expected).sort()).toEqual([...ALL_ERROR_CODES].sort());
  });

  it.each(ALL_ERROR_CODES)('maps %s', (code) => {
    const response = youtuDialect.formatError(new FacekitError(code, 'detail'), jsonRequest(PATH, {}), context);
    expect(response.status).toBe(expected[code][0]);
    expect(bodyJson(response)).toEqual({ code: expected[code][1], message: 'detail' });
  });
});
