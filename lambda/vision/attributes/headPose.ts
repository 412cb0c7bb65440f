/**
 * Head pose in degrees, facekit sign convention (docs/attributes.md):
 *   yaw   > 0: the face turns towards the image's left (the person's own right);
 *   pitch > 0: the face tilts up (chin forward, looking above the camera);
 *   roll  > 0: the face is rotated clockwise in the image (the eye on the image's right is lower).
 * Mirroring the image left/right negates yaw and roll and keeps pitch.
 *
 * Estimator: yaw and pitch from FSA-Net (headpose_fsanet_1x1.onnx and headpose_fsanet_var.onnx,
 * MIT, trained on 300W-LP), the two models averaged. Input [1,3,64,64] BGR (x − 127.5)/128 of a
 * square crop 1.5× the box the 5 points predict (squareFromLandmarks); output [1,3] = yaw, pitch,
 * roll, converted by FSANET_SIGNS.
 * Roll comes from the 5-point eye line instead: it is exact geometry, mirror-symmetric by
 * construction, while FSA-Net's roll correlated only 0.92 with it.
 * The graphs have a fixed batch of 1, so each face is one run (64×64: about 1 ms each).
 *
 * A landmark-only estimate (`geometricHeadPose`) is kept for comparison in the eval script;
 * see docs/attributes.md for why FSA-Net was chosen.
 */
import type { RgbImage } from '../../image/types.js';
import { firstOutput, runFaceModel, type FaceModel } from '../face-model.js';
import { MODELS } from '../models.js';
import type { SessionSettings } from '../session.js';
import type { HeadPose, Point } from '../types.js';
import { squareCropTransform, squareFromLandmarks, type AttributeFace } from './common.js';
import { warpAffineToTensor } from '../geometry.js';
import { FIVE_POINTS_IN_106 } from '../landmarks106.js';

export const HEAD_POSE_INPUT_SIZE = MODELS.headPoseFsanet1x1.input.size;
/**
 * Crop side over the larger (predicted) box side. FSA-Net's demo pads its detector's box by 0.6 per
 * side (2.2×); with SCRFD boxes 1.5× agreed best with the landmark geometry and under mirroring
 * (1.2-2.2 tried).
 */
export const HEAD_POSE_CROP_SCALE = 1.5;
const FSANET_NORMALISATION = { mean: 127.5, std: 128, order: 'bgr' } as const;
/**
 * Multipliers from FSA-Net's [yaw, pitch] to the facekit convention. Measured: FSA-Net yaw
 * correlates +0.99 with the nose-offset yaw of 300-W's hand-labelled 68 points (nose towards the
 * image's left ⇒ positive), and its pitch +0.68 with the landmark pitch (nose tip rising
 * between eyes and mouth ⇒ up ⇒ positive). FSA-Net already follows the facekit signs.
 */
export const FSANET_SIGNS = { yaw: 1, pitch: 1 } as const;

export function headPoseCropTransform(face: AttributeFace, scale = HEAD_POSE_CROP_SCALE) {
  return squareCropTransform(squareFromLandmarks(face.landmarks5, scale), HEAD_POSE_INPUT_SIZE);
}

/** The [N,3,64,64] batch, BGR (x − 127.5)/128 (run one face at a time: the graphs' batch is fixed at 1). */
export function preprocessHeadPose(image: RgbImage, faces: readonly AttributeFace[], scale = HEAD_POSE_CROP_SCALE): Float32Array {
  const slot = 3 * HEAD_POSE_INPUT_SIZE * HEAD_POSE_INPUT_SIZE;
  const batch = new Float32Array(faces.length * slot);
  faces.forEach((face, index) => {
    warpAffineToTensor(image, headPoseCropTransform(face, scale), HEAD_POSE_INPUT_SIZE, HEAD_POSE_INPUT_SIZE, FSANET_NORMALISATION, batch, index * slot);
  });
  return batch;
}

/** FSA-Net's raw [yaw, pitch, roll] (degrees, its own signs) per face. */
export type FsanetOutput = readonly [number, number, number];

function fsanetModel(spec: typeof MODELS.headPoseFsanet1x1 | typeof MODELS.headPoseFsanetVar): FaceModel<AttributeFace, FsanetOutput> {
  return {
    ...spec,
    preprocess: (image, faces) => preprocessHeadPose(image, faces),
    postprocess: (outputs, faces) => {
      const data = firstOutput(outputs, spec.file);
      return faces.map((_, index) => [data[3 * index], data[3 * index + 1], data[3 * index + 2]] as const);
    },
  };
}

/** The two FSA-Net variants whose yaw and pitch are averaged. */
export const headPoseModels = [fsanetModel(MODELS.headPoseFsanet1x1), fsanetModel(MODELS.headPoseFsanetVar)] as const;

/** Averages the models' [yaw, pitch, roll] outputs, converts the signs, takes roll from the eyes. */
export function postprocessHeadPose(outputs: readonly ArrayLike<number>[], landmarks5: readonly Point[]): HeadPose {
  if (outputs.length === 0) throw new Error('no head pose output');
  const mean = [0, 1].map((axis) => outputs.reduce((sum, output) => sum + output[axis], 0) / outputs.length);
  return { yaw: FSANET_SIGNS.yaw * mean[0], pitch: FSANET_SIGNS.pitch * mean[1], roll: rollFromEyes(landmarks5[0], landmarks5[1]) };
}

export async function runHeadPose(image: RgbImage, faces: readonly AttributeFace[], settings: SessionSettings): Promise<HeadPose[]> {
  const perModel: FsanetOutput[][] = [];
  // Sequential: the sessions share the process's intra-op threads.
  for (const model of headPoseModels) perModel.push(await runFaceModel(model, settings, image, faces));
  return faces.map((face, index) => postprocessHeadPose(perModel.map((outputs) => outputs[index]), face.landmarks5));
}

// ---- landmark-only estimate (comparison; also the roll reference) ----

const RADIANS_TO_DEGREES = 180 / Math.PI;
/** 2d106 indices: pupils, nose tip, mouth corners, contour points at eye/nose height. */
const [leftPupil, rightPupil, noseTip, mouthLeft, mouthRight] = FIVE_POINTS_IN_106;
const LANDMARK = {
  leftPupil, rightPupil, noseTip, mouthLeft, mouthRight,
  leftContour: [9, 10, 11, 12], rightContour: [25, 26, 27, 28],
} as const;
/** Degrees of yaw per unit of nose offset (nose-to-contour-midline / contour half-width). */
export const GEOMETRIC_YAW_GAIN = 60;
/** Degrees of pitch per unit change of the eye→nose / eye→mouth height ratio. */
export const GEOMETRIC_PITCH_GAIN = 150;
/** Eye→nose-tip height over eye→mouth height of a frontal face (pitch 0). */
export const GEOMETRIC_PITCH_NEUTRAL_RATIO = 0.5;

/** Roll from the pupils: positive when the image-right eye is lower (clockwise). */
export function rollFromEyes(leftEye: Point, rightEye: Point): number {
  return Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x) * RADIANS_TO_DEGREES;
}

/**
 * Rough head pose from the 106 points alone, in the facekit convention: roll from the eye line,
 * yaw from the nose tip's offset from the contour midline (nose moves towards the side the face
 * turns to), pitch from where the nose tip sits between the eyes and the mouth.
 */
export function geometricHeadPose(points: readonly Point[]): HeadPose {
  const roll = rollFromEyes(points[LANDMARK.leftPupil], points[LANDMARK.rightPupil]);
  const angle = -roll / RADIANS_TO_DEGREES;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const origin = points[LANDMARK.noseTip];
  const level = (p: Point): Point => ({ x: cos * (p.x - origin.x) - sin * (p.y - origin.y), y: sin * (p.x - origin.x) + cos * (p.y - origin.y) });
  const meanX = (indices: readonly number[]) => indices.reduce((sum, i) => sum + level(points[i]).x, 0) / indices.length;
  const left = meanX(LANDMARK.leftContour), right = meanX(LANDMARK.rightContour);
  const halfWidth = Math.max((right - left) / 2, 1e-6);
  const noseOffset = (0 - (left + right) / 2) / halfWidth; // nose tip is the origin
  // Nose towards the image's left ⇒ face turned to the image's left ⇒ yaw > 0.
  const yaw = -GEOMETRIC_YAW_GAIN * noseOffset;
  const eyeY = (level(points[LANDMARK.leftPupil]).y + level(points[LANDMARK.rightPupil]).y) / 2;
  const mouthY = (level(points[LANDMARK.mouthLeft]).y + level(points[LANDMARK.mouthRight]).y) / 2;
  const ratio = (0 - eyeY) / Math.max(mouthY - eyeY, 1e-6);
  // The nose tip stands out of the face plane: tilting the head up lifts its image towards the
  // eyes, so the eye→nose share of the eye→mouth height shrinks; pitch > 0 (up) ⇒ smaller ratio.
  const pitch = GEOMETRIC_PITCH_GAIN * (GEOMETRIC_PITCH_NEUTRAL_RATIO - ratio);
  return { yaw, pitch, roll };
}
