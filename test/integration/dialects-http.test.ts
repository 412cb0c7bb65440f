/**
 * The four cloud dialects over real HTTP against the running local server (the `npm start`
 * bundle), with real models on real images: each dialect's documented example requests and its
 * documented error cases, end to end. Image sources: uploads, base64, an HTTP server on 127.0.0.1
 * (allowed only through FACEKIT_TEST_ALLOW_LOOPBACK=1) and, for Tencent CI, s3rver.
 */
import { XMLParser } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { maxRequestBodyBytes } from '../../lambda/router.js';
import { EVAL_DIR, REPO_ROOT, postJson, startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';

const evalImage = (file: string): Buffer => readFileSync(path.join(EVAL_DIR, file));
const malformed = (file: string): Buffer => readFileSync(path.join(REPO_ROOT, 'test/fixtures/malformed', file));

const PORTRAIT = evalImage('unlabeled/dlib_faces/Tom_Cruise_avp_2014_4.jpg');
const PORTRAIT_SIZE = { width: 565, height: 800 };
const GROUP = evalImage('unlabeled/faceapi_examples/bbt1.jpg');
const GROUP_SIZE = { width: 1366, height: 768 };
/** A collage of ~30 faces: more than Face++'s 5 analysed faces. */
const CROWD = evalImage('unlabeled/dlib_faces/bald_guys.jpg');
const NO_FACE = evalImage('negatives/opencv_samples/orange.jpg');
const TINY = evalImage('edge_cases/pillow_tests/tiny.png');
const NOT_AN_IMAGE = malformed('text.txt');
const TRUNCATED = malformed('truncated.jpg');

/** Face++ documents a 2 MB file limit; the server runs with it so the size errors are reachable. */
const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
const CI_BUCKET = 'facekit-ci';
const FACEPP_KEY = 'test-key';
const FACEPP_SECRET = 'test-secret';
const CREDENTIALS = { api_key: FACEPP_KEY, api_secret: FACEPP_SECRET };

let server: LocalServer;
let s3: TestS3;
let images: http.Server;
let imagesUrl: string;

const IMAGES_BY_PATH: Record<string, Buffer> = {
  '/portrait.jpg': PORTRAIT,
  '/group.jpg': GROUP,
  '/no-face.jpg': NO_FACE,
  '/text.jpg': NOT_AN_IMAGE,
};

beforeAll(async () => {
  s3 = await startS3rver([CI_BUCKET]);
  await s3.put(CI_BUCKET, 'people/group photo.jpg', GROUP);
  await s3.put(CI_BUCKET, 'portrait.jpg', PORTRAIT);
  await s3.put(CI_BUCKET, 'no-face.jpg', NO_FACE);
  await s3.put(CI_BUCKET, 'truncated.jpg', TRUNCATED);
  images = http.createServer((request, reply) => {
    const body = IMAGES_BY_PATH[request.url ?? ''];
    if (!body) {
      reply.writeHead(404);
      reply.end('not found');
      return;
    }
    reply.writeHead(200, { 'content-type': 'image/jpeg' });
    reply.end(body);
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  server = await startLocalServer({
    FACEKIT_TEST_ALLOW_LOOPBACK: '1',
    FACEKIT_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
    FACEKIT_S3_ENDPOINT: s3.endpoint,
    FACEKIT_S3_BUCKETS: CI_BUCKET,
    FACEKIT_CI_BUCKET: CI_BUCKET,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    FACEKIT_FACEPP_API_KEY: FACEPP_KEY,
    FACEKIT_FACEPP_API_SECRET: FACEPP_SECRET,
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.stop(), s3?.stop(), new Promise((resolve) => images?.close(resolve))]);
});

interface Reply {
  status: number;
  contentType: string;
  text: string;
  json: any;
}

async function send(route: string, init: RequestInit): Promise<Reply> {
  const response = await fetch(`${server.url}${route}`, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

function form(fields: Record<string, string>, files: Record<string, Buffer> = {}): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  for (const [name, bytes] of Object.entries(files)) data.append(name, new Blob([bytes], { type: 'image/jpeg' }), `${name}.jpg`);
  return data;
}

const isInt = (value: unknown): boolean => Number.isInteger(value);
const inRange = (value: number, min: number, max: number): boolean => value >= min && value <= max;
const area = (box: { width: number; height: number }): number => box.width * box.height;

/** Ordered by area, largest first; sizes may be rounded to integers, so allow one pixel of rounding. */
function expectLargestFirst(boxes: Array<{ width: number; height: number }>): void {
  for (let i = 1; i < boxes.length; i++) {
    const previous = boxes[i - 1]!;
    expect((previous.width + 1) * (previous.height + 1)).toBeGreaterThanOrEqual(area(boxes[i]!));
  }
}

function expectPercentages(object: Record<string, number>, names: string[]): void {
  expect(Object.keys(object).sort()).toEqual([...names].sort());
  for (const value of Object.values(object)) expect(inRange(value, 0, 100)).toBe(true);
  expect(Object.values(object).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 2);
}

// ---------------------------------------------------------------------------------------------
describe('Face++ POST /facepp/v3/detect', () => {
  const ROUTE = '/facepp/v3/detect';

  it('answers the documented sample request (multipart, 83 landmarks, attributes)', async () => {
    const reply = await send(ROUTE, {
      method: 'POST',
      body: form(
        {
          ...CREDENTIALS,
          return_landmark: '1',
          return_attributes: 'gender,age,smiling,headpose,facequality,blur,eyestatus,emotion,mouthstatus,eyegaze,beauty,skinstatus',
        },
        { image_file: PORTRAIT },
      ),
    });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    const body = reply.json;
    expect(Object.keys(body).sort()).toEqual(['face_num', 'faces', 'image_id', 'request_id', 'time_used']);
    expect(body.request_id).toMatch(/^\d{10},[0-9a-f-]{36}$/);
    expect(isInt(body.time_used) && body.time_used >= 0).toBe(true);
    expect(typeof body.image_id).toBe('string');
    expect(body.face_num).toBe(body.faces.length);
    expect(body.faces.length).toBeGreaterThanOrEqual(1);

    const [face] = body.faces;
    expect(face.face_token).toMatch(/^[0-9a-f]{32}$/);
    const rectangle = face.face_rectangle;
    expect(Object.keys(rectangle).sort()).toEqual(['height', 'left', 'top', 'width']);
    for (const value of Object.values(rectangle)) expect(isInt(value)).toBe(true);
    expect(rectangle.left + rectangle.width).toBeLessThanOrEqual(PORTRAIT_SIZE.width + 2);

    expect(Object.keys(face.landmark)).toHaveLength(83);
    for (const point of Object.values(face.landmark) as Array<{ x: number; y: number }>) {
      expect(isInt(point.x) && isInt(point.y)).toBe(true);
    }
    // The pupils sit inside the face rectangle.
    for (const pupil of [face.landmark.left_eye_pupil, face.landmark.right_eye_pupil]) {
      expect(inRange(pupil.x, rectangle.left, rectangle.left + rectangle.width)).toBe(true);
      expect(inRange(pupil.y, rectangle.top, rectangle.top + rectangle.height)).toBe(true);
    }
    expect(face.landmark.left_eye_pupil.x).toBeLessThan(face.landmark.right_eye_pupil.x);

    const attributes = face.attributes;
    expect(Object.keys(attributes).sort()).toEqual(
      ['age', 'blur', 'emotion', 'eyegaze', 'eyestatus', 'facequality', 'gender', 'headpose', 'mouthstatus', 'smile'].sort(),
    );
    expect(['Male', 'Female']).toContain(attributes.gender.value);
    expect(isInt(attributes.age.value)).toBe(true);
    expect(inRange(attributes.smile.value, 0, 100)).toBe(true);
    expect(typeof attributes.smile.threshold).toBe('number');
    for (const angle of ['pitch_angle', 'roll_angle', 'yaw_angle']) expect(inRange(attributes.headpose[angle], -180, 180)).toBe(true);
    expect(inRange(attributes.blur.blurness.value, 0, 100)).toBe(true);
    expect(inRange(attributes.facequality.value, 0, 100)).toBe(true);
    const eyeNames = ['occlusion', 'no_glass_eye_open', 'normal_glass_eye_close', 'normal_glass_eye_open', 'dark_glasses', 'no_glass_eye_close'];
    expectPercentages(attributes.eyestatus.left_eye_status, eyeNames);
    expectPercentages(attributes.eyestatus.right_eye_status, eyeNames);
    expectPercentages(attributes.emotion, ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise']);
    expectPercentages(attributes.mouthstatus, ['surgical_mask_or_respirator', 'other_occlusion', 'close', 'open']);
    for (const eye of ['left_eye_gaze', 'right_eye_gaze']) {
      expect(Object.keys(attributes.eyegaze[eye]).sort()).toEqual(
        ['position_x_coordinate', 'position_y_coordinate', 'vector_x_component', 'vector_y_component', 'vector_z_component'].sort(),
      );
    }
    expect(attributes.beauty).toBeUndefined();
    expect(attributes.skinstatus).toBeUndefined();
  });

  it('reads image_base64 from a urlencoded body and returns 106 named points', async () => {
    const reply = await send(ROUTE, {
      method: 'POST',
      body: new URLSearchParams({ ...CREDENTIALS, image_base64: PORTRAIT.toString('base64'), return_landmark: '2' }),
    });
    expect(reply.status).toBe(200);
    const [face] = reply.json.faces;
    expect(Object.keys(face.landmark)).toHaveLength(106);
    expect(face.landmark.contour_chin.y).toBeGreaterThan(face.landmark.nose_tip.y);
    expect(face.attributes).toBeUndefined();
  });

  it('reads image_url and returns rectangles only by default', async () => {
    const reply = await send(ROUTE, { method: 'POST', body: new URLSearchParams({ ...CREDENTIALS, image_url: `${imagesUrl}/group.jpg` }) });
    expect(reply.status).toBe(200);
    expect(reply.json.faces.length).toBeGreaterThan(1);
    for (const face of reply.json.faces) expect(Object.keys(face).sort()).toEqual(['face_rectangle', 'face_token']);
    expectLargestFirst(reply.json.faces.map((face: any) => face.face_rectangle));
  });

  it('analyses only the 5 largest faces unless calculate_all=1', async () => {
    const fields = { ...CREDENTIALS, return_attributes: 'gender,age' };
    const five = await send(ROUTE, { method: 'POST', body: form(fields, { image_file: CROWD }) });
    expect(five.status).toBe(200);
    const faces = five.json.faces;
    expect(faces.length).toBeGreaterThan(5);
    expectLargestFirst(faces.map((face: any) => face.face_rectangle));
    expect(faces.slice(0, 5).every((face: any) => face.attributes?.gender && face.attributes?.age)).toBe(true);
    expect(faces.slice(5).every((face: any) => face.attributes === undefined)).toBe(true);

    const all = await send(ROUTE, { method: 'POST', body: form({ ...fields, calculate_all: '1' }, { image_file: CROWD }) });
    expect(all.json.faces.every((face: any) => face.attributes?.gender)).toBe(true);
  });

  it('restricts detection to face_rectangle', async () => {
    const all = await send(ROUTE, { method: 'POST', body: form(CREDENTIALS, { image_file: GROUP }) });
    const largest = all.json.faces[0].face_rectangle;
    const margin = 20;
    const rectangle = [largest.top - margin, largest.left - margin, largest.width + 2 * margin, largest.height + 2 * margin]
      .map((value) => Math.max(0, value))
      .join(',');
    const inside = await send(ROUTE, { method: 'POST', body: form({ ...CREDENTIALS, face_rectangle: rectangle }, { image_file: GROUP }) });
    expect(inside.status).toBe(200);
    expect(inside.json.faces.length).toBeGreaterThanOrEqual(1);
    expect(inside.json.faces.length).toBeLessThan(all.json.faces.length);
  });

  it.each([
    ['no api_key', { api_secret: FACEPP_SECRET }, {}, 400, 'MISSING_ARGUMENTS: api_key'],
    ['wrong credentials', { api_key: FACEPP_KEY, api_secret: 'wrong' }, { image_file: PORTRAIT }, 401, 'AUTHENTICATION_ERROR'],
    ['no image', CREDENTIALS, {}, 400, 'MISSING_ARGUMENTS: image_url, image_file, image_base64'],
    ['an unknown attribute', { ...CREDENTIALS, return_attributes: 'gender,hat' }, { image_file: PORTRAIT }, 400, 'BAD_ARGUMENTS:return_attributes'],
    ['return_landmark=3', { ...CREDENTIALS, return_landmark: '3' }, { image_file: PORTRAIT }, 400, 'BAD_ARGUMENTS:return_landmark'],
    ['a malformed face_rectangle', { ...CREDENTIALS, face_rectangle: '1,2,3' }, { image_file: PORTRAIT }, 400, 'BAD_ARGUMENTS:face_rectangle'],
    ['a text file', CREDENTIALS, { image_file: NOT_AN_IMAGE }, 400, 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_file'],
    ['a truncated JPEG', CREDENTIALS, { image_file: TRUNCATED }, 400, 'IMAGE_ERROR_UNSUPPORTED_FORMAT:image_file'],
    ['a 4×4 image', CREDENTIALS, { image_file: TINY }, 400, 'INVALID_IMAGE_SIZE:image_file'],
    ['a file over the byte limit', CREDENTIALS, { image_file: Buffer.alloc(MAX_IMAGE_BYTES + 1024) }, 400, 'IMAGE_FILE_TOO_LARGE:image_file'],
  ])('rejects %s', async (_label, fields, files, status, message) => {
    const reply = await send(ROUTE, { method: 'POST', body: form(fields as Record<string, string>, files as Record<string, Buffer>) });
    expect(reply.status).toBe(status);
    expect(Object.keys(reply.json).sort()).toEqual(['error_message', 'request_id', 'time_used']);
    expect(reply.json.error_message).toBe(message);
  });

  it('names the image field in image errors and maps download failures', async () => {
    const badBase64 = await send(ROUTE, { method: 'POST', body: new URLSearchParams({ ...CREDENTIALS, image_base64: NOT_AN_IMAGE.toString('base64') }) });
    expect(badBase64.json.error_message).toBe('IMAGE_ERROR_UNSUPPORTED_FORMAT:image_base64');
    const missing = await send(ROUTE, { method: 'POST', body: new URLSearchParams({ ...CREDENTIALS, image_url: `${imagesUrl}/missing.jpg` }) });
    expect([missing.status, missing.json.error_message]).toEqual([400, 'INVALID_IMAGE_URL']);
    const textUrl = await send(ROUTE, { method: 'POST', body: new URLSearchParams({ ...CREDENTIALS, image_url: `${imagesUrl}/text.jpg` }) });
    expect(textUrl.json.error_message).toBe('IMAGE_ERROR_UNSUPPORTED_FORMAT:image_url');
  });

  it('answers 413 in plain text for a request entity over the limit, and API_NOT_FOUND for GET', async () => {
    // Exactly one byte over the router's body cap: the server reads all of it, so the client never
    // races the early close (a larger body could fail with EPIPE while still being written).
    const overhead = Buffer.from(await new Response(form(CREDENTIALS, { image_file: Buffer.alloc(0) })).arrayBuffer()).length;
    const oversized = new Response(form(CREDENTIALS, { image_file: Buffer.alloc(maxRequestBodyBytes(MAX_IMAGE_BYTES) + 1 - overhead) }));
    const body = Buffer.from(await oversized.arrayBuffer());
    expect(body.length).toBe(maxRequestBodyBytes(MAX_IMAGE_BYTES) + 1);
    const huge = await send(ROUTE, { method: 'POST', headers: { 'content-type': oversized.headers.get('content-type')! }, body });
    expect(huge.status).toBe(413);
    expect(huge.contentType).toMatch(/^text\/plain/);
    expect(huge.text).toBe('Request Entity Too Large');
    const get = await send(ROUTE, { method: 'GET' });
    expect([get.status, get.json.error_message]).toEqual([404, 'API_NOT_FOUND']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Tencent CI GET /ci/{key}?ci-process=DetectFace', () => {
  const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'FaceInfos' });

  async function get(route: string): Promise<{ status: number; contentType: string; document: any }> {
    const reply = await send(route, { method: 'GET' });
    return { status: reply.status, contentType: reply.contentType, document: xml.parse(reply.text) };
  }

  it('answers the documented request with the documented XML', async () => {
    const { status, contentType, document } = await get('/ci/people/group%20photo.jpg?ci-process=DetectFace&max-face-num=3');
    expect(status).toBe(200);
    expect(contentType).toBe('application/xml');
    const response = document.Response;
    expect(Object.keys(response)).toEqual(['ImageWidth', 'ImageHeight', 'FaceModelVersion', 'RequestId', 'Status', 'FaceInfos']);
    expect(response.ImageWidth).toBe(String(GROUP_SIZE.width));
    expect(response.ImageHeight).toBe(String(GROUP_SIZE.height));
    expect(response.FaceModelVersion.length).toBeGreaterThan(0);
    expect(response.RequestId.length).toBeGreaterThan(0);
    expect(response.Status).toBe('1');
    expect(response.FaceInfos).toHaveLength(3);
    for (const face of response.FaceInfos) {
      expect(Object.keys(face)).toEqual(['Score', 'X', 'Y', 'Width', 'Height']);
      for (const value of Object.values(face) as string[]) expect(value).toMatch(/^-?\d+$/);
      expect(inRange(Number(face.Score), 0, 100)).toBe(true);
    }
    expectLargestFirst(response.FaceInfos.map((face: any) => ({ width: Number(face.Width), height: Number(face.Height) })));
  });

  it('returns only the largest face by default, and Status 0 without FaceInfos when there is none', async () => {
    const one = await get('/ci/portrait.jpg?ci-process=DetectFace');
    expect(one.document.Response.FaceInfos).toHaveLength(1);
    const none = await get('/ci/no-face.jpg?ci-process=DetectFace');
    expect(none.status).toBe(200);
    expect(none.document.Response.Status).toBe('0');
    expect(none.document.Response.FaceInfos).toBeUndefined();
  });

  it.each([
    ['a missing object', '/ci/nothing-here.jpg?ci-process=DetectFace', 404, 'NoSuchKey'],
    ['no ci-process', '/ci/portrait.jpg', 400, 'MissingParameter.ErrorParameterEmpty'],
    ['another ci-process', '/ci/portrait.jpg?ci-process=AIRecognition', 400, 'UnsupportedOperation.UnknowMethod'],
    ['max-face-num=121', '/ci/portrait.jpg?ci-process=DetectFace&max-face-num=121', 400, 'InvalidParameter.InvalidParameter'],
    ['max-face-num=0', '/ci/portrait.jpg?ci-process=DetectFace&max-face-num=0', 400, 'InvalidParameter.InvalidParameter'],
    ['a truncated image', '/ci/truncated.jpg?ci-process=DetectFace', 400, 'FailedOperation.ImageDecodeFailed'],
  ])('answers %s with a COS-style XML error', async (_label, route, status, code) => {
    const reply = await get(route);
    expect(reply.status).toBe(status);
    expect(reply.contentType).toBe('application/xml');
    expect(Object.keys(reply.document.Error)).toEqual(['Code', 'Message', 'RequestId']);
    expect(reply.document.Error.Code).toBe(code);
  });

  it('answers POST with MethodNotAllowed', async () => {
    const reply = await send('/ci/portrait.jpg?ci-process=DetectFace', { method: 'POST', body: 'x' });
    expect(reply.status).toBe(405);
    expect(xml.parse(reply.text).Error.Code).toBe('MethodNotAllowed');
  });
});

// ---------------------------------------------------------------------------------------------
describe('Youtu POST /face/detect', () => {
  const ROUTE = '/face/detect';

  function expectFaceItem(face: any): void {
    expect(Object.keys(face).sort()).toEqual(['age', 'expression', 'face_id', 'gender', 'glass', 'height', 'pitch', 'roll', 'width', 'x', 'y', 'yaw']);
    expect(face.face_id).toMatch(/^\d+$/);
    for (const field of ['x', 'y', 'gender', 'age', 'expression', 'pitch', 'yaw', 'roll']) expect(isInt(face[field])).toBe(true);
    expect(typeof face.width).toBe('number');
    expect(typeof face.height).toBe('number');
    expect(inRange(face.gender, 0, 100)).toBe(true);
    expect(inRange(face.age, 0, 100)).toBe(true);
    expect(inRange(face.expression, 0, 100)).toBe(true);
    expect(typeof face.glass).toBe('boolean');
    expect(inRange(face.pitch, -30, 30) && inRange(face.yaw, -30, 30)).toBe(true);
    expect(inRange(face.roll, -180, 180)).toBe(true);
    expect(face.beauty).toBeUndefined();
  }

  it('answers the documented JSON request (mode 1: the largest face)', async () => {
    const reply = await postJson(`${server.url}${ROUTE}`, { appid: '123456', mode: 1, url: `${imagesUrl}/group.jpg` });
    expect(reply.status).toBe(200);
    expect(reply.json.code).toBe(0);
    expect(reply.json.message).toBe('OK');
    const data = reply.json.data;
    expect(Object.keys(data).sort()).toEqual(['face', 'image_height', 'image_width', 'session_id']);
    expect(data.image_width).toBe(GROUP_SIZE.width);
    expect(data.image_height).toBe(GROUP_SIZE.height);
    expect(data.face).toHaveLength(1);
    expectFaceItem(data.face[0]);
  });

  it('answers the documented multipart request (mode 0: all faces)', async () => {
    const reply = await send(ROUTE, { method: 'POST', body: form({ appid: '123456', mode: '0' }, { image: GROUP }) });
    expect(reply.status).toBe(200);
    expect(reply.json.code).toBe(0);
    expect(reply.json.data.face.length).toBeGreaterThan(1);
    reply.json.data.face.forEach(expectFaceItem);
    expectLargestFirst(reply.json.data.face);
  });

  it('uses url when both url and image are sent', async () => {
    const reply = await send(ROUTE, { method: 'POST', body: form({ appid: '1', url: `${imagesUrl}/portrait.jpg` }, { image: GROUP }) });
    expect(reply.json.data.image_width).toBe(PORTRAIT_SIZE.width);
  });

  it('answers -1101 when no face is found', async () => {
    const reply = await postJson(`${server.url}${ROUTE}`, { appid: '1', url: `${imagesUrl}/no-face.jpg` });
    expect(reply.status).toBe(200);
    expect(reply.json.code).toBe(-1101);
  });

  it.each([
    ['no appid', { url: 'http://example.invalid/a.jpg' }, -1301],
    ['mode 2', { appid: '1', mode: 2, url: 'http://example.invalid/a.jpg' }, 21],
    ['no url', { appid: '1' }, -1300],
    ['a url that 404s', { appid: '1', url: 'MISSING' }, -1308],
    ['a url that is not an image', { appid: '1', url: 'TEXT' }, -1400],
  ])('rejects %s', async (_label, payload, code) => {
    const body = { ...payload } as Record<string, unknown>;
    if (body.url === 'MISSING') body.url = `${imagesUrl}/missing.jpg`;
    if (body.url === 'TEXT') body.url = `${imagesUrl}/text.jpg`;
    const reply = await postJson(`${server.url}${ROUTE}`, body);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.json).toEqual({ code, message: expect.any(String) });
  });

  it('rejects a truncated upload as -1102 and an oversized one as 23', async () => {
    const truncated = await send(ROUTE, { method: 'POST', body: form({ appid: '1' }, { image: TRUNCATED }) });
    expect(truncated.json.code).toBe(-1102);
    const big = await send(ROUTE, { method: 'POST', body: form({ appid: '1' }, { image: Buffer.alloc(MAX_IMAGE_BYTES + 1024) }) });
    expect([big.status, big.json.code]).toEqual([413, 23]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Alibaba POST /green/face/detect', () => {
  const ROUTE = '/green/face/detect';

  it('answers the documented example request', async () => {
    const request = { bizType: 'abc', dataId: 'test2NInmO$tAON6qYUrtCRgLo-1mwxdi', url: `${imagesUrl}/portrait.jpg` };
    const reply = await postJson(`${server.url}${ROUTE}`, request);
    expect(reply.status).toBe(200);
    const body = reply.json;
    expect(Object.keys(body).sort()).toEqual(['code', 'dataId', 'extras', 'faces', 'msg', 'requestId', 'taskId', 'url']);
    expect(body).toMatchObject({ code: 200, msg: 'OK', dataId: request.dataId, url: request.url });
    expect(typeof body.taskId).toBe('string');
    expect(body.extras).toEqual({ width: String(PORTRAIT_SIZE.width), height: String(PORTRAIT_SIZE.height) });
    expect(body.faces.length).toBeGreaterThanOrEqual(1);
    const [face] = body.faces;
    expect(Object.keys(face).sort()).toEqual(['glasses', 'location', 'qualified', 'quality', 'respirator', 'smile']);
    expect(Object.keys(face.location).sort()).toEqual(['h', 'w', 'x', 'y']);
    expect(inRange(face.smile.value, 0, 1)).toBe(true);
    expect(['None', 'Wear', 'Sunglass']).toContain(face.glasses.value);
    expect(inRange(face.glasses.rate, 0, 1)).toBe(true);
    expect(Object.keys(face.quality).sort()).toEqual(['blur', 'pitch', 'roll', 'yaw']);
    expect(inRange(face.quality.blur, 0, 20)).toBe(true);
    const qualified =
      face.quality.blur < 5 &&
      face.glasses.value !== 'Sunglass' &&
      [face.quality.pitch, face.quality.yaw, face.quality.roll].every((angle: number) => Math.abs(angle) <= 30);
    expect(face.qualified).toBe(qualified);
    expect(['Wear', 'None']).toContain(face.respirator.value);
    expect(inRange(face.respirator.rate, 0, 1)).toBe(true);
  });

  it('returns every face of a group, largest first, and no dataId when none was sent', async () => {
    const reply = await postJson(`${server.url}${ROUTE}`, { url: `${imagesUrl}/group.jpg` });
    expect(reply.status).toBe(200);
    expect('dataId' in reply.json).toBe(false);
    expect(reply.json.faces.length).toBeGreaterThan(1);
    expectLargestFirst(reply.json.faces.map((face: any) => ({ width: face.location.w, height: face.location.h })));
  });

  it.each([
    ['no url', {}, 400],
    ['an ftp url', { url: 'ftp://example.com/a.jpg' }, 400],
    ['a url over 2048 characters', { url: `http://example.com/${'a'.repeat(2048)}` }, 400],
    ['a url that 404s', { url: 'MISSING' }, 400],
    ['a url that is not an image', { url: 'TEXT' }, 400],
  ])('rejects %s with code = HTTP status, echoing dataId', async (_label, payload, status) => {
    const body = { dataId: 'd-1', ...payload } as Record<string, unknown>;
    if (body.url === 'MISSING') body.url = `${imagesUrl}/missing.jpg`;
    if (body.url === 'TEXT') body.url = `${imagesUrl}/text.jpg`;
    const reply = await postJson(`${server.url}${ROUTE}`, body);
    expect(reply.status).toBe(status);
    expect(reply.json.code).toBe(status);
    expect(reply.json.dataId).toBe('d-1');
    expect(typeof reply.json.msg).toBe('string');
    expect(typeof reply.json.taskId).toBe('string');
  });

  it('refuses the cloud metadata address with 403', async () => {
    const reply = await postJson(`${server.url}${ROUTE}`, { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(reply.status).toBe(403);
    expect(reply.json.code).toBe(403);
  });
});
