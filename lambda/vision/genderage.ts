/**
 * Gender and age (InsightFace genderage v1) on the 5-point aligned 112×112 crop.
 * Output fc1 [N,202]: gender logits [female, male], then 100 binary "older than k" pairs.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { ALIGNED_SIZE, arcfaceAlignment } from './alignment.js';
import { warpAffineToTensor, type ChannelNormalisation } from './geometry.js';
import { runFloat32 } from './session.js';
import type { Point } from './types.js';

export const GENDER_AGE_NORMALISATION: ChannelNormalisation = { mean: 0, std: 1, order: 'rgb' };
const OUTPUT_WIDTH = 202;
const AGE_PAIRS = 100;

export interface GenderAge {
  readonly gender: 'male' | 'female';
  /** Softmax of the two gender logits. */
  readonly maleProbability: number;
  /** Male minus female logit: log(maleProbability / (1 − maleProbability)), the fusion's input. */
  readonly maleLogit: number;
  readonly age: number;
}

/** Decodes one face's fc1 row: gender = argmax(fc1[0:2]) (1 = male); age = #pairs k with fc1[2+2k+1] > fc1[2+2k]. */
export function decodeGenderAge(output: ArrayLike<number>, faceIndex: number): GenderAge {
  const base = faceIndex * OUTPUT_WIDTH;
  const femaleLogit = output[base];
  const maleLogit = output[base + 1];
  const maleProbability = 1 / (1 + Math.exp(femaleLogit - maleLogit));
  let age = 0;
  for (let k = 0; k < AGE_PAIRS; k++) {
    if (output[base + 2 + 2 * k + 1] > output[base + 2 + 2 * k]) age++;
  }
  return { gender: maleLogit > femaleLogit ? 'male' : 'female', maleProbability, maleLogit: maleLogit - femaleLogit, age };
}

export async function estimateGenderAge(session: ort.InferenceSession, image: RgbImage, faces: readonly (readonly Point[])[]): Promise<GenderAge[]> {
  if (faces.length === 0) return [];
  const slot = 3 * ALIGNED_SIZE * ALIGNED_SIZE;
  const tensor = new Float32Array(faces.length * slot);
  faces.forEach((landmarks5, index) =>
    warpAffineToTensor(image, arcfaceAlignment(landmarks5), ALIGNED_SIZE, ALIGNED_SIZE, GENDER_AGE_NORMALISATION, tensor, index * slot),
  );
  const outputs = await runFloat32(session, tensor, [faces.length, 3, ALIGNED_SIZE, ALIGNED_SIZE]);
  try {
    const data = outputs[session.outputNames[0]].data as Float32Array;
    return faces.map((_, index) => decodeGenderAge(data, index));
  } finally {
    for (const output of Object.values(outputs)) output.dispose?.();
  }
}
