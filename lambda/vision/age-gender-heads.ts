/**
 * Gender and age heads: small linear models over what genderage and FaceRes already output, fitted
 * by `npm run fit:heads` (scripts/fit-heads.ts) on the UTKFace training split (all ages, 800 faces
 * per age band) and committed as heads/age-gender-heads.json with the data hash and extractor
 * version that made them.
 *
 *   P(male) = σ(g·x + b_g)     age = expm1(a·x + b_a)     ageRange = expm1(a·x + b_a + [low, high])
 *
 * x is the feature vector below; [low, high] are residual quantiles (log-age) of the fit's
 * cross-validated predictions, chosen so the rounded range holds the true age for ~80 % of the
 * training faces (measured dev coverage: docs/accuracy.md).
 *
 * Two head sets: `fused` (genderage + FaceRes on landmark-aligned crops; the default) and
 * `genderage` (FACEKIT_GENDER_MODEL=genderage: genderage's outputs only, no FaceRes run).
 * Licence: fitted on UTKFace, which is for non-commercial research only; so are these weights.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { applyHeads, checkHeads, fusedFeatures, genderAgeFeatures, type FittedHeads, type GenderAgeEstimate } from './age-gender-features.js';
import { faceResAlignment, runFaceRes } from './faceres.js';
import { estimateGenderAge } from './genderage.js';
import fittedHeads from './heads/age-gender-heads.json' with { type: 'json' };
import type { Point } from './types.js';

export const FITTED_HEADS: FittedHeads = checkHeads(fittedHeads as unknown as FittedHeads);

export interface GenderAgeSessions {
  readonly genderAge: ort.InferenceSession;
  /** Absent when FACEKIT_GENDER_MODEL=genderage: the genderage heads are used. */
  readonly faceRes?: ort.InferenceSession;
}

/**
 * Gender, age and age range of each face. Per face: one genderage run (aligned 112²) and, for the
 * fused heads, one FaceRes run per crop margin (all faces batched).
 */
export async function estimateGenderAndAge(
  sessions: GenderAgeSessions,
  image: RgbImage,
  faces: readonly { readonly landmarks5: readonly Point[] }[],
  heads: FittedHeads = FITTED_HEADS,
): Promise<GenderAgeEstimate[]> {
  const genderAges = await estimateGenderAge(sessions.genderAge, image, faces.map((face) => face.landmarks5));
  if (!sessions.faceRes) return genderAges.map((genderAge) => applyHeads(heads.genderage, genderAgeFeatures(genderAge)));
  const margins = heads.fused.faceResMargins ?? [];
  const views = await runFaceRes(sessions.faceRes, image, faces.flatMap((face) => margins.map((margin) => faceResAlignment(face.landmarks5, margin))));
  return genderAges.map((genderAge, index) =>
    applyHeads(heads.fused, fusedFeatures(genderAge, views.slice(index * margins.length, (index + 1) * margins.length), heads.fused.features)),
  );
}
