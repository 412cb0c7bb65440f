/**
 * Gender and age (InsightFace genderage v1) on the 5-point aligned 112×112 crop.
 * Output fc1 [N,202]: gender logits [female, male], then 100 binary "older than k" pairs.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { ALIGNED_SIZE, arcfaceAlignment } from './alignment.js';
import { firstOutput, runFaceModel, type FaceModel } from './face-model.js';
import { warpAffineToTensor, type ChannelNormalisation } from './geometry.js';
import { MODELS } from './models.js';
import type { SessionSettings } from './session.js';
import type { Point } from './types.js';

export const GENDER_AGE_NORMALISATION: ChannelNormalisation = { mean: 0, std: 1, order: 'rgb' };
export const GENDER_AGE_OUTPUT_WIDTH = 202;
const AGE_PAIRS = 100;

export interface GenderAge {
  readonly gender: 'male' | 'female';
  /** Softmax of the two gender logits. */
  readonly maleProbability: number;
  /** Male minus female logit: log(maleProbability / (1 − maleProbability)), the fusion's input. */
  readonly maleLogit: number;
  readonly age: number;
  /** Expected count of "older than k" pairs, Σ σ(older − younger): the age without rounding. */
  readonly ageExpectation: number;
}

/** Decodes one face's fc1 row: gender = argmax(fc1[0:2]) (1 = male); age = #pairs k with fc1[2+2k+1] > fc1[2+2k]. */
export function decodeGenderAge(output: ArrayLike<number>, faceIndex: number): GenderAge {
  const base = faceIndex * GENDER_AGE_OUTPUT_WIDTH;
  const femaleLogit = output[base];
  const maleLogit = output[base + 1];
  const maleProbability = 1 / (1 + Math.exp(femaleLogit - maleLogit));
  let age = 0;
  let ageExpectation = 0;
  for (let k = 0; k < AGE_PAIRS; k++) {
    const older = output[base + 2 + 2 * k + 1], younger = output[base + 2 + 2 * k];
    if (older > younger) age++;
    ageExpectation += 1 / (1 + Math.exp(younger - older));
  }
  return { gender: maleLogit > femaleLogit ? 'male' : 'female', maleProbability, maleLogit: maleLogit - femaleLogit, age, ageExpectation };
}

/** The aligned [N,3,112,112] batch, RGB 0..255; a face is its 5 landmarks. */
export function preprocessGenderAge(image: RgbImage, faces: readonly (readonly Point[])[]): Float32Array {
  const slot = 3 * ALIGNED_SIZE * ALIGNED_SIZE;
  const tensor = new Float32Array(faces.length * slot);
  faces.forEach((landmarks5, index) =>
    warpAffineToTensor(image, arcfaceAlignment(landmarks5), ALIGNED_SIZE, ALIGNED_SIZE, GENDER_AGE_NORMALISATION, tensor, index * slot),
  );
  return tensor;
}

/** genderage's raw fc1 row (GENDER_AGE_OUTPUT_WIDTH values) per face: the heads read it whole. */
export const genderAgeModel: FaceModel<readonly Point[], Float32Array> = {
  ...MODELS.genderAge,
  preprocess: preprocessGenderAge,
  postprocess: (outputs, faces) => {
    const data = firstOutput(outputs, 'genderage');
    return faces.map((_, index) => data.slice(index * GENDER_AGE_OUTPUT_WIDTH, (index + 1) * GENDER_AGE_OUTPUT_WIDTH));
  },
};

export async function estimateGenderAge(session: ort.InferenceSession | SessionSettings, image: RgbImage, faces: readonly (readonly Point[])[]): Promise<GenderAge[]> {
  const rows = await genderAgeOutputs(session, image, faces);
  return rows.map((row) => decodeGenderAge(row, 0));
}

/** The raw fc1 row (GENDER_AGE_OUTPUT_WIDTH values) of each face. */
export function genderAgeOutputs(session: ort.InferenceSession | SessionSettings, image: RgbImage, faces: readonly (readonly Point[])[]): Promise<Float32Array[]> {
  return runFaceModel(genderAgeModel, session, image, faces);
}
