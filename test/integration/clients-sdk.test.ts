/**
 * The services' own client libraries, unchanged, pointed at the running local server (the
 * `npm start` bundle) with the settings docs/clients.md gives: @aws-sdk/client-rekognition,
 * cos-nodejs-sdk-v5, @alicloud/pop-core, plus the documentation's own request examples (Youtu's
 * multipart example of doc 003 and Face++'s curl example of doc 001) sent as written. Real models on
 * real images; S3 objects through s3rver. Each check reads the SDK's own parsed result or error.
 */
import {
  AccessDeniedException, DetectFacesCommand, ImageTooLargeException, InvalidImageFormatException, InvalidParameterException,
  InvalidS3ObjectException, LandmarkType, EmotionName, RekognitionClient, ThrottlingException, type FaceDetail,
} from '@aws-sdk/client-rekognition';
import ROAClient from '@alicloud/pop-core/lib/roa.js';
import COS from 'cos-nodejs-sdk-v5';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { EVAL_DIR, REPO_ROOT, startLocalServer, type LocalServer } from '../helpers/local-server.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';

const evalImage = (file: string): Buffer => readFileSync(path.join(EVAL_DIR, file));
const PORTRAIT_FILE = path.join(EVAL_DIR, 'unlabeled/dlib_faces/Tom_Cruise_avp_2014_4.jpg');
const PORTRAIT = readFileSync(PORTRAIT_FILE);
/** Where the face is (565×800 portrait), from the detector's answer on the native route. */
const PORTRAIT_SIZE = { width: 565, height: 800 };
const GROUP = evalImage('unlabeled/faceapi_examples/bbt1.jpg');
const NOT_AN_IMAGE = readFileSync(path.join(REPO_ROOT, 'test/fixtures/malformed/text.txt'));

const BUCKET = 'facekit-images';
const FORBIDDEN_BUCKET = 'not-allowed';
/** COS bucket names are `<name>-<appid>`; the host-style name never reaches facekit (it reads FACEKIT_CI_BUCKET). */
const COS_BUCKET = 'examplebucket-1250000000';
const run = promisify(execFile);

let server: LocalServer;
let s3: TestS3;
let images: ImageServer;
let imagesUrl: string;
let rekognition: RekognitionClient;
let lastAuthorization = '';
let lastPath = '';

beforeAll(async () => {
  s3 = await startS3rver([BUCKET, FORBIDDEN_BUCKET]);
  await s3.put(BUCKET, 'people/group photo.jpg', GROUP);
  await s3.put(BUCKET, 'portrait.jpg', PORTRAIT);
  await s3.put(FORBIDDEN_BUCKET, 'portrait.jpg', PORTRAIT);
  images = await startImageServer({ '/portrait.jpg': PORTRAIT });
  imagesUrl = images.url;
  server = await startLocalServer({
    FACEKIT_TEST_ALLOW_LOOPBACK: '1',
    FACEKIT_S3_ENDPOINT: s3.endpoint,
    FACEKIT_S3_BUCKETS: BUCKET,
    FACEKIT_CI_BUCKET: BUCKET,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    // One analysis at a time and no queue: a burst gets ThrottlingException (tests below are sequential).
    FACEKIT_MAX_CONCURRENT: '1',
    FACEKIT_MAX_QUEUED: '0',
  });
  // docs/clients.md: the deployed setting adds signingName 'execute-api' (IAM auth of API Gateway).
  // (signingName is read by the SDK's SigV4 signer but missing from the TypeScript config type.)
  const config = {
    endpoint: `${server.url}/rekognition`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    signingName: 'execute-api',
    maxAttempts: 1,
  };
  rekognition = new RekognitionClient(config);
  // The request as sent, after signing: the tests check the scope API Gateway's IAM auth expects.
  rekognition.middlewareStack.add((next) => async (args) => {
    const headers = (args.request as { headers: Record<string, string> }).headers;
    lastAuthorization = headers.authorization ?? '';
    lastPath = (args.request as { path: string }).path;
    return next(args);
  }, { step: 'deserialize', name: 'captureSignedRequest' });
}, 120_000);

afterAll(async () => {
  rekognition?.destroy();
  await server?.stop();
  await images?.stop();
  await s3?.stop();
});

async function rekognitionError(promise: Promise<unknown>): Promise<Error & { name: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { name: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error('the call succeeded');
}

function expectRatio(value: number | undefined): void {
  expect(typeof value).toBe('number');
  expect(value!).toBeGreaterThanOrEqual(-0.05);
  expect(value!).toBeLessThanOrEqual(1.05);
}

function expectPercent(value: number | undefined): void {
  expect(typeof value).toBe('number');
  expect(value!).toBeGreaterThanOrEqual(0);
  expect(value!).toBeLessThanOrEqual(100);
}

function expectDecision(field: { Value?: boolean; Confidence?: number } | undefined): void {
  expect(typeof field?.Value).toBe('boolean');
  expectPercent(field?.Confidence);
  expect(field!.Confidence!).toBeGreaterThanOrEqual(50);
}

describe('@aws-sdk/client-rekognition DetectFaces', () => {
  it('Image.Bytes with Attributes ALL: every FaceDetail field in Rekognition\'s names, enums and ranges', async () => {
    const answer = await rekognition.send(new DetectFacesCommand({ Image: { Bytes: PORTRAIT }, Attributes: ['ALL'] }));
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(answer.$metadata.requestId).toMatch(/\S/);
    expect(lastAuthorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, /);
    expect(lastPath).toMatch(/^\/rekognition\/?$/);
    expect(answer.FaceDetails).toHaveLength(1);
    const face = answer.FaceDetails![0] as FaceDetail;
    const box = face.BoundingBox!;
    [box.Left, box.Top, box.Width, box.Height].forEach(expectRatio);
    // The one face of the portrait is in its upper half and covers a good part of its width.
    expect(box.Width!).toBeGreaterThan(0.3);
    expect(box.Top! + box.Height! / 2).toBeLessThan(0.6);
    expectPercent(face.Confidence);
    expect(face.Confidence!).toBeGreaterThan(50);

    expect(new Set(face.Landmarks!.map((landmark) => landmark.Type))).toEqual(new Set(Object.values(LandmarkType)));
    for (const landmark of face.Landmarks!) {
      expect(landmark.X!).toBeGreaterThanOrEqual(box.Left! - 0.05);
      expect(landmark.X!).toBeLessThanOrEqual(box.Left! + box.Width! + 0.05);
      expect(landmark.Y!).toBeGreaterThanOrEqual(box.Top! - 0.05);
      expect(landmark.Y!).toBeLessThanOrEqual(box.Top! + box.Height! + 0.05);
    }
    const landmark = (type: string) => face.Landmarks!.find((item) => item.Type === type)!;
    // Image-left/right as Rekognition: eyeLeft has the smaller X; the nose lies between the eyes and the mouth.
    expect(landmark('eyeLeft').X!).toBeLessThan(landmark('eyeRight').X!);
    expect(landmark('mouthLeft').X!).toBeLessThan(landmark('mouthRight').X!);
    expect(landmark('nose').Y!).toBeGreaterThan(landmark('eyeLeft').Y!);
    expect(landmark('nose').Y!).toBeLessThan(landmark('mouthUp').Y!);
    expect(landmark('chinBottom').Y!).toBeGreaterThan(landmark('mouthDown').Y!);

    for (const angle of [face.Pose!.Roll, face.Pose!.Yaw, face.Pose!.Pitch]) {
      expect(Math.abs(angle!)).toBeLessThanOrEqual(180);
    }
    expectPercent(face.Quality!.Sharpness);
    expectPercent(face.Quality!.Brightness); // the face crop's mean luma (docs/api.md)
    expect(['Male', 'Female']).toContain(face.Gender!.Value);
    expect(face.Gender!.Value).toBe('Male');
    expectPercent(face.Gender!.Confidence);
    expect(typeof face.Smile!.Value).toBe('boolean');
    expectDecision(face.Eyeglasses);
    expectDecision(face.Sunglasses);
    expect(face.Sunglasses!.Value).toBe(false);
    expectDecision(face.EyesOpen);
    expect(face.EyesOpen!.Value).toBe(true);
    expectDecision(face.MouthOpen);
    expectDecision(face.FaceOccluded);
    expect(face.FaceOccluded!.Value).toBe(false);
    const emotionNames = new Set<string>(Object.values(EmotionName));
    expect(face.Emotions!.length).toBeGreaterThan(0);
    for (const emotion of face.Emotions!) {
      expect(emotionNames.has(emotion.Type!)).toBe(true);
      expectPercent(emotion.Confidence);
    }
    expect(face.Emotions!.reduce((sum, emotion) => sum + emotion.Confidence!, 0)).toBeCloseTo(100, 3);
    expect(Math.abs(face.EyeDirection!.Yaw!)).toBeLessThanOrEqual(90);
    expect(Math.abs(face.EyeDirection!.Pitch!)).toBeLessThanOrEqual(90);
    // No model computes them: omitted, never invented.
    expect(face.Beard).toBeUndefined();
    expect(face.Mustache).toBeUndefined();
    // From the age model's interval when it gives one; never derived from a point estimate.
    if (face.AgeRange) expect(face.AgeRange.Low!).toBeLessThanOrEqual(face.AgeRange.High!);
  });

  it('DEFAULT (no Attributes): exactly BoundingBox, Confidence, Landmarks, Pose, Quality', async () => {
    const answer = await rekognition.send(new DetectFacesCommand({ Image: { Bytes: PORTRAIT } }));
    expect(Object.keys(answer.FaceDetails![0]!).sort()).toEqual(['BoundingBox', 'Confidence', 'Landmarks', 'Pose', 'Quality']);
    const some = await rekognition.send(new DetectFacesCommand({ Image: { Bytes: PORTRAIT }, Attributes: ['SMILE', 'BEARD'] }));
    expect(Object.keys(some.FaceDetails![0]!).sort()).toEqual(['BoundingBox', 'Confidence', 'Landmarks', 'Pose', 'Quality', 'Smile']);
  });

  it('Image.S3Object from an allowed bucket; the other S3 errors', async () => {
    const answer = await rekognition.send(new DetectFacesCommand({ Image: { S3Object: { Bucket: BUCKET, Name: 'people/group photo.jpg' } } }));
    // bbt1: the four faces of at least Rekognition's documented 40 px (a fifth, smaller one is not asked for).
    expect(answer.FaceDetails!.length).toBeGreaterThanOrEqual(4);
    const denied = await rekognitionError(rekognition.send(new DetectFacesCommand({ Image: { S3Object: { Bucket: FORBIDDEN_BUCKET, Name: 'portrait.jpg' } } })));
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect(denied.$metadata.httpStatusCode).toBe(400);
    const missing = await rekognitionError(rekognition.send(new DetectFacesCommand({ Image: { S3Object: { Bucket: BUCKET, Name: 'nope.jpg' } } })));
    expect(missing).toBeInstanceOf(InvalidS3ObjectException);
  });

  it('InvalidParameterException, InvalidImageFormatException, ImageTooLargeException as the SDK\'s own classes', async () => {
    const badAttribute = await rekognitionError(rekognition.send(new DetectFacesCommand({ Image: { Bytes: PORTRAIT }, Attributes: ['HAT' as 'ALL'] })));
    expect(badAttribute).toBeInstanceOf(InvalidParameterException);
    expect(badAttribute.message).toMatch(/HAT/);
    expect(badAttribute.$metadata.httpStatusCode).toBe(400);
    const noImage = await rekognitionError(rekognition.send(new DetectFacesCommand({ Image: {} })));
    expect(noImage).toBeInstanceOf(InvalidParameterException);
    const notImage = await rekognitionError(rekognition.send(new DetectFacesCommand({ Image: { Bytes: NOT_AN_IMAGE } })));
    expect(notImage).toBeInstanceOf(InvalidImageFormatException);
    const tooLarge = await rekognitionError(rekognition.send(new DetectFacesCommand({ Image: { Bytes: Buffer.alloc(5 * 1024 * 1024 + 1, 7) } })));
    expect(tooLarge).toBeInstanceOf(ImageTooLargeException);
  });

  it('a burst beyond the analysis slot gets ThrottlingException (HTTP 500, as documented), then the server recovers', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => rekognition.send(new DetectFacesCommand({ Image: { Bytes: GROUP } }))));
    const throttled = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome as PromiseRejectedResult).reason);
    expect(throttled.length).toBeGreaterThan(0);
    for (const error of throttled) {
      expect(error).toBeInstanceOf(ThrottlingException);
      expect(error.$metadata.httpStatusCode).toBe(500);
    }
    expect((await rekognition.send(new DetectFacesCommand({ Image: { Bytes: PORTRAIT } }))).FaceDetails).toHaveLength(1);
  });

  it('another operation or a wrong method on /rekognition: the JSON protocol\'s error shape', async () => {
    const response = await fetch(`${server.url}/rekognition`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'RekognitionService.DetectLabels' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
    const get = await fetch(`${server.url}/rekognition`);
    expect(get.status).toBe(400);
    expect(await get.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

interface CosError { code: string; statusCode: number; error: { Code: string; Message: string; RequestId: string } }

describe('cos-nodejs-sdk-v5 (Domain = facekit host, Protocol http:)', () => {
  const cos = (): COS => new COS({ SecretId: 'AKIDEXAMPLE', SecretKey: 'secret', Domain: server.url.replace(/^http:\/\//, ''), Protocol: 'http:' });
  const detect = (key: string, query: Record<string, string>) =>
    new Promise<any>((resolve, reject) => cos().request({ Bucket: COS_BUCKET, Region: 'ap-guangzhou', Key: key, Method: 'GET', Query: query }, (error, data) => (error ? reject(error) : resolve(data))));

  it('GET /<key>?ci-process=DetectFace (COS\'s own path): the documented XML, parsed by the SDK', async () => {
    const answer = await detect('people/group photo.jpg', { 'ci-process': 'DetectFace', 'max-face-num': '3' });
    expect(answer.statusCode).toBe(200);
    const response = answer.Response;
    expect(response).toMatchObject({ ImageWidth: '1366', ImageHeight: '768', Status: '1' });
    expect(response.RequestId).toMatch(/\S/);
    expect(response.FaceModelVersion).toMatch(/facekit/);
    const faces = [response.FaceInfos].flat();
    expect(faces).toHaveLength(3);
    for (const face of faces) {
      for (const field of ['X', 'Y', 'Width', 'Height', 'Score']) expect(face[field]).toMatch(/^\d+$/);
      expect(Number(face.Score)).toBeLessThanOrEqual(100);
    }
    // largest first (documented: max-face-num keeps the largest faces)
    const areas = faces.map((face) => Number(face.Width) * Number(face.Height));
    expect([...areas].sort((a, b) => b - a)).toEqual(areas);
    const single = await detect('portrait.jpg', { 'ci-process': 'detect-face' });
    expect([single.Response.FaceInfos].flat()).toHaveLength(1);
  });

  it('errors as the SDK\'s error object with COS\'s code', async () => {
    const missing = (await detect('nope.jpg', { 'ci-process': 'DetectFace' }).catch((error) => error)) as CosError;
    expect(missing).toMatchObject({ code: 'NoSuchKey', statusCode: 404 });
    expect(missing.error.RequestId).toMatch(/\S/);
    const unknown = (await detect('portrait.jpg', { 'ci-process': 'AIRecognition' }).catch((error) => error)) as CosError;
    expect(unknown).toMatchObject({ code: 'UnsupportedOperation.UnknowMethod', statusCode: 400 });
    const badCount = (await detect('portrait.jpg', { 'ci-process': 'DetectFace', 'max-face-num': '0' }).catch((error) => error)) as CosError;
    expect(badCount).toMatchObject({ code: 'InvalidParameter.InvalidParameter', statusCode: 400 });
  });

  it('a CI-shaped request on a wrong method is answered in COS XML', async () => {
    const response = await fetch(`${server.url}/portrait.jpg?ci-process=DetectFace`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/xml/);
    expect(await response.text()).toMatch(/<Code>MethodNotAllowed<\/Code>/);
  });
});

describe('@alicloud/pop-core ROAClient', () => {
  /**
   * pop-core's default read timeout is 3 s; a loaded test machine can take longer, and an abandoned
   * request would keep the server's one analysis slot busy for the next test.
   */
  const POP_OPTIONS = { timeout: 60_000 };

  const client = () => new ROAClient({ accessKeyId: 'LTAIEXAMPLE', accessKeySecret: 'secret', endpoint: server.url, apiVersion: '2018-05-09' });

  it('the documented body, sent as pop-core sends it (no Content-Type): the documented answer', async () => {
    const answer = await client().request('POST', '/green/face/detect', {}, JSON.stringify({ url: `${imagesUrl}/portrait.jpg`, dataId: 'd-1' }), {}, POP_OPTIONS);
    expect(answer).toMatchObject({ code: 200, msg: 'OK', dataId: 'd-1', url: `${imagesUrl}/portrait.jpg`, extras: { width: '565', height: '800' } });
    expect(answer.requestId).toMatch(/\S/);
    expect(answer.taskId).toMatch(/^img/);
    expect(answer.faces).toHaveLength(1);
    const [face] = answer.faces;
    expect(face.location.w).toBeGreaterThan(PORTRAIT_SIZE.width * 0.3);
    expect(['None', 'Wear', 'Sunglass']).toContain(face.glasses.value);
    expect(face.quality.blur).toBeGreaterThanOrEqual(0);
    expect(face.quality.blur).toBeLessThanOrEqual(20);
    expect(typeof face.qualified).toBe('boolean');
    expect(face.respirator.value).toBe('None');
  });

  it('errors: pop-core\'s own error carries the code, message and request id', async () => {
    const error = await client().request('POST', '/green/face/detect', {}, JSON.stringify({ url: 'ftp://example.com/a.jpg' }), {}, POP_OPTIONS).catch((caught: unknown) => caught) as Error & { code: string; statusCode: number };
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toMatch(/^code: 400, InvalidParameter: .*http or https.*, requestid: [0-9a-f-]{36}$/);
    const missing = await client().request('POST', '/green/face/detect', {}, JSON.stringify({}), {}, POP_OPTIONS).catch((caught: unknown) => caught) as Error & { code: string };
    expect(missing.code).toBe('InvalidParameter');
    const unknown = await client().request('POST', '/green/face/nope', {}, '{}', {}, POP_OPTIONS).catch((caught: unknown) => caught) as Error & { code: string; statusCode: number };
    expect(unknown).toMatchObject({ code: 'NotFound', statusCode: 404 });
  });
});

describe('the documentation\'s own requests', () => {
  it('Youtu doc 003 multipart example, byte for byte (LF line ends, `name="appid";`), with a real image', async () => {
    const head = [
      '----------------acebdf13572468',
      'Content-Disposition: form-data; name="appid";',
      '',
      '123456',
      '----------------acebdf13572468',
      'Content-Disposition: form-data; name="mode";',
      '',
      '1',
      '----------------acebdf13572468',
      'Content-Disposition: form-data; name="image"; filename="test.jpg"',
      'Content-Type: image/jpeg',
      '',
      '',
    ].join('\n');
    const body = Buffer.concat([Buffer.from(head), PORTRAIT, Buffer.from('\n----------------acebdf13572468--\n')]);
    const response = await fetch(`${server.url}/face/detect`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data;boundary=--------------acebdf13572468' },
      body,
    });
    const answer = (await response.json()) as any;
    expect(response.status).toBe(200);
    expect(answer).toMatchObject({ code: 0, message: 'OK', data: { image_width: 565, image_height: 800 } });
    expect(answer.data.face).toHaveLength(1);
    expect(answer.data.face[0].gender).toBeGreaterThan(50);
  });

  it('Face++ doc 001 curl example (-F fields, image_file=@file), and face_rectangle returned as passed', async () => {
    // The example as written, its <placeholders> filled in (curl reads `-F x=<file` as a file).
    const { stdout } = await run('curl', ['-sS', '-X', 'POST', `${server.url}/facepp/v3/detect`, '-F', 'api_key=my-api-key',
      '-F', 'api_secret=my-api-secret', '-F', `image_file=@${PORTRAIT_FILE}`, '-F', 'return_landmark=1', '-F', 'return_attributes=gender,age']);
    const answer = JSON.parse(stdout);
    expect(answer.face_num).toBe(1);
    expect(answer.faces[0].attributes.gender.value).toBe('Male');
    expect(Object.keys(answer.faces[0].landmark)).toHaveLength(83);
    const { face_rectangle: detected } = answer.faces[0];
    const passed = `${detected.top + 5},${detected.left - 5},${detected.width + 10},${detected.height}`;
    const { stdout: withRectangle } = await run('curl', ['-sS', '-X', 'POST', `${server.url}/facepp/v3/detect`, '-F', 'api_key=k', '-F', 'api_secret=s',
      '-F', `image_file=@${PORTRAIT_FILE}`, '-F', `face_rectangle=${passed}`, '-F', 'return_attributes=gender', '-F', 'return_landmark=2']);
    const given = JSON.parse(withRectangle);
    expect(given.face_num).toBe(1);
    const [top, left, width, height] = passed.split(',').map(Number) as [number, number, number, number];
    expect(given.faces[0].face_rectangle).toEqual({ top, left, width, height });
    expect(given.faces[0].attributes.gender.value).toBe('Male');
    // Analysed as the face it was given: its 106 points lie on that rectangle (± a tenth of its size).
    const points = Object.values(given.faces[0].landmark) as { x: number; y: number }[];
    expect(points).toHaveLength(106);
    for (const point of points) {
      expect(point.x).toBeGreaterThanOrEqual(left - width / 10);
      expect(point.x).toBeLessThanOrEqual(left + width * 1.1);
      expect(point.y).toBeGreaterThanOrEqual(top - height / 10);
      expect(point.y).toBeLessThanOrEqual(top + height * 1.1);
    }
  });
});

describe('README', () => {
  /** Over the 128 KiB a shell argument may hold once base64-encoded (what broke the old example). */
  const LARGE_PHOTO = path.join(EVAL_DIR, 'unlabeled/dlib_faces/bald_guys.jpg');

  it('the request example works for a photo whose base64 exceeds a shell argument (needs jq: Debian package jq)', async () => {
    expect((readFileSync(LARGE_PHOTO).length * 4) / 3).toBeGreaterThan(128 * 1024);
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const example = /```sh\n(base64 [^`]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const command = example!.replaceAll('photo.jpg', JSON.stringify(LARGE_PHOTO)).replaceAll('localhost:8080', server.url.replace(/^http:\/\//, ''));
    const { stdout } = await run('bash', ['-o', 'pipefail', '-c', command], { maxBuffer: 64 * 1024 * 1024 });
    const answer = JSON.parse(stdout);
    expect(answer.Faces.length).toBeGreaterThan(10);
    expect(answer.FaceModelVersion).toMatch(/^facekit-/);
  });
});
