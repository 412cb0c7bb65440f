/** The native dialect's request options: the facekit extensions max_faces and min_face_size reach the planner. */
import { nativeDialect } from '../../lambda/api/native.js';
import { isFacekitError } from '../../lambda/errors.js';
import { jsonRequest, makeContext } from './dialect-fixtures.js';

const IMG = Buffer.from('not decoded here').toString('base64');

test('min_face_size and max_faces become DetectOptions for the detection planner', async () => {
  const parsed = await nativeDialect.parse(jsonRequest('/face_detection', { img: IMG, min_face_size: 48, max_faces: 1 }), makeContext());
  expect(parsed.detect.options.minFaceSize).toBe(48);
  expect(parsed.detect.options.maxFaces).toBe(1);
});

test('without min_face_size the config default applies (no option set)', async () => {
  const parsed = await nativeDialect.parse(jsonRequest('/face_detection', { img: IMG }), makeContext());
  expect(parsed.detect.options.minFaceSize).toBeUndefined();
});

test.each([0, -5, 5000, 'big'])('min_face_size %p is a 400 naming the field', async (value) => {
  const error = await nativeDialect.parse(jsonRequest('/face_detection', { img: IMG, min_face_size: value }), makeContext()).catch((caught: unknown) => caught);
  expect(isFacekitError(error)).toBe(true);
  expect((error as { status: number }).status).toBe(400);
  expect((error as Error).message).toContain('min_face_size');
});
