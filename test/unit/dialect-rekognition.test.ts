/**
 * The Rekognition DetectFaces dialect on synthetic pipeline results (no model runs here): request
 * parsing, the FaceDetail fields and their ranges, and the JSON-protocol errors.
 */
import { LandmarkType } from '@aws-sdk/client-rekognition';

import { REKOGNITION_MAX_IMAGE_BYTES, rekognitionDialect } from '../../lambda/api/rekognition.js';
import { FacekitError } from '../../lambda/errors.js';
import { ALL_ERROR_CODES, analysedFace, bareFace, bodyJson, makeContext, makeRequest, makeResult, refusal } from './dialect-fixtures.js';

const PATH = '/rekognition';
const context = makeContext();

function rekognitionRequest(payload: unknown) {
  return makeRequest({
    path: PATH,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'RekognitionService.DetectFaces' },
    body: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  });
}

const BYTES = Buffer.from('fake image').toString('base64');

describe('Rekognition dialect: parse', () => {
  it('DEFAULT asks for 106 points, pose and blur only; ALL for everything a model here computes', async () => {
    const parsed = await rekognitionDialect.parse(rekognitionRequest({ Image: { Bytes: BYTES } }), context);
    expect(parsed.detect.image).toEqual({ kind: 'base64', base64: BYTES, field: 'Image.Bytes' });
    expect(parsed.detect.options).toMatchObject({ landmarks106: true, genderAge: false, maxFaces: 100, minFaceSize: 40 });
    expect([...parsed.detect.options.attributes].sort()).toEqual(['blur', 'headPose']);
    const all = await rekognitionDialect.parse(rekognitionRequest({ Image: { Bytes: BYTES }, Attributes: ['ALL'] }), context);
    expect(all.detect.options.genderAge).toBe(true);
    expect([...all.detect.options.attributes].sort()).toEqual(['blur', 'emotion', 'eyeGaze', 'eyeStatus', 'glasses', 'headPose', 'mask', 'mouthStatus', 'smile']);
    const beard = await rekognitionDialect.parse(rekognitionRequest({ Image: { Bytes: BYTES }, Attributes: ['BEARD', 'MUSTACHE'] }), context);
    expect([...beard.detect.options.attributes].sort()).toEqual(['blur', 'headPose']);
  });

  it('S3Object becomes an s3 URL with each key segment encoded and the version kept', async () => {
    const parsed = await rekognitionDialect.parse(rekognitionRequest({ Image: { S3Object: { Bucket: 'b', Name: 'a b/c?.jpg', Version: 'v 1' } } }), context);
    expect(parsed.detect.image).toEqual({ kind: 'url', url: 's3://b/a%20b/c%3F.jpg?versionId=v%201', field: 'Image.S3Object' });
  });

  it('reads a body without Content-Type as JSON (the JSON protocol is the only one here)', async () => {
    const request = makeRequest({ path: PATH, body: Buffer.from(JSON.stringify({ Image: { Bytes: BYTES } })) });
    await expect(rekognitionDialect.parse(request, context)).resolves.toBeDefined();
  });

  it.each([
    [{}, 'InvalidParameterException'],
    [{ Image: {} }, 'InvalidParameterException'],
    [{ Image: { Bytes: BYTES, S3Object: { Bucket: 'b', Name: 'k' } } }, 'InvalidParameterException'],
    [{ Image: { S3Object: { Bucket: 'b' } } }, 'InvalidParameterException'],
    [{ Image: { Bytes: BYTES }, Attributes: ['HAT'] }, 'InvalidParameterException'],
    [{ Image: { Bytes: BYTES }, Attributes: 'ALL' }, 'InvalidParameterException'],
    [{ Image: { Bytes: BYTES }, MaxFaces: 3 }, 'InvalidParameterException'],
    [{ Image: { Bytes: '' } }, 'InvalidImageFormatException'],
    [{ Image: { Bytes: 'A'.repeat(Math.ceil((REKOGNITION_MAX_IMAGE_BYTES + 3) / 3) * 4) } }, 'ImageTooLargeException'],
    ['{not json', 'InvalidParameterException'],
  ])('refuses %j with %s (HTTP 400)', async (payload, type) => {
    const response = await refusal(rekognitionDialect, rekognitionRequest(payload), context);
    expect(response.status).toBe(400);
    expect(response.headers['x-amzn-errortype']).toBe(type);
    expect(bodyJson(response)).toMatchObject({ __type: type, message: expect.any(String), Message: expect.any(String) });
  });
});

describe('Rekognition dialect: format', () => {
  const all = async () => rekognitionDialect.parse(rekognitionRequest({ Image: { Bytes: BYTES }, Attributes: ['ALL'] }), context);

  it('gives every FaceDetail field in Rekognition\'s names and ranges', async () => {
    const face = analysedFace({ ageRange: { low: 22.4, high: 31.2 } });
    const response = rekognitionDialect.format(makeResult([face], 640, 480), await all(), rekognitionRequest({}), context);
    expect(response.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': context.requestId });
    const [detail] = bodyJson(response).FaceDetails;
    expect(detail.BoundingBox).toEqual({ Width: 100.2 / 640, Height: 120.7 / 480, Left: 110.4 / 640, Top: 200.6 / 480 });
    expect(detail.Confidence).toBeCloseTo(98.76, 6);
    expect(detail.AgeRange).toEqual({ Low: 22, High: 32 });
    expect(detail.Gender).toEqual({ Value: 'Female', Confidence: expect.closeTo(87.7, 6) });
    expect(detail.Smile).toEqual({ Value: true });
    expect(detail.Eyeglasses).toEqual({ Value: true, Confidence: expect.closeTo(80, 6) });
    expect(detail.Sunglasses).toEqual({ Value: false, Confidence: expect.closeTo(90, 6) });
    expect(detail.EyesOpen).toEqual({ Value: true, Confidence: expect.closeTo(60, 6) });
    expect(detail.MouthOpen).toEqual({ Value: false, Confidence: expect.closeTo(80, 6) });
    expect(detail.FaceOccluded).toEqual({ Value: false, Confidence: expect.closeTo(70, 6) });
    expect(detail.Emotions[0]).toEqual({ Type: 'HAPPY', Confidence: expect.closeTo(60, 6) });
    expect(detail.Emotions.map((emotion: { Type: string }) => emotion.Type).sort()).toEqual(['ANGRY', 'CALM', 'DISGUSTED', 'FEAR', 'HAPPY', 'SAD', 'SURPRISED']);
    expect(detail.Pose).toEqual({ Roll: -190, Yaw: -12.3456789, Pitch: 35.5 });
    expect(detail.Quality).toEqual({ Brightness: expect.closeTo(43.21, 6), Sharpness: expect.closeTo(87.6544, 6) });
    expect(detail.EyeDirection.Yaw).toBeCloseTo((Math.atan2(0.0117, 0.97) * 180) / Math.PI, 6);
    expect(detail.EyeDirection.Pitch).toBeGreaterThan(0); // the gaze vectors point up (y < 0)
    expect(detail.Beard).toBeUndefined();
    expect(detail.Mustache).toBeUndefined();
    expect(detail.Landmarks.map((landmark: { Type: string }) => landmark.Type).sort()).toEqual(Object.values(LandmarkType).sort());
    // synthetic106: point i = (100.4 + i, 200.6 + 2i); left_eye_center is index 35, contour_chin index 0.
    expect(detail.Landmarks.find((landmark: { Type: string }) => landmark.Type === 'chinBottom')).toEqual({ Type: 'chinBottom', X: 100.4 / 640, Y: 200.6 / 480 });
  });

  it('omits AgeRange when the age model gives no interval (nothing is derived from the point age)', async () => {
    const response = rekognitionDialect.format(makeResult([analysedFace()]), await all(), rekognitionRequest({}), context);
    expect(bodyJson(response).FaceDetails[0].AgeRange).toBeUndefined();
  });

  it('falls back to the five detector points for a face without the 106', async () => {
    const parsed = await rekognitionDialect.parse(rekognitionRequest({ Image: { Bytes: BYTES } }), context);
    const response = rekognitionDialect.format(makeResult([bareFace(10, 50)]), parsed, rekognitionRequest({}), context);
    const [detail] = bodyJson(response).FaceDetails;
    expect(detail.Landmarks.map((landmark: { Type: string }) => landmark.Type)).toEqual(['eyeLeft', 'eyeRight', 'nose', 'mouthLeft', 'mouthRight']);
    expect(Object.keys(detail).sort()).toEqual(['BoundingBox', 'Confidence', 'Landmarks']);
  });
});

describe('Rekognition dialect: errors', () => {
  const DOCUMENTED = new Set(['InvalidParameterException', 'InvalidImageFormatException', 'ImageTooLargeException', 'InvalidS3ObjectException',
    'AccessDeniedException', 'ThrottlingException', 'InternalServerError', 'UnknownOperationException']);

  it.each(ALL_ERROR_CODES)('%s → a documented exception with its status', (code) => {
    const response = rekognitionDialect.formatError(new FacekitError(code, 'm'), rekognitionRequest({}), context);
    const body = bodyJson(response);
    expect(DOCUMENTED.has(body.__type)).toBe(true);
    expect(response.status).toBe(['ThrottlingException', 'InternalServerError'].includes(body.__type) ? 500 : 400);
  });

  it('maps the S3 and throttling cases as the API reference names them', () => {
    const type = (code: ConstructorParameters<typeof FacekitError>[0]) => bodyJson(rekognitionDialect.formatError(new FacekitError(code, 'm'), rekognitionRequest({}), context)).__type;
    expect(type('S3_BUCKET_NOT_ALLOWED')).toBe('AccessDeniedException');
    expect(type('S3_OBJECT_NOT_FOUND')).toBe('InvalidS3ObjectException');
    expect(type('CORRUPT_IMAGE')).toBe('InvalidImageFormatException');
    expect(type('IMAGE_TOO_LARGE')).toBe('ImageTooLargeException');
    expect(type('OVERLOADED')).toBe('ThrottlingException');
  });
});
