/**
 * 106-point landmarks (PFLD-lite, InsightFace 2d106 order) with the two-pass crop recipe of
 * MODELS.md: pass 1 crops a square around the detector box, pass 2 re-crops around the pass-1
 * points (tighter and better centred), about 15 % more accurate than one pass.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { firstOutput, runFaceModel, type FaceModel } from './face-model.js';
import { applyAffine, invertAffine, warpAffineToTensor, type Affine, type ChannelNormalisation } from './geometry.js';
import { MODELS } from './models.js';
import type { SessionSettings } from './session.js';
import type { Box, Point } from './types.js';

export const LANDMARK_INPUT_SIZE = MODELS.landmarks106.input.size;
export const LANDMARK_COUNT = 106;
/** RGB 0..255: the model normalises inside its graph. */
export const LANDMARK_NORMALISATION: ChannelNormalisation = { mean: 0, std: 1, order: 'rgb' };
/** Pass 1: the box centre moves down by this fraction of the box height (boxes include forehead). */
export const FIRST_PASS_CENTRE_SHIFT = 0.05;
/** Pass 1 crop side relative to max(box width, height). */
export const FIRST_PASS_SCALE = 1.1;
/** Pass 2 crop side relative to the larger extent of the pass-1 points. */
export const SECOND_PASS_SCALE = 1.2;

/** 2d106 indices of the detector's 5 points: pupils (image left, right), nose tip, mouth corners. */
export const FIVE_POINTS_IN_106 = [38, 88, 86, 52, 61] as const;

/** The detector's 5-point layout taken from 106 points (for faces given, not detected). */
export function fivePointsFrom106(points: readonly Point[]): Point[] {
  return FIVE_POINTS_IN_106.map((index) => points[index]!);
}

/** A square crop: centre and side in image pixels. */
export interface SquareCrop {
  readonly centreX: number;
  readonly centreY: number;
  readonly side: number;
}

export function firstPassCrop(box: Box): SquareCrop {
  return {
    centreX: box.x + box.width / 2,
    centreY: box.y + box.height / 2 + FIRST_PASS_CENTRE_SHIFT * box.height,
    side: FIRST_PASS_SCALE * Math.max(box.width, box.height),
  };
}

export function secondPassCrop(points: readonly Point[]): SquareCrop {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const { x, y } of points) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x);
    minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  return {
    centreX: (minX + maxX) / 2,
    centreY: (minY + maxY) / 2,
    side: SECOND_PASS_SCALE * Math.max(maxX - minX, maxY - minY),
  };
}

/** Image → 112×112 crop transform for a square crop. */
export function cropAffine(crop: SquareCrop, size = LANDMARK_INPUT_SIZE): Affine {
  const scale = size / crop.side;
  return [scale, 0, size / 2 - scale * crop.centreX, 0, scale, size / 2 - scale * crop.centreY];
}

/** Model output (x, y in 0..1 of the crop) → image pixels, through the inverse crop transform. */
export function decodeLandmarks(output: ArrayLike<number>, faceIndex: number, toCrop: Affine, size = LANDMARK_INPUT_SIZE): Point[] {
  const toImage = invertAffine(toCrop);
  const base = faceIndex * LANDMARK_COUNT * 2;
  const points: Point[] = [];
  for (let k = 0; k < LANDMARK_COUNT; k++) {
    points.push(applyAffine(toImage, { x: output[base + 2 * k] * size, y: output[base + 2 * k + 1] * size }));
  }
  return points;
}

/** The [N,3,112,112] batch of square crops, RGB 0..255. */
export function preprocessLandmarks106(image: RgbImage, crops: readonly SquareCrop[]): Float32Array {
  const size = LANDMARK_INPUT_SIZE;
  const slot = 3 * size * size;
  const tensor = new Float32Array(crops.length * slot);
  crops.forEach((crop, index) => warpAffineToTensor(image, cropAffine(crop), size, size, LANDMARK_NORMALISATION, tensor, index * slot));
  return tensor;
}

/** One model pass over square crops; its faces are the crops. */
export const landmarks106Model: FaceModel<SquareCrop, Point[]> = {
  ...MODELS.landmarks106,
  preprocess: preprocessLandmarks106,
  postprocess: (outputs, crops) => {
    const data = firstOutput(outputs, 'landmarks106');
    return crops.map((crop, index) => decodeLandmarks(data, index, cropAffine(crop)));
  },
};

/** 106 points per face, both passes batched over all faces. */
export async function detectLandmarks106(session: ort.InferenceSession | SessionSettings, image: RgbImage, boxes: readonly Box[]): Promise<Point[][]> {
  if (boxes.length === 0) return [];
  const firstPass = await runFaceModel(landmarks106Model, session, image, boxes.map(firstPassCrop));
  return runFaceModel(landmarks106Model, session, image, firstPass.map(secondPassCrop));
}
