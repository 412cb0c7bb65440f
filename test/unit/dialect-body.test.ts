import { bodyLimitsFor, mediaType, parseBody, type BodyLimits } from '../../lambda/api/body.js';
import { toPercentages, largestFirst, roundTo } from '../../lambda/api/dialect-utils.js';
import { FacekitError } from '../../lambda/errors.js';
import { bareFace, FAKE_JPEG, makeRequest, multipartRequest } from './dialect-fixtures.js';

const LIMITS: BodyLimits = { maxFileBytes: 1000, maxTotalFileBytes: 1500, maxFieldChars: 2000 };
const ALL = { accept: ['json', 'multipart', 'urlencoded'] as const, limits: LIMITS };

async function failure(promise: Promise<unknown>): Promise<FacekitError> {
  try {
    await promise;
  } catch (error) {
    return error as FacekitError;
  }
  throw new Error('did not throw');
}

describe('parseBody', () => {
  it('parses JSON (with a BOM and charset parameter)', async () => {
    const request = makeRequest({
      path: '/x',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from('\uFEFF{"a":1}'),
    });
    expect(await parseBody(request, ALL)).toEqual({ kind: 'json', json: { a: 1 } });
  });

  it('reports invalid JSON as INVALID_JSON', async () => {
    const request = makeRequest({ path: '/x', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"a":') });
    expect((await failure(parseBody(request, ALL))).code).toBe('INVALID_JSON');
  });

  it('parses urlencoded forms, first value winning', async () => {
    const request = makeRequest({
      path: '/x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from('a=1&b=x%2By+z&a=2'),
    });
    expect(await parseBody(request, ALL)).toEqual({ kind: 'urlencoded', fields: { a: '1', b: 'x+y z' }, files: {} });
  });

  it('parses multipart fields (UTF-8) and files (exact bytes)', async () => {
    const form = new FormData();
    form.append('name', 'héllo 人');
    form.append('name', 'second');
    form.append('image', new Blob([FAKE_JPEG], { type: 'image/jpeg' }), 'a.jpg');
    const parsed = await parseBody(await multipartRequest('/x', form), ALL);
    expect(parsed.kind).toBe('multipart');
    if (parsed.kind !== 'multipart') return;
    expect(parsed.fields).toEqual({ name: 'héllo 人' });
    expect(parsed.files.image).toEqual({ bytes: FAKE_JPEG, filename: 'a.jpg', contentType: 'image/jpeg' });
  });

  it('caps each file and the sum of files, naming the field', async () => {
    const one = new FormData();
    one.append('image_file', new Blob([Buffer.alloc(1001)]), 'big.jpg');
    const single = await failure(parseBody(await multipartRequest('/x', one), ALL));
    expect(single).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'image_file' });

    const two = new FormData();
    two.append('a', new Blob([Buffer.alloc(900)]), 'a.jpg');
    two.append('b', new Blob([Buffer.alloc(900)]), 'b.jpg');
    expect(await failure(parseBody(await multipartRequest('/x', two), ALL))).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'b' });
  });

  it('caps text fields (a base64 image) in both form encodings', async () => {
    const form = new FormData();
    form.append('image_base64', 'A'.repeat(2001));
    expect(await failure(parseBody(await multipartRequest('/x', form), ALL))).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'image_base64' });
    const urlencoded = makeRequest({
      path: '/x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(`image_base64=${'A'.repeat(2001)}`),
    });
    expect(await failure(parseBody(urlencoded, ALL))).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'image_base64' });
  });

  it('distinguishes a missing body, a missing or unsupported content type and broken multipart', async () => {
    expect((await failure(parseBody(makeRequest({ path: '/x' }), ALL))).code).toBe('MISSING_BODY');
    expect((await failure(parseBody(makeRequest({ path: '/x', body: Buffer.from('x') }), ALL))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const text = makeRequest({ path: '/x', headers: { 'content-type': 'text/plain' }, body: Buffer.from('x') });
    expect((await failure(parseBody(text, ALL))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const json = makeRequest({ path: '/x', headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    expect((await failure(parseBody(json, { ...ALL, accept: ['multipart'] }))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const noBoundary = makeRequest({ path: '/x', headers: { 'content-type': 'multipart/form-data' }, body: Buffer.from('x') });
    expect((await failure(parseBody(noBoundary, ALL))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const truncated = makeRequest({
      path: '/x',
      headers: { 'content-type': 'multipart/form-data; boundary=abc' },
      body: Buffer.from('--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'),
    });
    expect((await failure(parseBody(truncated, ALL))).code).toBe('INVALID_ARGUMENT');
  });

  it('derives limits from the image limits', () => {
    const limits = bodyLimitsFor({ maxBytes: 3000, maxLongSide: 1, maxPixels: 1, minSide: 1 });
    expect(limits.maxFileBytes).toBe(3000);
    expect(limits.maxTotalFileBytes).toBe(3000);
    expect(limits.maxFieldChars).toBeGreaterThanOrEqual(4000);
    expect(mediaType(' Multipart/Form-Data; boundary=x')).toBe('multipart/form-data');
    expect(mediaType(undefined)).toBeUndefined();
  });
});

describe('dialect utils', () => {
  it('makes percentages that sum to exactly 100', () => {
    const values = toPercentages([1, 1, 1]);
    expect(values).toEqual([33.334, 33.333, 33.333]);
    expect(toPercentages([0, 0])).toEqual([0, 0]);
    expect(toPercentages([0.2, 0.8], 3)).toEqual([20, 80]);
  });

  it('rounds half away from zero without negative zero', () => {
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(-2.5, 0)).toBe(-3);
    expect(Object.is(roundTo(-0.0001, 2), 0)).toBe(true);
    expect(roundTo(1.23456, 3)).toBe(1.235);
  });

  it('orders faces by area, largest first, stable on ties', () => {
    const faces = [bareFace(0, 10), bareFace(1, 30), bareFace(2, 10)];
    expect(largestFirst(faces).map((face) => face.box.x)).toEqual([1, 0, 2]);
  });
});
