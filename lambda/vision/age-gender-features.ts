/**
 * The pure half of the gender/age heads (age-gender-heads.ts): the feature vector built from
 * genderage's and FaceRes's outputs, and the linear heads applied to it. Shared by serving and by
 * the fit (scripts/fit-heads.ts), so training and serving features come from one code path.
 */
import { FACERES_AGE_BINS, FACERES_DESCRIPTOR_SIZE, type FaceResOutput } from './faceres.js';
import type { GenderAge } from './genderage.js';

export interface LinearHead {
  /** One weight per feature value, in the head set's feature order. */
  readonly weights: readonly number[];
  readonly bias: number;
}

export interface AgeHead extends LinearHead {
  /** Log-age offsets of the range's ends from the predicted log(1 + age). */
  readonly interval: { readonly low: number; readonly high: number };
}

export interface HeadSet {
  readonly features: readonly string[];
  /** FaceRes crop margins (faceResAlignment), one FaceRes run each per face; absent for genderage alone. */
  readonly faceResMargins?: readonly number[];
  readonly gender: LinearHead;
  readonly age: AgeHead;
}

export interface FittedHeads {
  readonly about: Readonly<Record<string, unknown>>;
  readonly fused: HeadSet;
  readonly genderage: HeadSet;
}

export const GENDER_AGE_FEATURE_NAMES = ['genderAgeMaleLogit', 'genderAgeAge', 'genderAgeLogAge'] as const;
/** Age thresholds (years) whose FaceRes probability mass below them is a feature: the age bands reported. */
export const FACERES_AGE_THRESHOLDS = [3, 13, 20, 40, 60] as const;
export const FACERES_SUMMARY_FEATURE_NAMES = [
  'faceResMaleLogit', 'faceResAge', 'faceResLogAge', 'faceResAgeSpread', ...FACERES_AGE_THRESHOLDS.map((years) => `faceResUnder${years}`),
] as const;
export const DESCRIPTOR_FEATURE_NAME = 'faceResDescriptor';

/** genderage's male logit, its soft age and that age's log. */
export function genderAgeFeatures(genderAge: GenderAge): number[] {
  return [genderAge.maleLogit, genderAge.ageExpectation, Math.log1p(genderAge.ageExpectation)];
}

/**
 * The fused feature vector: genderage's features, then FaceRes averaged over its crops (male
 * logit; age distribution → mean, log mean, spread, mass under each band threshold), then FaceRes's
 * mean descriptor.
 */
export function fusedFeatures(genderAge: GenderAge, views: readonly FaceResOutput[]): Float64Array {
  if (views.length === 0) throw new Error('fused features need at least one FaceRes crop');
  const descriptorSize = views[0].descriptor.length;
  const features = new Float64Array(GENDER_AGE_FEATURE_NAMES.length + FACERES_SUMMARY_FEATURE_NAMES.length + descriptorSize);
  features.set(genderAgeFeatures(genderAge));
  const distribution = new Float64Array(FACERES_AGE_BINS);
  let maleLogit = 0;
  let offset = GENDER_AGE_FEATURE_NAMES.length + FACERES_SUMMARY_FEATURE_NAMES.length;
  for (const view of views) {
    maleLogit += view.maleLogit / views.length;
    for (let year = 0; year < FACERES_AGE_BINS; year++) distribution[year] += view.ageDistribution[year] / views.length;
    for (let k = 0; k < descriptorSize; k++) features[offset + k] += view.descriptor[k] / views.length;
  }
  let mean = 0;
  for (let year = 0; year < FACERES_AGE_BINS; year++) mean += year * distribution[year];
  let variance = 0;
  for (let year = 0; year < FACERES_AGE_BINS; year++) variance += (year - mean) ** 2 * distribution[year];
  const under = FACERES_AGE_THRESHOLDS.map((years) => distribution.subarray(0, years).reduce((sum, p) => sum + p, 0));
  offset = GENDER_AGE_FEATURE_NAMES.length;
  features.set([maleLogit, mean, Math.log1p(mean), Math.sqrt(variance), ...under], offset);
  return features;
}

export interface GenderAgeEstimate {
  readonly gender: 'male' | 'female';
  readonly maleProbability: number;
  /** Whole years. */
  readonly age: number;
  /** Whole years, low ≤ age ≤ high. */
  readonly ageRange: { readonly low: number; readonly high: number };
}

function linearScore(head: LinearHead, features: ArrayLike<number>): number {
  if (features.length !== head.weights.length) throw new Error(`head expects ${head.weights.length} features, got ${features.length}`);
  let score = head.bias;
  for (let k = 0; k < features.length; k++) score += head.weights[k] * features[k];
  return score;
}

const toYears = (logAge: number) => Math.max(0, Math.round(Math.expm1(logAge)));

/** Whole-year age and range from a predicted log(1 + age). */
export function agesFromLogAge(logAge: number, interval: AgeHead['interval']): Pick<GenderAgeEstimate, 'age' | 'ageRange'> {
  const age = toYears(logAge);
  return { age, ageRange: { low: Math.min(age, toYears(logAge + interval.low)), high: Math.max(age, toYears(logAge + interval.high)) } };
}

export function applyHeads(heads: HeadSet, features: ArrayLike<number>): GenderAgeEstimate {
  const genderScore = linearScore(heads.gender, features);
  return {
    gender: genderScore > 0 ? 'male' : 'female',
    maleProbability: 1 / (1 + Math.exp(-genderScore)),
    ...agesFromLogAge(linearScore(heads.age, features), heads.age.interval),
  };
}

/** Values a head set's feature list stands for (the descriptor name stands for all its values). */
export function featureWidth(set: HeadSet): number {
  return set.features.reduce((sum, name) => sum + (name === DESCRIPTOR_FEATURE_NAME ? FACERES_DESCRIPTOR_SIZE : 1), 0);
}

/** Rejects a heads file whose weights do not match its feature lists (a broken refit), at start. */
export function checkHeads(heads: FittedHeads): FittedHeads {
  for (const [name, set] of [['fused', heads.fused], ['genderage', heads.genderage]] as const) {
    for (const head of [set.gender, set.age]) {
      if (head.weights.length !== featureWidth(set) || !head.weights.every(Number.isFinite) || !Number.isFinite(head.bias)) {
        throw new Error(`age-gender-heads.json: the ${name} heads do not match their ${featureWidth(set)} features; rerun npm run fit:heads`);
      }
    }
    if (!(set.age.interval.low <= 0 && set.age.interval.high >= 0)) throw new Error(`age-gender-heads.json: the ${name} age interval must contain 0`);
  }
  if (!heads.fused.faceResMargins?.length) throw new Error('age-gender-heads.json: the fused heads name no FaceRes crop margin');
  return heads;
}
