import { faceppDialect, FACEPP_ANALYZED_FACES, parseFaceRectangle } from '../../lambda/api/facepp.js';
import { resolveRoute } from '../../lambda/router.js';
import { FACEPP_106_NAMES, FACEPP_83_NAMES, faceppLandmarks } from '../../lambda/api/facepp-landmarks.js';
import { FacekitError, type ErrorCode } from '../../lambda/errors.js';
import type { HttpRequest } from '../../lambda/api/http.js';
import {
  ALL_ERROR_CODES,
  analysedFace,
  bareFace,
  bodyJson,
  FAKE_JPEG,
  makeContext,
  makeRequest,
  makeResult,
  multipartRequest,
  synthetic106,
  urlencodedRequest,
} from './dialect-fixtures.js';

const PATH = '/facepp/v3/detect';
const context = makeContext();

function form(fields: Record<string, string>, file?: { name: string; bytes: Buffer; filename?: string }): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (file) data.append(file.name, new Blob([file.bytes], { type: 'image/jpeg' }), file.filename ?? 'face.jpg');
  return data;
}

const KEYS = { api_key: 'key', api_secret: 'secret' };

async function parseError(request: HttpRequest, ctx = context): Promise<FacekitError> {
  try {
    await faceppDialect.parse(request, ctx);
  } catch (error) {
    return error as FacekitError;
  }
  throw new Error('parse did not throw');
}

/** parse error formatted the Face++ way: [status, error_message]. */
async function faceppError(request: HttpRequest, ctx = context): Promise<[number, string]> {
  const response = faceppDialect.formatError(await parseError(request, ctx), request, ctx);
  return [response.status, bodyJson(response).error_message];
}

describe('Face++ dialect: route', () => {
  it('serves POST /facepp/v3/detect', () => {
    expect(resolveRoute({ method: 'POST', path: PATH, query: {}, headers: {} }).served?.route.dialect).toBe('facepp');
  });
});

describe('Face++ dialect: parse', () => {
  it('reads image_file from multipart (bytes kept exactly) with defaults: no landmarks, no attributes, 5 analysed', async () => {
    const request = await multipartRequest(PATH, form(KEYS, { name: 'image_file', bytes: FAKE_JPEG }));
    const parsed = await faceppDialect.parse(request, context);
    expect(parsed.detect.image).toEqual({ kind: 'bytes', bytes: FAKE_JPEG, field: 'image_file' });
    expect(parsed.detect.options.landmarks106).toBe(false);
    expect(parsed.detect.options.genderAge).toBe(false);
    expect([...parsed.detect.options.attributes]).toEqual([]);
    expect(parsed.detect.options.analyzeLargest).toBe(FACEPP_ANALYZED_FACES);
    expect(parsed.detect.options.region).toBeUndefined();
    expect(parsed.state).toEqual({ attributes: [] });
  });

  it('reads image_base64 and image_url from urlencoded bodies', async () => {
    const base64 = await faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_base64: 'aGVsbG8+/w==' }), context);
    expect(base64.detect.image).toEqual({ kind: 'base64', base64: 'aGVsbG8+/w==', field: 'image_base64' });
    const url = await faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_url: ' https://example.com/a.jpg ' }), context);
    expect(url.detect.image).toEqual({ kind: 'url', url: 'https://example.com/a.jpg', field: 'image_url' });
  });

  it('applies the documented precedence image_file > image_base64 > image_url', async () => {
    const all = await multipartRequest(
      PATH,
      form({ ...KEYS, image_url: 'https://example.com/a.jpg', image_base64: 'aGVsbG8=' }, { name: 'image_file', bytes: FAKE_JPEG }),
    );
    expect((await faceppDialect.parse(all, context)).detect.image.field).toBe('image_file');
    const noFile = await multipartRequest(PATH, form({ ...KEYS, image_url: 'https://example.com/a.jpg', image_base64: 'aGVsbG8=' }));
    expect((await faceppDialect.parse(noFile, context)).detect.image.field).toBe('image_base64');
  });

  it('keeps image_file bytes even when the client sends it without a filename', async () => {
    const boundary = 'xyzBOUNDARY';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nkey\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="api_secret"\r\n\r\nsecret\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image_file"\r\n\r\n`),
      FAKE_JPEG,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const request = makeRequest({ path: PATH, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    const parsed = await faceppDialect.parse(request, context);
    expect(parsed.detect.image).toEqual({ kind: 'bytes', bytes: FAKE_JPEG, field: 'image_file' });
  });

  it('maps return_landmark 1/2 to the 106-point model and remembers the level', async () => {
    for (const [value, level] of [['1', 83], ['2', 106]] as const) {
      const parsed = await faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg', return_landmark: value }), context);
      expect(parsed.detect.options.landmarks106).toBe(true);
      expect(parsed.state.landmarkLevel).toBe(level);
    }
  });

  it('asks the pipeline only for the requested attributes', async () => {
    const parsed = await faceppDialect.parse(
      urlencodedRequest(PATH, {
        ...KEYS,
        image_url: 'https://e.com/a.jpg',
        return_attributes: 'gender,age,smiling,headpose,facequality,blur,eyestatus,emotion,mouthstatus,eyegaze,beauty,skinstatus',
      }),
      context,
    );
    expect(parsed.detect.options.genderAge).toBe(true);
    expect([...parsed.detect.options.attributes].sort()).toEqual(
      ['blur', 'emotion', 'eyeGaze', 'eyeStatus', 'headPose', 'mouthStatus', 'quality', 'smile'].sort(),
    );
    const onlyBeauty = await faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg', return_attributes: 'beauty' }), context);
    expect(onlyBeauty.detect.options.genderAge).toBe(false);
    expect(onlyBeauty.detect.options.attributes.size).toBe(0);
    const none = await faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg', return_attributes: 'none' }), context);
    expect(none.state.attributes).toEqual([]);
    expect(none.detect.options.genderAge).toBe(false);
  });

  it('calculate_all=1 analyses every face; face_rectangle is the one face, analysed as given (no detection)', async () => {
    const parsed = await faceppDialect.parse(
      urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg', calculate_all: '1', face_rectangle: '70,80,100,120' }),
      context,
    );
    expect(parsed.detect.options.analyzeLargest).toBeUndefined();
    expect(parsed.detect.options.region).toBeUndefined();
    expect(parsed.detect.options.givenFaces).toEqual([{ x: 80, y: 70, width: 100, height: 120 }]);
  });

  it('parses face_rectangle strictly', () => {
    expect(parseFaceRectangle(' 1, 2 ,3,4 ')).toEqual({ x: 2, y: 1, width: 3, height: 4 });
    for (const bad of ['1,2,3', '1,2,3,4,5', 'a,b,c,d', '1,2,0,4', '-1,2,3,4', '1.5,2,3,4']) {
      expect(() => parseFaceRectangle(bad)).toThrow(FacekitError);
    }
  });

  it('requires api_key and api_secret', async () => {
    expect(await faceppError(urlencodedRequest(PATH, { image_url: 'https://e.com/a.jpg' }))).toEqual([400, 'MISSING_ARGUMENTS: api_key']);
    expect(await faceppError(urlencodedRequest(PATH, { api_key: 'k', image_url: 'https://e.com/a.jpg' }))).toEqual([
      400,
      'MISSING_ARGUMENTS: api_secret',
    ]);
  });

  it('checks credentials against the configuration when set, else accepts any', async () => {
    const strict = makeContext({ faceppCredentials: { apiKey: 'right', apiSecret: 'pair' } });
    expect(await faceppError(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg' }), strict)).toEqual([401, 'AUTHENTICATION_ERROR']);
    await expect(
      faceppDialect.parse(urlencodedRequest(PATH, { api_key: 'right', api_secret: 'pair', image_url: 'https://e.com/a.jpg' }), strict),
    ).resolves.toBeDefined();
    await expect(faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg' }), context)).resolves.toBeDefined();
  });

  it('reports a missing image with the documented message', async () => {
    expect(await faceppError(urlencodedRequest(PATH, KEYS))).toEqual([400, 'MISSING_ARGUMENTS: image_url, image_file, image_base64']);
  });

  it.each([
    ['return_landmark', '3'],
    ['return_landmark', 'yes'],
    ['return_attributes', 'gender,hat'],
    ['return_attributes', 'none,gender'],
    ['calculate_all', '2'],
    ['face_rectangle', '1,2,3'],
  ])('rejects %s=%s with BAD_ARGUMENTS:<key>', async (field, value) => {
    expect(await faceppError(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg', [field]: value }))).toEqual([
      400,
      `BAD_ARGUMENTS:${field}`,
    ]);
  });

  it('rejects JSON, missing bodies and oversized uploads in Face++ terms', async () => {
    const json = makeRequest({ path: PATH, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') });
    expect(await faceppError(json)).toEqual([400, 'MISSING_ARGUMENTS: api_key']);
    expect(await faceppError(makeRequest({ path: PATH }))).toEqual([400, 'MISSING_ARGUMENTS: api_key']);
    const small = makeContext({ image: { ...context.config.image, maxBytes: 8 } });
    const big = await multipartRequest(PATH, form(KEYS, { name: 'image_file', bytes: FAKE_JPEG }));
    expect(await faceppError(big, small)).toEqual([400, 'IMAGE_FILE_TOO_LARGE:image_file']);
  });
});

describe('Face++ dialect: format', () => {
  async function parsedWith(fields: Record<string, string>) {
    return faceppDialect.parse(urlencodedRequest(PATH, { ...KEYS, image_url: 'https://e.com/a.jpg', ...fields }), context);
  }

  it('returns the top-level fields with their documented types', async () => {
    const parsed = await parsedWith({});
    const ctx = makeContext({}, Date.now() - 42);
    const response = faceppDialect.format(makeResult([analysedFace()]), parsed, makeRequest({ path: PATH }), ctx);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = bodyJson(response);
    expect(Object.keys(body).sort()).toEqual(['face_num', 'faces', 'image_id', 'request_id', 'time_used']);
    expect(body.request_id).toBe(`${Math.floor(ctx.receivedAt / 1000)},${ctx.requestId}`);
    expect(body.time_used).toBeGreaterThanOrEqual(42);
    expect(Number.isInteger(body.time_used)).toBe(true);
    expect(body.image_id).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(body.face_num).toBe(1);
    expect(body.faces[0].face_token).toMatch(/^[0-9a-f]{32}$/);
    expect(body.faces[0].face_rectangle).toEqual({ top: 201, left: 110, width: 100, height: 121 });
    expect(body.faces[0].landmark).toBeUndefined();
    expect(body.faces[0].attributes).toBeUndefined();
  });

  it('formats every supported attribute as documented', async () => {
    const parsed = await parsedWith({
      return_attributes: 'gender,age,smiling,headpose,facequality,blur,eyestatus,emotion,mouthstatus,eyegaze,beauty,skinstatus',
    });
    const attributes = bodyJson(faceppDialect.format(makeResult([analysedFace()]), parsed, makeRequest({ path: PATH }), context)).faces[0]
      .attributes;
    expect(Object.keys(attributes).sort()).toEqual(
      ['age', 'blur', 'emotion', 'eyegaze', 'eyestatus', 'facequality', 'gender', 'headpose', 'mouthstatus', 'smile'].sort(),
    );
    expect(attributes.gender).toEqual({ value: 'Female' });
    expect(attributes.age).toEqual({ value: 28 });
    expect(attributes.smile).toEqual({ value: 72.346, threshold: 50 });
    expect(attributes.headpose).toEqual({ pitch_angle: 35.5, roll_angle: -190, yaw_angle: -12.345679 });
    expect(attributes.blur).toEqual({ blurness: { value: 12.346, threshold: 50 } });
    expect(attributes.facequality).toEqual({ value: 81.235, threshold: 70.1 });
    expect(attributes.emotion).toEqual({ anger: 10, disgust: 5, fear: 5, happiness: 60, neutral: 10, sadness: 5, surprise: 5 });
    expect(attributes.mouthstatus).toEqual({ surgical_mask_or_respirator: 20, other_occlusion: 10, close: 50, open: 20 });
    // eye state × glasses: visible = 0.9; no-glass share = 0.6 / 0.9
    expect(attributes.eyestatus.left_eye_status).toEqual({
      occlusion: 9,
      no_glass_eye_open: 42,
      normal_glass_eye_close: 6,
      normal_glass_eye_open: 21,
      dark_glasses: 10,
      no_glass_eye_close: 12,
    });
    for (const eye of ['left_eye_status', 'right_eye_status']) {
      const values = Object.values(attributes.eyestatus[eye]) as number[];
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
    }
    // pupil relative to the face rectangle (110.4, 200.6, 100.2 × 120.7)
    expect(attributes.eyegaze.left_eye_gaze).toEqual({
      position_x_coordinate: 0.196,
      position_y_coordinate: 0.326,
      vector_x_component: 0.123,
      vector_y_component: -0.2,
      vector_z_component: 0.97,
    });
    expect(attributes.beauty).toBeUndefined();
    expect(attributes.skinstatus).toBeUndefined();
  });

  it('keeps percentages summing to exactly 100 at 3 decimals', async () => {
    const parsed = await parsedWith({ return_attributes: 'emotion' });
    const third = 1 / 7;
    const face = analysedFace({
      attributes: { emotion: { angry: third, disgust: third, fear: third, happy: third, sad: third, surprise: third, neutral: third } },
    });
    const emotion = bodyJson(faceppDialect.format(makeResult([face]), parsed, makeRequest({ path: PATH }), context)).faces[0].attributes.emotion;
    const values = Object.values(emotion) as number[];
    expect(Math.round(values.reduce((a, b) => a + b, 0) * 1000)).toBe(100000);
    for (const value of values) expect(Math.round(value * 1000)).toBe(value * 1000);
  });

  it('leaves out attributes the pipeline did not compute', async () => {
    const parsed = await parsedWith({ return_attributes: 'gender,age,emotion' });
    const face = analysedFace({ gender: undefined, age: undefined, attributes: {} });
    const body = bodyJson(faceppDialect.format(makeResult([face]), parsed, makeRequest({ path: PATH }), context));
    expect(body.faces[0].attributes).toBeUndefined();
  });

  it('returns 106 named integer points for return_landmark=2, 83 for return_landmark=1', async () => {
    const face = analysedFace();
    const l106 = bodyJson(faceppDialect.format(makeResult([face]), await parsedWith({ return_landmark: '2' }), makeRequest({ path: PATH }), context))
      .faces[0].landmark;
    expect(Object.keys(l106)).toHaveLength(106);
    expect(l106.contour_chin).toEqual({ x: 100, y: 201 });
    expect(l106.nose_tip).toEqual({ x: 186, y: 373 });
    const l83 = bodyJson(faceppDialect.format(makeResult([face]), await parsedWith({ return_landmark: '1' }), makeRequest({ path: PATH }), context))
      .faces[0].landmark;
    expect(Object.keys(l83)).toHaveLength(83);
    for (const point of Object.values(l83) as Array<{ x: number; y: number }>) {
      expect(Number.isInteger(point.x) && Number.isInteger(point.y)).toBe(true);
    }
  });

  it('orders faces largest first; faces beyond the analysed five carry only token and rectangle', async () => {
    const parsed = await parsedWith({ return_landmark: '2', return_attributes: 'gender' });
    const analysed = [60, 50, 40, 30, 20].map((size, i) => analysedFace({ box: { x: i * 70, y: 0, width: size, height: size } }));
    const faces = [bareFace(400, 10), ...analysed, bareFace(500, 5)];
    const body = bodyJson(faceppDialect.format(makeResult(faces), parsed, makeRequest({ path: PATH }), context));
    expect(body.face_num).toBe(7);
    expect(body.faces.map((face: any) => face.face_rectangle.width)).toEqual([60, 50, 40, 30, 20, 10, 5]);
    expect(body.faces.slice(0, 5).every((face: any) => face.landmark && face.attributes)).toBe(true);
    for (const face of body.faces.slice(5)) expect(Object.keys(face).sort()).toEqual(['face_rectangle', 'face_token']);
    expect(new Set(body.faces.map((face: any) => face.face_token)).size).toBe(7);
  });

  it('returns an empty faces array when nothing is found', async () => {
    const body = bodyJson(faceppDialect.format(makeResult([]), await parsedWith({}), makeRequest({ path: PATH }), context));
    expect(body.faces).toEqual([]);
    expect(body.face_num).toBe(0);
  });
});

describe('Face++ landmarks', () => {
  it('lists the 106 names in 2d106 order, which is alphabetical', () => {
    expect(FACEPP_106_NAMES).toHaveLength(106);
    expect([...FACEPP_106_NAMES].sort()).toEqual(FACEPP_106_NAMES);
    expect(FACEPP_106_NAMES[38]).toBe('left_eye_pupil');
    expect(FACEPP_106_NAMES[88]).toBe('right_eye_center');
    expect(FACEPP_106_NAMES[92]).toBe('right_eye_pupil');
    expect(FACEPP_106_NAMES[86]).toBe('nose_tip');
    expect(FACEPP_106_NAMES[52]).toBe('mouth_left_corner');
    expect(FACEPP_106_NAMES[61]).toBe('mouth_right_corner');
  });

  it('lists exactly the documented 83 names', () => {
    const documented = [
      'contour_chin',
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => [`contour_left${i}`, `contour_right${i}`]),
      ...['left', 'right'].flatMap((side) =>
        ['bottom', 'center', 'left_corner', 'lower_left_quarter', 'lower_right_quarter', 'pupil', 'right_corner', 'top', 'upper_left_quarter', 'upper_right_quarter'].map(
          (part) => `${side}_eye_${part}`,
        ),
      ),
      ...['left', 'right'].flatMap((side) =>
        ['left_corner', 'lower_left_quarter', 'lower_middle', 'lower_right_quarter', 'right_corner', 'upper_left_quarter', 'upper_middle', 'upper_right_quarter'].map(
          (part) => `${side}_eyebrow_${part}`,
        ),
      ),
      'mouth_left_corner',
      'mouth_lower_lip_bottom',
      ...[1, 2, 3].flatMap((i) => [`mouth_lower_lip_left_contour${i}`, `mouth_lower_lip_right_contour${i}`, `mouth_upper_lip_left_contour${i}`, `mouth_upper_lip_right_contour${i}`]),
      'mouth_lower_lip_top',
      'mouth_right_corner',
      'mouth_upper_lip_bottom',
      'mouth_upper_lip_top',
      ...[1, 2, 3].flatMap((i) => [`nose_contour_left${i}`, `nose_contour_right${i}`]),
      'nose_contour_lower_middle',
      'nose_left',
      'nose_right',
      'nose_tip',
    ];
    expect(documented).toHaveLength(83);
    expect([...FACEPP_83_NAMES].sort()).toEqual(documented.sort());
  });

  it('takes identical names from the same 106 point and averages split points', () => {
    const points = synthetic106();
    const l83 = faceppLandmarks(points, 83);
    const l106 = faceppLandmarks(points, 106);
    expect(l83.left_eye_pupil).toEqual(l106.left_eye_pupil);
    expect(l83.nose_tip).toEqual(l106.nose_tip);
    expect(l83.contour_left2).toEqual(l106.contour_left3);
    expect(l83.contour_right9).toEqual(l106.contour_right15);
    expect(l83.mouth_upper_lip_left_contour3).toEqual(l106.mouth_upper_lip_left_contour4);
    expect(l83.nose_left).toEqual(l106.nose_left_contour3);
    expect(l83.nose_contour_lower_middle).toEqual(l106.nose_middle_contour);
    // left_eyebrow_right_corner = mean of the 106 upper and lower right corners (indices 50 and 46)
    const mean = { x: Math.round((points[50]!.x + points[46]!.x) / 2), y: Math.round((points[50]!.y + points[46]!.y) / 2) };
    expect(l83.left_eyebrow_right_corner).toEqual(mean);
  });
});

describe('Face++ dialect: formatError', () => {
  const expected: Record<ErrorCode, [number, string]> = {
    MISSING_BODY: [400, 'MISSING_ARGUMENTS: api_key'],
    INVALID_JSON: [400, 'BAD_ARGUMENTS:body'],
    INVALID_ARGUMENT: [400, 'BAD_ARGUMENTS:image_base64'],
    MISSING_ARGUMENT: [400, 'MISSING_ARGUMENTS: image_base64'],
    MISSING_IMAGE: [400, 'MISSING_ARGUMENTS: image_url, image_file, image_base64'],
    CONFLICTING_IMAGE: [400, 'COEXISTENCE_ARGUMENTS'],
    INVALID_BASE64: [400, 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64'],
    UNSUPPORTED_MEDIA_TYPE: [400, 'MISSING_ARGUMENTS: api_key'],
    PAYLOAD_TOO_LARGE: [413, 'Request Entity Too Large'],
    EMPTY_IMAGE: [400, 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64'],
    UNSUPPORTED_FORMAT: [400, 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64'],
    CORRUPT_IMAGE: [400, 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64'],
    IMAGE_TOO_LARGE: [400, 'IMAGE_FILE_TOO_LARGE:image_base64'],
    IMAGE_DIMENSIONS_TOO_LARGE: [400, 'INVALID_IMAGE_SIZE:image_base64'],
    IMAGE_TOO_SMALL: [400, 'INVALID_IMAGE_SIZE:image_base64'],
    INVALID_URL: [400, 'INVALID_IMAGE_URL'],
    URL_FORBIDDEN: [400, 'INVALID_IMAGE_URL'],
    URL_UNREACHABLE: [400, 'INVALID_IMAGE_URL'],
    URL_HTTP_ERROR: [400, 'INVALID_IMAGE_URL'],
    URL_TIMEOUT: [412, 'IMAGE_DOWNLOAD_TIMEOUT'],
    S3_BUCKET_NOT_ALLOWED: [400, 'INVALID_IMAGE_URL'],
    S3_OBJECT_NOT_FOUND: [400, 'INVALID_IMAGE_URL'],
    S3_ACCESS_DENIED: [400, 'INVALID_IMAGE_URL'],
    S3_UNAVAILABLE: [400, 'INVALID_IMAGE_URL'],
    NOT_FOUND: [404, 'API_NOT_FOUND'],
    METHOD_NOT_ALLOWED: [404, 'API_NOT_FOUND'],
    UNAUTHORIZED: [401, 'AUTHENTICATION_ERROR'],
    OVERLOADED: [403, 'CONCURRENCY_LIMIT_EXCEEDED'],
    INTERNAL_ERROR: [500, 'INTERNAL_ERROR'],
  };

  it('covers every neutral code', () => {
    expect(Object.keys(expected).sort()).toEqual([...ALL_ERROR_CODES].sort());
  });

  it.each(ALL_ERROR_CODES)('maps %s (the image field named by parse)', async (code) => {
    // parse remembers the chosen image field for this request object
    const request = urlencodedRequest(PATH, { ...KEYS, image_base64: 'aGVsbG8=' });
    await faceppDialect.parse(request, context);
    const ctx = makeContext({}, Date.now() - 5);
    const response = faceppDialect.formatError(new FacekitError(code, 'detail'), request, ctx);
    const [status, message] = expected[code];
    expect(response.status).toBe(status);
    if (status === 413) {
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.body).toBe(message);
      return;
    }
    const body = bodyJson(response);
    expect(Object.keys(body).sort()).toEqual(['error_message', 'request_id', 'time_used']);
    expect(body.error_message).toBe(message);
    expect(body.request_id).toMatch(/^\d+,[0-9a-f-]{36}$/);
    expect(body.time_used).toBeGreaterThanOrEqual(5);
  });

  it('prefers the field carried by the error', () => {
    const error = new FacekitError('IMAGE_TOO_LARGE', 'x', { field: 'image_file' });
    expect(bodyJson(faceppDialect.formatError(error, makeRequest({ path: PATH }), context)).error_message).toBe('IMAGE_FILE_TOO_LARGE:image_file');
  });
});

describe('Face++ dialect: <param> without parse notes', () => {
  it('falls back to the field prefix of the image layer message', () => {
    const error = new FacekitError('CORRUPT_IMAGE', 'image_url: the image is corrupt or truncated');
    const response = faceppDialect.formatError(error, makeRequest({ path: PATH }), context);
    expect(bodyJson(response).error_message).toBe('IMAGE_ERROR_UNSUPPORTED_FORMAT:image_url');
  });
});
