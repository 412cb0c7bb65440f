/**
 * The pure half of the gender/age heads (age-gender-heads.ts): the feature vector built from
 * genderage's and FaceRes's outputs, and the linear heads applied to it. Shared by serving and by
 * the fit (scripts/fit-heads.ts), so training and serving features come from one code path.
 */
import { FACERES_AGE_BINS, FACERES_DESCRIPTOR_SIZE, FACERES_MID_FEATURES_SIZE, type FaceResOutput } from './faceres.js';
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
/** FaceRes's `mid_features` (an earlier block's mean activations), after the descriptor when a head set names it. */
export const MID_FEATURES_FEATURE_NAME = 'faceResMidFeatures';
/** The blocks of values a fused head set may name after its scalars, in this order, with their widths. */
const FACERES_BLOCKS = [
  { name: DESCRIPTOR_FEATURE_NAME, width: FACERES_DESCRIPTOR_SIZE, values: (view: FaceResOutput) => view.descriptor },
  { name: MID_FEATURES_FEATURE_NAME, width: FACERES_MID_FEATURES_SIZE, values: (view: FaceResOutput) => view.midFeatures },
] as const;
export const FUSED_SCALAR_FEATURE_NAMES: readonly string[] = [...GENDER_AGE_FEATURE_NAMES, ...FACERES_SUMMARY_FEATURE_NAMES];

/** genderage's male logit, its soft age and that age's log. */
export function genderAgeFeatures(genderAge: GenderAge): number[] {
  return [genderAge.maleLogit, genderAge.ageExpectation, Math.log1p(genderAge.ageExpectation)];
}

/** The FaceRes blocks a fused feature list names; throws unless it is the scalars, then blocks in FACERES_BLOCKS order. */
function fusedBlocks(features: readonly string[]): (typeof FACERES_BLOCKS)[number][] {
  const named = features.slice(FUSED_SCALAR_FEATURE_NAMES.length);
  const blocks = FACERES_BLOCKS.filter((block) => named.includes(block.name));
  if (features.length < FUSED_SCALAR_FEATURE_NAMES.length || FUSED_SCALAR_FEATURE_NAMES.some((name, k) => features[k] !== name)
    || named.length !== blocks.length || named.some((name, k) => name !== blocks[k]!.name)) {
    throw new Error(`unknown fused feature list: ${features.join(', ')}`);
  }
  return blocks;
}

/**
 * The fused feature vector: genderage's features, then FaceRes averaged over its crops (male
 * logit; age distribution → mean, log mean, spread, mass under each band threshold), then the
 * FaceRes blocks `features` names (descriptor, mid features), each averaged over the crops.
 */
export function fusedFeatures(genderAge: GenderAge, views: readonly FaceResOutput[], features: readonly string[]): Float64Array {
  if (views.length === 0) throw new Error('fused features need at least one FaceRes crop');
  const scalarCount = FUSED_SCALAR_FEATURE_NAMES.length;
  const blocks = fusedBlocks(features);
  const output = new Float64Array(scalarCount + blocks.reduce((sum, block) => sum + block.width, 0));
  output.set(genderAgeFeatures(genderAge));
  const distribution = new Float64Array(FACERES_AGE_BINS);
  let maleLogit = 0;
  for (const view of views) {
    maleLogit += view.maleLogit / views.length;
    for (let year = 0; year < FACERES_AGE_BINS; year++) distribution[year] += view.ageDistribution[year] / views.length;
    let offset = scalarCount;
    for (const block of blocks) {
      const values = block.values(view);
      for (let k = 0; k < block.width; k++) output[offset + k] += values[k] / views.length;
      offset += block.width;
    }
  }
  let mean = 0;
  for (let year = 0; year < FACERES_AGE_BINS; year++) mean += year * distribution[year];
  let variance = 0;
  for (let year = 0; year < FACERES_AGE_BINS; year++) variance += (year - mean) ** 2 * distribution[year];
  const under = FACERES_AGE_THRESHOLDS.map((years) => distribution.subarray(0, years).reduce((sum, p) => sum + p, 0));
  output.set([maleLogit, mean, Math.log1p(mean), Math.sqrt(variance), ...under], GENDER_AGE_FEATURE_NAMES.length);
  return output;
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

/** Values a head set's feature list stands for (a block's name stands for all its values). */
export function featureWidth(set: HeadSet): number {
  return set.features.reduce((sum, name) => sum + (FACERES_BLOCKS.find((block) => block.name === name)?.width ?? 1), 0);
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
  fusedBlocks(heads.fused.features);
  return heads;
}
