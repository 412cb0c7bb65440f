/**
 * Fused gender: a logistic combination of two models' male logits, InsightFace genderage (on the
 * aligned 112×112 crop) and FaceRes (on square box crops):
 *
 *   P(male) = σ(genderAge · genderAgeLogit + faceRes · faceResLogit + bias)
 *
 * The three numbers are fitted by `npm run fit:gender` (scripts/fit-gender-fusion.ts) on labelled
 * faces that are not in the accuracy set: WIDER FACE and CelebA faces with a gender label in
 * ../shared/eval/dev, class-balanced, L2 λ = 0.1. UTKFace (age_gender.json) stays held out for
 * `npm run eval` and the accuracy test. Refit and update these when either model or its crop changes.
 */
export interface GenderFusionWeights {
  readonly genderAge: number;
  readonly faceRes: number;
  readonly bias: number;
}

/** Fitted 2026-11-22 (`npm run fit:gender`: 310 training faces, 5-fold CV accuracy 0.855). */
export const GENDER_FUSION_WEIGHTS: GenderFusionWeights = { genderAge: 0.5796, faceRes: 1.8127, bias: -0.6391 };

export interface FusedGender {
  readonly gender: 'male' | 'female';
  readonly maleProbability: number;
}

export function fuseGender(genderAgeLogit: number, faceResLogit: number, weights: GenderFusionWeights = GENDER_FUSION_WEIGHTS): FusedGender {
  const score = weights.genderAge * genderAgeLogit + weights.faceRes * faceResLogit + weights.bias;
  const maleProbability = 1 / (1 + Math.exp(-score));
  return { gender: score > 0 ? 'male' : 'female', maleProbability };
}
