/**
 * Eye gaze from MediaPipe's iris landmark model (human_iris_mediapipe.onnx, Apache-2.0).
 * Input [N,3,64,64] RGB 0..1: a square eye crop, EYE_CROP_SCALE× the eye-corner distance, levelled
 * on the eye line; the model was trained on one eye side, so the image-right eye is mirrored.
 * Output [N,1,1,228] = 76 × (x, y, z) in 64-px crop units: 0-70 eye/brow contours (0-15 the lid
 * contour: 0 and 8 the corners), 71 the iris centre, 72-75 the iris edge.
 *
 * Direction (an approximation, documented in docs/attributes.md): the eyeball is a sphere of
 * radius EYEBALL_RADIUS_RATIO × the eye width centred behind the lid-contour centre; the iris centre's
 * offset from that centre, in the levelled eye frame, gives the rotation of the eye in its socket:
 * x = dx / r, y = dy / r, z = √(1 − x² − y²) towards the camera, rotated back by the head roll into
 * image axes (x right, y down). Head yaw/pitch are NOT added: the vector is the eye-in-head
 * direction seen in the image plane.
 */
import type { RgbImage } from '../../image/types.js';
import { firstOutput, runFaceModel, type FaceModel } from '../face-model.js';
import { applyAffine, invertAffine, warpAffineToTensor, type Affine } from '../geometry.js';
import { MODELS } from '../models.js';
import type { SessionSettings } from '../session.js';
import type { EyeGaze, Point } from '../types.js';
import { distance, midpoint, type AttributeFace } from './common.js';

export const IRIS_INPUT_SIZE = MODELS.iris.input.size;
export const EYE_CROP_SCALE = 2.3;
const IRIS_POINTS = 76;
const IRIS_CENTRE = 71;
/** Lid contour (first ring), corners at LID_CORNERS. */
const LID_CONTOUR_COUNT = 16;
const LID_CORNERS = [0, 8] as const;
/** Eyeball radius over the eye (corner-to-corner) width: ≈12 mm / 30 mm. */
export const EYEBALL_RADIUS_RATIO = 0.4;
/** Largest in-plane component kept (≈ 64° eye rotation), so z stays positive. */
const MAX_PLANE_COMPONENT = 0.9;
/** Eye width over the pupil distance, used when only the 5 points are known. */
export const EYE_WIDTH_TO_PUPIL_DISTANCE = 0.47;

/** 2d106 eye corners: [image-left eye, image-right eye] × [left corner, right corner]. */
const EYE_CORNERS_106 = [[35, 39], [89, 93]] as const;

export interface EyeRegion {
  readonly center: Point;
  /** Corner-to-corner width in pixels. */
  readonly width: number;
  /** Eye-line angle in radians (image axes, y down). */
  readonly angle: number;
  /** True for the image-right eye (mirrored into the model's side). */
  readonly mirror: boolean;
}

/** Both eyes of a face: from the 106 corners when present, else estimated from the 5 points. */
export function eyeRegions(face: AttributeFace): [EyeRegion, EyeRegion] {
  const [leftPupil, rightPupil] = face.landmarks5;
  const angle = Math.atan2(rightPupil.y - leftPupil.y, rightPupil.x - leftPupil.x);
  const points = face.landmarks106;
  const region = (side: 0 | 1): EyeRegion => {
    if (points) {
      const [a, b] = EYE_CORNERS_106[side];
      return { center: midpoint(points[a], points[b]), width: distance(points[a], points[b]), angle, mirror: side === 1 };
    }
    return { center: side === 0 ? leftPupil : rightPupil, width: EYE_WIDTH_TO_PUPIL_DISTANCE * distance(leftPupil, rightPupil), angle, mirror: side === 1 };
  };
  return [region(0), region(1)];
}

/** Image → eye-crop transform: rotate the eye line level, scale the crop side to 64 px, mirror if asked. */
export function eyeCropTransform(eye: EyeRegion, size = IRIS_INPUT_SIZE): Affine {
  const scale = size / Math.max(EYE_CROP_SCALE * eye.width, 1e-6);
  const cos = Math.cos(-eye.angle) * scale, sin = Math.sin(-eye.angle) * scale;
  const flip = eye.mirror ? -1 : 1;
  // x' = flip·(cos·dx − sin·dy) + c, y' = sin·dx + cos·dy + c, with d = p − centre, c = size/2 − 0.5
  // (the region centre lands between the two middle pixels).
  const a = flip * cos, b = -flip * sin, c = sin, d = cos;
  const half = size / 2 - 0.5;
  const { x, y } = eye.center;
  // Centre given in pixel-edge coordinates → sample coordinates (−0.5).
  const cx = x - 0.5, cy = y - 0.5;
  return [a, b, half - (a * cx + b * cy), c, d, half - (c * cx + d * cy)];
}

export function preprocessGaze(image: RgbImage, faces: readonly AttributeFace[]): { batch: Float32Array; eyes: EyeRegion[] } {
  const slot = 3 * IRIS_INPUT_SIZE * IRIS_INPUT_SIZE;
  const eyes = faces.flatMap((face) => eyeRegions(face));
  const batch = new Float32Array(eyes.length * slot);
  eyes.forEach((eye, index) => {
    warpAffineToTensor(image, eyeCropTransform(eye), IRIS_INPUT_SIZE, IRIS_INPUT_SIZE, { mean: 0, std: 255, order: 'rgb' }, batch, index * slot);
  });
  return { batch, eyes };
}

/** Gaze vector from the iris centre and the lid contour, both in the levelled eye frame (crop px). */
export function gazeVectorInEyeFrame(iris: Point, lidContour: readonly Point[], eyeWidth: number): { x: number; y: number; z: number } {
  const centre = lidContour.reduce((sum, p) => ({ x: sum.x + p.x / lidContour.length, y: sum.y + p.y / lidContour.length }), { x: 0, y: 0 });
  const radius = Math.max(EYEBALL_RADIUS_RATIO * eyeWidth, 1e-6);
  let x = (iris.x - centre.x) / radius;
  let y = (iris.y - centre.y) / radius;
  const length = Math.hypot(x, y);
  if (length > MAX_PLANE_COMPONENT) { x *= MAX_PLANE_COMPONENT / length; y *= MAX_PLANE_COMPONENT / length; }
  return { x, y, z: Math.sqrt(1 - x * x - y * y) };
}

/** Rotates an eye-frame vector back into image axes (undoes the levelling by `angle`). */
export function rotateToImage(vector: { x: number; y: number; z: number }, angle: number) {
  const cos = Math.cos(angle), sin = Math.sin(angle);
  return { x: cos * vector.x - sin * vector.y, y: sin * vector.x + cos * vector.y, z: vector.z };
}

/** Decodes one eye: 76×3 model values → pupil in image px and the unit direction in image axes. */
export function decodeEye(values: ArrayLike<number>, eye: EyeRegion): EyeGaze {
  // Model coordinates are continuous crop coordinates (0..64); sample coordinates are −0.5.
  const cropPoint = (index: number): Point => ({ x: values[index * 3] - 0.5, y: values[index * 3 + 1] - 0.5 });
  const unmirror = (p: Point): Point => (eye.mirror ? { x: IRIS_INPUT_SIZE - 1 - p.x, y: p.y } : p);
  const toImage = invertAffine(eyeCropTransform(eye));
  const iris = cropPoint(IRIS_CENTRE);
  const position = applyAffine(toImage, iris);
  // Levelled, un-mirrored eye frame (so +x is the image's right for both eyes).
  const lid = Array.from({ length: LID_CONTOUR_COUNT }, (_, i) => unmirror(cropPoint(i)));
  const eyeWidth = distance(unmirror(cropPoint(LID_CORNERS[0])), unmirror(cropPoint(LID_CORNERS[1])));
  const vector = rotateToImage(gazeVectorInEyeFrame(unmirror(iris), lid, eyeWidth), eye.angle);
  return { position: { x: position.x + 0.5, y: position.y + 0.5 }, vector };
}

export function postprocessGaze(output: Float32Array, eyes: readonly EyeRegion[]): { left: EyeGaze; right: EyeGaze }[] {
  const stride = IRIS_POINTS * 3;
  if (output.length !== eyes.length * stride) throw new Error(`iris output has ${output.length} values, expected ${eyes.length * stride}`);
  const decoded = eyes.map((eye, i) => decodeEye(output.subarray(i * stride, (i + 1) * stride), eye));
  return Array.from({ length: eyes.length / 2 }, (_, face) => ({ left: decoded[2 * face], right: decoded[2 * face + 1] }));
}

/** Two items per face (its eyes, image left then right), so both eyes of all faces run in one batch. */
export const irisModel: FaceModel<AttributeFace, { left: EyeGaze; right: EyeGaze }> = {
  ...MODELS.iris,
  preprocess: (image, faces) => preprocessGaze(image, faces).batch,
  postprocess: (outputs, faces) => postprocessGaze(firstOutput(outputs, 'iris'), faces.flatMap((face) => eyeRegions(face))),
};

export function runGaze(image: RgbImage, faces: readonly AttributeFace[], settings: SessionSettings) {
  return runFaceModel(irisModel, settings, image, faces);
}
