import { ALIBABA_MAX_URL_LENGTH, alibabaDialect, isQualified } from '../../lambda/api/alibaba.js';
import { resolveRoute } from '../../lambda/router.js';
import type { HttpRequest } from '../../lambda/api/http.js';
import { FacekitError, type ErrorCode } from '../../lambda/errors.js';
import type { FaceAttributes } from '../../lambda/vision/types.js';
import { ALL_ERROR_CODES, analysedFace, bareFace, bodyJson, jsonRequest, makeContext, makeRequest, makeResult, refusal } from './dialect-fixtures.js';

const PATH = '/green/face/detect';
const context = makeContext();
const EXAMPLE = { bizType: 'abc', dataId: 'test2NInmO$tAON6qYUrtCRgLo-1mwxdi', url: 'http://example.com/face1.jpeg' };

async function alibabaError(request: HttpRequest): Promise<{ status: number; body: any }> {
  const response = await refusal(alibabaDialect, request, context);
  return { status: response.status, body: bodyJson(response) };
}

describe('Alibaba dialect: parse', () => {
  it('serves POST /green/face/detect', () => {
    expect(resolveRoute({ method: 'POST', path: PATH, query: {}, headers: {} }).served?.route.dialect).toBe('alibaba');
  });

  it('reads the documented example and asks for exactly the attributes it returns', async () => {
    const parsed = await alibabaDialect.parse(jsonRequest(PATH, EXAMPLE), context);
    expect(parsed.detect.image).toEqual({ kind: 'url', url: EXAMPLE.url, field: 'url' });
    expect(parsed.detect.options.genderAge).toBe(false);
    expect(parsed.detect.options.landmarks106).toBe(false);
    expect([...parsed.detect.options.attributes].sort()).toEqual(['blur', 'glasses', 'headPose', 'mask', 'smile']);
    expect(parsed.state.url).toBe(EXAMPLE.url);
    expect(parsed.state.dataId).toBe(EXAMPLE.dataId);
    expect(parsed.state.taskId).toMatch(/^img[A-Za-z0-9_-]+$/);
  });

  it('accepts a URL of exactly 2048 characters', async () => {
    const url = `https://e.com/${'a'.repeat(ALIBABA_MAX_URL_LENGTH - 'https://e.com/'.length)}`;
    expect(url).toHaveLength(ALIBABA_MAX_URL_LENGTH);
    await expect(alibabaDialect.parse(jsonRequest(PATH, { url }), context)).resolves.toBeDefined();
  });

  it.each([
    ['no url', {}, 400],
    ['empty url', { url: '' }, 400],
    ['url not a string', { url: 42 }, 400],
    ['ftp url', { url: 'ftp://e.com/a.jpg' }, 400],
    ['s3 url', { url: 's3://bucket/a.jpg' }, 400],
    ['not a URL', { url: 'face.jpg' }, 400],
    ['2049-character url', { url: `https://e.com/${'a'.repeat(ALIBABA_MAX_URL_LENGTH + 1 - 'https://e.com/'.length)}` }, 400],
    ['dataId not a string', { url: 'https://e.com/a.jpg', dataId: 7 }, 400],
  ])('rejects %s with code = HTTP status', async (_label, payload, status) => {
    const { status: actual, body } = await alibabaError(jsonRequest(PATH, payload));
    expect(actual).toBe(status);
    expect(body.code).toBe(status);
    expect(typeof body.msg).toBe('string');
    expect(body.taskId).toMatch(/^img/);
  });

  it('rejects non-JSON bodies', async () => {
    const form = makeRequest({ path: PATH, headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: Buffer.from('--x--') });
    expect(await alibabaError(form)).toMatchObject({ status: 415, body: { code: 415 } });
    const bad = makeRequest({ path: PATH, headers: { 'content-type': 'application/json' }, body: Buffer.from('[1') });
    expect(await alibabaError(bad)).toMatchObject({ status: 400, body: { code: 400 } });
    expect(await alibabaError(jsonRequest(PATH, ['x']))).toMatchObject({ status: 400 });
  });

  it('echoes dataId and url in errors', async () => {
    const { body } = await alibabaError(jsonRequest(PATH, { url: 'ftp://e.com/a.jpg', dataId: 'd-1' }));
    expect(body).toMatchObject({ code: 400, dataId: 'd-1', url: 'ftp://e.com/a.jpg' });
    // The documented fields, plus what pop-core reads from an error (Code, Message, RequestId).
    expect(Object.keys(body).sort()).toEqual(['Code', 'Message', 'RequestId', 'code', 'dataId', 'msg', 'requestId', 'taskId', 'url']);
    expect(body).toMatchObject({ Code: 'InvalidParameter', Message: body.msg, RequestId: body.requestId });
  });
});

describe('Alibaba dialect: format', () => {
  it('returns the documented body, field by field', async () => {
    const parsed = await alibabaDialect.parse(jsonRequest(PATH, EXAMPLE), context);
    const response = alibabaDialect.format(makeResult([analysedFace()], 328, 390), parsed, jsonRequest(PATH, EXAMPLE), context);
    expect(response.status).toBe(200);
    const body = bodyJson(response);
    expect(body).toMatchObject({ code: 200, msg: 'OK', dataId: EXAMPLE.dataId, taskId: parsed.state.taskId, url: EXAMPLE.url });
    expect(body.extras).toEqual({ width: '328', height: '390' });
    expect(body.faces).toHaveLength(1);
    const [face] = body.faces;
    expect(face.location).toEqual({ x: 110.4, y: 200.6, w: 100.2, h: 120.7 });
    expect(face.smile).toEqual({ value: 0.72 });
    expect(face.glasses).toEqual({ value: 'Wear', rate: 0.7 });
    expect(face.quality).toEqual({ blur: 2.47, pitch: 35.5, yaw: -12.35, roll: -190 });
    // pitch 35.5 and roll -190 are beyond 30 degrees
    expect(face.qualified).toBe(false);
    expect(face.respirator).toEqual({ value: 'None', rate: 0.7 });
    for (const unsupported of ['hat', 'mustache', 'bang', 'hairstyle']) expect(face[unsupported]).toBeUndefined();
  });

  it('leaves dataId out when the request had none, and orders faces largest first', async () => {
    const parsed = await alibabaDialect.parse(jsonRequest(PATH, { url: 'https://e.com/a.jpg' }), context);
    const body = bodyJson(alibabaDialect.format(makeResult([bareFace(0, 10), bareFace(50, 40)]), parsed, jsonRequest(PATH, {}), context));
    expect('dataId' in body).toBe(false);
    expect(body.faces.map((face: any) => face.location.w)).toEqual([40, 10]);
    expect(Object.keys(body.faces[0])).toEqual(['location']);
  });

  it('reports sunglasses and masks', async () => {
    const parsed = await alibabaDialect.parse(jsonRequest(PATH, EXAMPLE), context);
    const face = analysedFace({ attributes: { glasses: { none: 0.1, eyeglasses: 0.1, sunglasses: 0.8 }, mask: 0.91 } });
    const [item] = bodyJson(alibabaDialect.format(makeResult([face]), parsed, jsonRequest(PATH, {}), context)).faces;
    expect(item.glasses).toEqual({ value: 'Sunglass', rate: 0.8 });
    expect(item.respirator).toEqual({ value: 'Wear', rate: 0.91 });
    expect(item.qualified).toBeUndefined();
  });
});

describe('Alibaba qualified rule', () => {
  const good: FaceAttributes = {
    blur: { value: 0.2, threshold: 0.5 },
    glasses: { none: 0.9, eyeglasses: 0.05, sunglasses: 0.05 },
    headPose: { yaw: 30, pitch: -30, roll: 10 },
  };

  it('is true when blur < 5, no sunglasses and every angle within 30 degrees', () => {
    expect(isQualified(good)).toBe(true);
    expect(isQualified({ ...good, glasses: { none: 0.1, eyeglasses: 0.9, sunglasses: 0 } })).toBe(true);
  });

  it('is false for blur ≥ 5 (0.25 × 20), sunglasses or an angle beyond 30', () => {
    expect(isQualified({ ...good, blur: { value: 0.25, threshold: 0.5 } })).toBe(false);
    expect(isQualified({ ...good, glasses: { none: 0.2, eyeglasses: 0.2, sunglasses: 0.6 } })).toBe(false);
    expect(isQualified({ ...good, headPose: { yaw: 30.5, pitch: 0, roll: 0 } })).toBe(false);
  });

  it('is unknown when a needed value is missing', () => {
    expect(isQualified({ blur: good.blur, glasses: good.glasses })).toBeUndefined();
  });
});

describe('Alibaba dialect: formatError', () => {
  const expected: Record<ErrorCode, number> = {
    MISSING_BODY: 400,
    INVALID_JSON: 400,
    INVALID_ARGUMENT: 400,
    MISSING_ARGUMENT: 400,
    MISSING_IMAGE: 400,
    CONFLICTING_IMAGE: 400,
    INVALID_BASE64: 400,
    UNSUPPORTED_MEDIA_TYPE: 415,
    PAYLOAD_TOO_LARGE: 413,
    EMPTY_IMAGE: 400,
    UNSUPPORTED_FORMAT: 400,
    CORRUPT_IMAGE: 400,
    IMAGE_TOO_LARGE: 413,
    IMAGE_DIMENSIONS_TOO_LARGE: 400,
    IMAGE_TOO_SMALL: 400,
    INVALID_URL: 400,
    URL_FORBIDDEN: 403,
    URL_UNREACHABLE: 400,
    URL_HTTP_ERROR: 400,
    URL_TIMEOUT: 408,
    S3_BUCKET_NOT_ALLOWED: 403,
    S3_OBJECT_NOT_FOUND: 404,
    S3_ACCESS_DENIED: 403,
    S3_UNAVAILABLE: 502,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    UNAUTHORIZED: 401,
    OVERLOADED: 503,
    INTERNAL_ERROR: 500,
  };

  it('covers every neutral code', () => {
    expect(Object.keys(expected).sort()).toEqual([...ALL_ERROR_CODES].sort());
  });

  it.each(ALL_ERROR_CODES)('maps %s with code = HTTP status', (code) => {
    const response = alibabaDialect.formatError(new FacekitError(code, 'detail'), jsonRequest(PATH, EXAMPLE), context);
    expect(response.status).toBe(expected[code]);
    const body = bodyJson(response);
    expect(body.code).toBe(expected[code]);
    expect(body.msg).toMatch(/: detail$/);
    expect(body.dataId).toBe(EXAMPLE.dataId);
    expect(body.url).toBe(EXAMPLE.url);
  });
});
