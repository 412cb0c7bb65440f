import { XMLParser } from 'fast-xml-parser';

import { FACEKIT_ROUTES } from '../../lib/routes.js';
import { resolveRoute } from '../../lambda/router.js';
import { CI_MAX_FACES, tencentCiDialect } from '../../lambda/api/tencent-ci.js';
import type { HttpRequest } from '../../lambda/api/http.js';
import { FacekitError, type ErrorCode } from '../../lambda/errors.js';
import { ALL_ERROR_CODES, analysedFace, bareFace, makeContext, makeRequest, makeResult } from './dialect-fixtures.js';
import { parseS3Url } from '../../lambda/image/s3.js';

const BUCKET = 'faces-bucket';
const context = makeContext({ ciBucket: BUCKET });
const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'FaceInfos' });

const CI_ROUTES = FACEKIT_ROUTES;

function ciRequest(key: string, query: Record<string, string> = { 'ci-process': 'DetectFace' }): HttpRequest {
  const path = `/ci/${key}`;
  return makeRequest({ method: 'GET', path, query, params: resolveRoute({ method: 'GET', path, query, headers: {} }, CI_ROUTES).served?.params ?? {} });
}

async function ciError(request: HttpRequest, ctx = context): Promise<{ status: number; code: string; message: string }> {
  try {
    await tencentCiDialect.parse(request, ctx);
  } catch (error) {
    const response = tencentCiDialect.formatError(error as FacekitError, request, ctx);
    const body = xml.parse(response.body).Error;
    return { status: response.status, code: body.Code, message: body.Message };
  }
  throw new Error('parse did not throw');
}

describe('Tencent CI dialect: route', () => {
  it('serves GET /ci/{key+} and COS\'s own GET /{key}?ci-process=..., other GETs not', () => {
    const get = (path: string, query: Record<string, string> = {}) => resolveRoute({ method: 'GET', path, query, headers: {} }, CI_ROUTES);
    expect(get('/ci/a/b.jpg').served).toMatchObject({ route: { dialect: 'tencent-ci', path: '/ci/{key+}' }, params: { key: 'a/b.jpg' } });
    expect(get('/a/b.jpg', { 'ci-process': 'DetectFace' }).served).toMatchObject({ route: { dialect: 'tencent-ci', path: '/{proxy+}' }, params: { proxy: 'a/b.jpg' } });
    expect(get('/a/b.jpg').served).toBeUndefined();
  });
});

describe('Tencent CI dialect: parse', () => {
  it('reads the object from the configured bucket with the default of one face and nothing else computed', async () => {
    const parsed = await tencentCiDialect.parse(ciRequest('folder/photo.jpg'), context);
    expect(parsed.detect.image).toEqual({ kind: 'url', url: `s3://${BUCKET}/folder/photo.jpg`, field: 'ObjectKey' });
    expect(parsed.detect.options.maxFaces).toBe(1);
    expect(parsed.detect.options.landmarks106).toBe(false);
    expect(parsed.detect.options.genderAge).toBe(false);
    expect(parsed.detect.options.attributes.size).toBe(0);
  });

  it('percent-decodes the key exactly once (the s3 URL carries it re-encoded)', async () => {
    const parsed = await tencentCiDialect.parse(ciRequest('a%20b/%E4%BA%BA.jpg'), context);
    const image = parsed.detect.image as { url: string };
    expect(parseS3Url(image.url, 'ObjectKey')).toEqual({ bucket: BUCKET, key: 'a b/人.jpg' });
    const doubleEncoded = (await tencentCiDialect.parse(ciRequest('%252e%252e%252fother.jpg'), context)).detect.image as { url: string };
    expect(parseS3Url(doubleEncoded.url, 'ObjectKey').key).toBe('%2e%2e%2fother.jpg');
  });

  it('accepts max-face-num 1..120', async () => {
    for (const value of ['1', '7', String(CI_MAX_FACES)]) {
      const parsed = await tencentCiDialect.parse(ciRequest('a.jpg', { 'ci-process': 'DetectFace', 'max-face-num': value }), context);
      expect(parsed.detect.options.maxFaces).toBe(Number(value));
    }
  });

  it('accepts the documented example spelling detect-face', async () => {
    await expect(tencentCiDialect.parse(ciRequest('a.jpg', { 'ci-process': 'detect-face' }), context)).resolves.toBeDefined();
  });

  it.each(['0', '121', '-1', '1.5', 'x', '1e2'])('rejects max-face-num=%s with InvalidParameter.InvalidParameter', async (value) => {
    expect(await ciError(ciRequest('a.jpg', { 'ci-process': 'DetectFace', 'max-face-num': value }))).toMatchObject({
      status: 400,
      code: 'InvalidParameter.InvalidParameter',
    });
  });

  it('requires ci-process and rejects other processes', async () => {
    expect(await ciError(ciRequest('a.jpg', {}))).toMatchObject({ status: 400, code: 'MissingParameter.ErrorParameterEmpty' });
    expect(await ciError(ciRequest('a.jpg', { 'ci-process': 'AIRecognition' }))).toMatchObject({
      status: 400,
      code: 'UnsupportedOperation.UnknowMethod',
    });
  });

  it('rejects an empty key and malformed percent-encoding', async () => {
    expect(await ciError(ciRequest(''))).toMatchObject({ status: 400, code: 'MissingParameter.ErrorParameterEmpty' });
    expect(await ciError(ciRequest('%E4%BA'))).toMatchObject({ status: 400, code: 'InvalidParameter.InvalidParameter' });
  });

  it('says clearly when no bucket is configured', async () => {
    const error = await ciError(ciRequest('a.jpg'), makeContext({ ciBucket: undefined }));
    expect(error).toMatchObject({ status: 500, code: 'InternalError' });
    expect(error.message).toMatch(/FACEKIT_CI_BUCKET/);
  });
});

describe('Tencent CI dialect: format', () => {
  it('returns the documented XML, largest face first, integer fields', async () => {
    const parsed = await tencentCiDialect.parse(ciRequest('a.jpg', { 'ci-process': 'DetectFace', 'max-face-num': '2' }), context);
    const faces = [bareFace(10, 20, 0.876), analysedFace({ box: { x: 312.4, y: -5.6, width: 117.2, height: 173.5 }, score: 0.5049 }), bareFace(400, 5)];
    const response = tencentCiDialect.format(makeResult(faces, 616, 442), parsed, ciRequest('a.jpg'), context);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/xml');
    expect(response.body.startsWith('<Response><ImageWidth>616</ImageWidth><ImageHeight>442</ImageHeight><FaceModelVersion>')).toBe(true);
    const body = xml.parse(response.body).Response;
    expect(Object.keys(body)).toEqual(['ImageWidth', 'ImageHeight', 'FaceModelVersion', 'RequestId', 'Status', 'FaceInfos']);
    expect(body.FaceModelVersion).toBe(context.config.faceModelVersion);
    expect(body.RequestId).toBe(context.requestId);
    expect(body.Status).toBe('1');
    expect(body.FaceInfos).toEqual([
      { Score: '50', X: '312', Y: '-6', Width: '117', Height: '174' },
      { Score: '88', X: '10', Y: '10', Width: '20', Height: '20' },
    ]);
  });

  it('escapes text and reports Status 0 without FaceInfos when no face is found', async () => {
    const ctx = makeContext({ ciBucket: BUCKET, faceModelVersion: 'v<1>&"2"' });
    const parsed = await tencentCiDialect.parse(ciRequest('a.jpg'), ctx);
    const response = tencentCiDialect.format(makeResult([]), parsed, ciRequest('a.jpg'), ctx);
    expect(response.body).toContain('<FaceModelVersion>v&lt;1&gt;&amp;&quot;2&quot;</FaceModelVersion>');
    expect(response.body).toContain('<Status>0</Status>');
    expect(response.body).not.toContain('FaceInfos');
  });
});

describe('Tencent CI dialect: formatError', () => {
  const expected: Record<ErrorCode, [number, string]> = {
    MISSING_BODY: [400, 'InvalidParameter.InvalidParameter'],
    INVALID_JSON: [400, 'InvalidParameter.InvalidParameter'],
    INVALID_ARGUMENT: [400, 'InvalidParameter.InvalidParameter'],
    MISSING_ARGUMENT: [400, 'MissingParameter.ErrorParameterEmpty'],
    MISSING_IMAGE: [400, 'MissingParameter.ErrorParameterEmpty'],
    CONFLICTING_IMAGE: [400, 'InvalidParameter.InvalidParameter'],
    INVALID_BASE64: [400, 'FailedOperation.ImageDecodeFailed'],
    UNSUPPORTED_MEDIA_TYPE: [400, 'InvalidParameter.InvalidParameter'],
    PAYLOAD_TOO_LARGE: [400, 'FailedOperation.ImageSizeExceed'],
    EMPTY_IMAGE: [400, 'InvalidParameterValue.ImageEmpty'],
    UNSUPPORTED_FORMAT: [400, 'FailedOperation.ImageDecodeFailed'],
    CORRUPT_IMAGE: [400, 'FailedOperation.ImageDecodeFailed'],
    IMAGE_TOO_LARGE: [400, 'FailedOperation.ImageSizeExceed'],
    IMAGE_DIMENSIONS_TOO_LARGE: [400, 'FailedOperation.ImageResolutionExceed'],
    IMAGE_TOO_SMALL: [400, 'FailedOperation.ImageResolutionTooSmall'],
    INVALID_URL: [400, 'InvalidParameterValue.UrlIllegal'],
    URL_FORBIDDEN: [400, 'FailedOperation.ImageDownloadError'],
    URL_UNREACHABLE: [400, 'FailedOperation.ImageDownloadError'],
    URL_HTTP_ERROR: [400, 'FailedOperation.ImageDownloadError'],
    URL_TIMEOUT: [504, 'FailedOperation.RequestTimeout'],
    S3_BUCKET_NOT_ALLOWED: [403, 'AccessDenied'],
    S3_OBJECT_NOT_FOUND: [404, 'NoSuchKey'],
    S3_ACCESS_DENIED: [403, 'AccessDenied'],
    S3_UNAVAILABLE: [503, 'FailedOperation.ImageDownloadError'],
    NOT_FOUND: [404, 'NoSuchKey'],
    METHOD_NOT_ALLOWED: [405, 'MethodNotAllowed'],
    UNAUTHORIZED: [403, 'AccessDenied'],
    OVERLOADED: [503, 'FailedOperation.RequestLimitExceeded'],
    INTERNAL_ERROR: [500, 'InternalError'],
  };

  it('covers every neutral code', () => {
    expect(Object.keys(expected).sort()).toEqual([...ALL_ERROR_CODES].sort());
  });

  it.each(ALL_ERROR_CODES)('maps %s to a COS-style XML error', (code) => {
    const response = tencentCiDialect.formatError(new FacekitError(code, 'detail <&>'), ciRequest('a.jpg'), context);
    expect(response.status).toBe(expected[code][0]);
    expect(response.headers['content-type']).toBe('application/xml');
    expect(response.headers['x-ci-request-id']).toBe(context.requestId);
    expect(response.body).toBe(
      `<Error><Code>${expected[code][1]}</Code><Message>detail &lt;&amp;&gt;</Message><RequestId>${context.requestId}</RequestId></Error>`,
    );
  });
});
