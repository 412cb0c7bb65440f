/**
 * `npm run fit:heads`: fits the gender and age heads (lambda/vision/age-gender-heads.ts) on the
 * UTKFace training split (../shared/train/age_gender.json, 6,400 faces, 800 per age band) and
 * writes lambda/vision/heads/age-gender-heads.json. Nothing is chosen on dev.
 *
 * Features come from scripts/head-features.ts (the serving code, cached). Everything is
 * deterministic: name-sorted faces, folds by position (index mod 5), no randomness, so a rerun on
 * the same data and extractor writes the same bytes.
 *
 * Fused heads: the scalar features are z-scored. Gender: class-balanced L2 logistic regression
 * over the scalars and FaceRes's whole 1,024-d descriptor (wideDesign), with or without the 512
 * mid features (an earlier block's mean, `mid_features`; BLOCK_SETS, picked by CV): truncating the
 * descriptor to its leading principal components (an earlier fit: 32) lost children's gender cues,
 * and a strong L2 penalty over all of it generalises better (CV below). Age: ridge regression on
 * log(1 + age) (errors grow with age, so a log scale treats a baby's year like an adult's decade),
 * over either the leading components (PCA over all training faces: unsupervised, labels unused) or
 * the blocks gender uses, whichever cross-validates better. The FaceRes crop margin, the penalties,
 * the scalars' weight against the descriptor and the age features are picked by 5-fold
 * cross-validation on the training split; the final heads are refitted on all faces and folded
 * back onto the raw features (one weight per value) so serving is a dot product. The age range:
 * quantiles of the cross-validated log-age residuals, symmetric in probability, the pair whose
 * rounded ranges hold the true age for the 80 % of faces closest to.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DESCRIPTOR_FEATURE_NAME, FUSED_SCALAR_FEATURE_NAMES, fusedFeatures, GENDER_AGE_FEATURE_NAMES, genderAgeFeatures, MID_FEATURES_FEATURE_NAME,
  agesFromLogAge, type AgeHead, type FittedHeads, type LinearHead,
} from '../lambda/vision/age-gender-features.js';
import { FACERES_AGE_BINS, FACERES_DESCRIPTOR_SIZE, FACERES_MID_FEATURES_SIZE, type FaceResOutput } from '../lambda/vision/faceres.js';
import { decodeGenderAge, GENDER_AGE_OUTPUT_WIDTH } from '../lambda/vision/genderage.js';
import { AGE_BANDS, PROJECT_ROOT } from './evaluation.js';
import {
  EXTRACTED_MARGINS, FACE_RECORD_WIDTH, FEATURE_EXTRACTOR_VERSION, loadTrainLabels, RECORD_GENDER_AGE_OFFSET, recordViewOffset, trainDataHash, trainFeatures,
} from './head-features.js';
import { classBalancedWeights, fitLogisticRegression, fitWideLogisticRegression, weightedGram } from './logistic-regression.js';
import { fitRidge, fitRidgeFromGram, principalComponents, project, targetMoment } from './ridge-regression.js';

export const HEADS_FILE = join(PROJECT_ROOT, 'lambda', 'vision', 'heads', 'age-gender-heads.json');
const FOLDS = 5;
/** Candidate FaceRes crop sets (indices into EXTRACTED_MARGINS): one crop each, the serving cost today (one FaceRes run per face). */
const VIEW_SETS: readonly (readonly number[])[] = [[0], [1]];
/** Age: descriptor components and ridge penalties tried (penalties act on sums over ~5,000 faces). */
const COMPONENT_COUNTS = [8, 16, 32, 64];
const AGE_PENALTIES = [1, 10, 100];
/** Gender (whole descriptor): logistic penalties and scalar boosts tried (see wideDesign). */
const WIDE_GENDER_PENALTIES = [1000, 300, 100];
const WIDE_AGE_PENALTIES = [30000, 10000, 3000, 1000];
/**
 * FaceRes blocks after the scalars (the head set's feature list): the descriptor (the last block's
 * mean), or it and block 11's mean (`mid_features`), picked by gender CV; age uses the same.
 */
const BLOCK_SETS: readonly (readonly string[])[] = [[DESCRIPTOR_FEATURE_NAME], [DESCRIPTOR_FEATURE_NAME, MID_FEATURES_FEATURE_NAME]];
const BLOCK_WIDTHS: Readonly<Record<string, number>> = { [DESCRIPTOR_FEATURE_NAME]: FACERES_DESCRIPTOR_SIZE, [MID_FEATURES_FEATURE_NAME]: FACERES_MID_FEATURES_SIZE };
const SCALAR_BOOSTS = [3, 10, 30];
/** Settings used while comparing crop sets (the former PCA gender head: cheap, and ranks crops alike). */
const VIEW_SEARCH = { components: 32, genderPenalty: 10, agePenalty: 10 };
/**
 * Training faces used: all 6,400 (head-features.ts extracts them in ~0.3-0.9 s per face on a shared
 * 2-core machine; a smaller FACEKIT_FIT_FACES takes a uniform prefix of its extraction order).
 */
const DEFAULT_TRAIN_FACES = 6400;
const TARGET_COVERAGE = 0.8;
const CHILD_AGE = 13;

const log = (line: string) => console.log(line);

// ------------------------------------------------------------------------------------------------
// Training faces, through the serving feature code

interface Face { readonly male: number; readonly age: number; readonly genderAge: ReturnType<typeof decodeGenderAge>; readonly views: FaceResOutput[] }

function facesFrom(records: Float32Array, labels: Awaited<ReturnType<typeof loadTrainLabels>>, indices: readonly number[]): Face[] {
  const faces: Face[] = [];
  // Name order (not extraction order), so the folds do not depend on how the cache was filled.
  [...indices].sort((a, b) => a - b).forEach((index) => {
    const label = labels[index];
    const record = records.subarray(index * FACE_RECORD_WIDTH, (index + 1) * FACE_RECORD_WIDTH);
    if (record[0] !== 1) return; // not extracted, or no face found (serving returns no gender then either)
    const genderAge = decodeGenderAge(record.subarray(RECORD_GENDER_AGE_OFFSET, RECORD_GENDER_AGE_OFFSET + GENDER_AGE_OUTPUT_WIDTH), 0);
    const views = EXTRACTED_MARGINS.map((_, view) => {
      const offset = recordViewOffset(view);
      return {
        maleLogit: record[offset],
        ageDistribution: record.slice(offset + 1, offset + 1 + FACERES_AGE_BINS),
        descriptor: record.slice(offset + 1 + FACERES_AGE_BINS, offset + 1 + FACERES_AGE_BINS + FACERES_DESCRIPTOR_SIZE),
        midFeatures: record.slice(offset + 1 + FACERES_AGE_BINS + FACERES_DESCRIPTOR_SIZE, offset + 1 + FACERES_AGE_BINS + FACERES_DESCRIPTOR_SIZE + FACERES_MID_FEATURES_SIZE),
      };
    });
    faces.push({ male: label.gender === 'male' ? 1 : 0, age: label.age, genderAge, views });
  });
  return faces;
}

// ------------------------------------------------------------------------------------------------
// Design matrices: z-scored scalars (+ z-scored descriptor components)

interface Design {
  readonly rows: number[][];
  /** Maps a fitted (z-space) weight vector + bias back onto the raw feature values. */
  readonly toRaw: (fitted: readonly number[]) => LinearHead;
}

function zScores(columns: readonly number[][]): { means: number[]; scales: number[] } {
  const means = columns.map((column) => column.reduce((sum, value) => sum + value, 0) / column.length);
  const scales = columns.map((column, k) => Math.sqrt(column.reduce((sum, value) => sum + (value - means[k]) ** 2, 0) / column.length) || 1);
  return { means, scales };
}

function design(raw: readonly Float64Array[], scalarCount: number, pca?: ReturnType<typeof principalComponents>, components = 0): Design {
  const scalars = raw.map((row) => Array.from(row.subarray(0, scalarCount)));
  const projected = pca ? raw.map((row) => project(pca, row.subarray(scalarCount)).slice(0, components)) : raw.map(() => []);
  const columns = Array.from({ length: scalarCount + components }, (_, k) => raw.map((_, i) => (k < scalarCount ? scalars[i][k] : projected[i][k - scalarCount])));
  const { means, scales } = zScores(columns);
  const rows = raw.map((_, i) => [...scalars[i], ...projected[i]].map((value, k) => (value - means[k]) / scales[k]));
  const toRaw = (fitted: readonly number[]): LinearHead => {
    const width = scalarCount + (pca ? FACERES_DESCRIPTOR_SIZE : 0);
    const weights = new Float64Array(width);
    let bias = fitted[fitted.length - 1];
    for (let k = 0; k < scalarCount + components; k++) {
      const slope = fitted[k] / scales[k];
      bias -= slope * means[k];
      if (k < scalarCount) { weights[k] += slope; continue; }
      // Component c of (d − mean): Σ u_c·d − u_c·mean.
      const component = pca!.components[k - scalarCount];
      for (let j = 0; j < FACERES_DESCRIPTOR_SIZE; j++) {
        weights[scalarCount + j] += slope * component[j];
        bias -= slope * component[j] * pca!.mean[j];
      }
    }
    return { weights: Array.from(weights), bias };
  };
  return { rows, toRaw };
}

// ------------------------------------------------------------------------------------------------
// Gender over the whole descriptor

/**
 * Wide design for gender: the z-scored scalars, times `scalarBoost` (a boost b divides their penalty
 * by b², so the strong ready-made gender logits are shrunk less than the 1,024 descriptor values),
 * then each FaceRes block centred and divided by one common scale (its RMS standard deviation), so it
 * keeps its geometry and the L2 penalty shrinks every direction of it alike rather than cutting it to
 * a few leading components: children's gender cues are not in the descriptor's top-variance
 * directions. A block narrower than the descriptor is scaled up by √(1024 / width), so every block
 * carries the descriptor's total variance (the penalty does not favour the wider block).
 */
function wideDesign(raw: readonly Float64Array[], scalarCount: number, scalarBoost: number, blockWidths: readonly number[] = [FACERES_DESCRIPTOR_SIZE]): { readonly rows: Float64Array[]; readonly toRaw: Design['toRaw'] } {
  const width = raw[0].length;
  if (width !== scalarCount + blockWidths.reduce((sum, blockWidth) => sum + blockWidth, 0)) throw new Error('wideDesign: block widths do not add up');
  const columns = Array.from({ length: width }, (_, k) => raw.map((row) => row[k]));
  const { means, scales } = zScores(columns);
  const divisors = scales.map((scale) => scale);
  for (let k = 0; k < scalarCount; k++) divisors[k] = scales[k] / scalarBoost;
  let start = scalarCount;
  for (const blockWidth of blockWidths) {
    const rms = Math.sqrt(scales.slice(start, start + blockWidth).reduce((sum, scale) => sum + scale * scale, 0) / blockWidth) || 1;
    const blockScale = rms * Math.sqrt(blockWidth / FACERES_DESCRIPTOR_SIZE);
    for (let k = start; k < start + blockWidth; k++) divisors[k] = blockScale;
    start += blockWidth;
  }
  const rows = raw.map((row) => Float64Array.from(row, (value, k) => (value - means[k]) / divisors[k]));
  const toRaw = (fitted: readonly number[]): LinearHead => {
    const weights = divisors.map((divisor, k) => fitted[k] / divisor);
    const bias = weights.reduce((sum, weight, k) => sum - weight * means[k], fitted[width]);
    return { weights, bias };
  };
  return { rows, toRaw };
}

/** One Gram matrix per (fold, sex) part of the training faces: the CV fits below sum the parts they train on. */
function foldParts(rows: readonly Float64Array[], faces: readonly Face[]): Float64Array[] {
  return Array.from({ length: FOLDS * 2 }, (_, part) => {
    const members = rows.map((_, i) => i).filter((i) => i % FOLDS === part >> 1 && faces[i].male === (part & 1));
    return weightedGram(members.map((i) => rows[i]), members.map(() => 1));
  });
}
function sumParts(parts: readonly Float64Array[], fold: number, maleWeight: number, femaleWeight: number): Float64Array {
  const gram = new Float64Array(parts[0].length);
  parts.forEach((part, index) => {
    if (index >> 1 === fold) return;
    const factor = index & 1 ? maleWeight : femaleWeight;
    for (let k = 0; k < gram.length; k++) gram[k] += factor * part[k];
  });
  return gram;
}

/** Out-of-fold gender scores for each penalty (class-balanced logistic, as the final fit). */
function wideGenderCv(rows: readonly Float64Array[], faces: readonly Face[], penalties: readonly number[], parts: readonly Float64Array[]): number[][] {
  const scores = penalties.map(() => new Array<number>(rows.length).fill(0));
  for (let fold = 0; fold < FOLDS; fold++) {
    const train = rows.map((_, i) => i).filter((i) => !inFold(i, fold));
    const labels = train.map((i) => faces[i].male);
    const weights = classBalancedWeights(labels);
    const gram = sumParts(parts, fold, weights[labels.indexOf(1)], weights[labels.indexOf(0)]);
    // Strongest penalty first, each solution warm-starting the next.
    let initial: number[] | undefined;
    [...penalties.keys()].sort((a, b) => penalties[b] - penalties[a]).forEach((p) => {
      const fit = fitWideLogisticRegression(train.map((i) => rows[i]), labels, { l2: penalties[p], sampleWeights: weights, gram, initial });
      initial = fit.weights;
      rows.forEach((row, i) => { if (inFold(i, fold)) scores[p][i] = score(fit.weights, Array.from(row)); });
    });
  }
  return scores;
}

/** Out-of-fold log-age predictions for each ridge penalty. */
function wideAgeCv(rows: readonly Float64Array[], faces: readonly Face[], penalties: readonly number[], parts: readonly Float64Array[]): number[][] {
  const scores = penalties.map(() => new Array<number>(rows.length).fill(0));
  for (let fold = 0; fold < FOLDS; fold++) {
    const train = rows.map((_, i) => i).filter((i) => !inFold(i, fold));
    const gram = sumParts(parts, fold, 1, 1);
    const moment = targetMoment(train.map((i) => rows[i]), train.map((i) => Math.log1p(faces[i].age)));
    penalties.forEach((penalty, p) => {
      const weights = fitRidgeFromGram(gram, moment, penalty);
      rows.forEach((row, i) => { if (inFold(i, fold)) scores[p][i] = score(weights, Array.from(row)); });
    });
  }
  return scores;
}

// ------------------------------------------------------------------------------------------------
// Cross-validation

const inFold = (index: number, fold: number) => index % FOLDS === fold;

function fitGender(rows: readonly number[][], faces: readonly Face[], penalty: number): number[] {
  const labels = faces.map((face) => face.male);
  return fitLogisticRegression(rows, labels, { l2: penalty, sampleWeights: classBalancedWeights(labels) }).weights;
}
const fitWideGender = (rows: readonly Float64Array[], faces: readonly Face[], penalty: number) => {
  const labels = faces.map((face) => face.male);
  const fit = fitWideLogisticRegression(rows, labels, { l2: penalty, sampleWeights: classBalancedWeights(labels) });
  log(`  final gender fit: ${fit.iterations} iterations`);
  return fit.weights;
};
const fitAge = (rows: readonly number[][], faces: readonly Face[], penalty: number) => fitRidge(rows, faces.map((face) => Math.log1p(face.age)), { l2: penalty });
const score = (weights: readonly number[], row: readonly number[]) => row.reduce((sum, value, k) => sum + weights[k] * value, weights[row.length]);

/** Out-of-fold scores of a fitter. */
function crossValidated(rows: readonly number[][], faces: readonly Face[], fit: (rows: number[][], faces: Face[]) => number[]): number[] {
  const scores = new Array<number>(rows.length).fill(0);
  for (let fold = 0; fold < FOLDS; fold++) {
    const train = rows.map((_, i) => i).filter((i) => !inFold(i, fold));
    const weights = fit(train.map((i) => rows[i] as number[]), train.map((i) => faces[i]));
    rows.forEach((row, i) => { if (inFold(i, fold)) scores[i] = score(weights, row); });
  }
  return scores;
}

interface GenderFigures { readonly all: number; readonly children: number; readonly adults: number }
function genderFigures(scores: readonly number[], faces: readonly Face[]): GenderFigures {
  const rate = (keep: (face: Face) => boolean) => {
    const chosen = faces.map((face, i) => ({ face, i })).filter(({ face }) => keep(face));
    return chosen.filter(({ face, i }) => (scores[i] > 0 ? 1 : 0) === face.male).length / chosen.length;
  };
  return { all: rate(() => true), children: rate((face) => face.age < CHILD_AGE), adults: rate((face) => face.age >= CHILD_AGE) };
}
/** Gender accuracy per reported age band (evaluation.ts's AGE_BANDS). */
const genderByBand = (scores: readonly number[], faces: readonly Face[]): Record<string, number> => Object.fromEntries(AGE_BANDS.map(({ name, from, to }) => {
  const chosen = faces.map((face, i) => ({ face, i })).filter(({ face }) => face.age >= from && face.age < to);
  return [name, chosen.filter(({ face, i }) => (scores[i] > 0 ? 1 : 0) === face.male).length / chosen.length];
}));
const bandGender = (scores: readonly number[], faces: readonly Face[]) => Object.entries(genderByBand(scores, faces)).map(([name, value]) => `${name} ${value.toFixed(3)}`).join(', ');
const ageMae = (scores: readonly number[], faces: readonly Face[]) => faces.reduce((sum, face, i) => sum + Math.abs(agesFromLogAge(scores[i], { low: 0, high: 0 }).age - face.age), 0) / faces.length;

/** Residual quantile at probability p (linear interpolation between order statistics). */
function quantile(sorted: readonly number[], p: number): number {
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** The symmetric residual quantile pair whose rounded ranges cover closest to TARGET_COVERAGE (out-of-fold). */
function calibrateInterval(scores: readonly number[], faces: readonly Face[]): { interval: AgeHead['interval']; coverage: number; width: number } {
  const residuals = faces.map((face, i) => Math.log1p(face.age) - scores[i]).sort((a, b) => a - b);
  let best: { interval: AgeHead['interval']; coverage: number; width: number } | undefined;
  for (let tail = 0.02; tail <= 0.2 + 1e-9; tail += 0.0025) {
    const interval = { low: Math.min(0, quantile(residuals, tail)), high: Math.max(0, quantile(residuals, 1 - tail)) };
    let covered = 0, width = 0;
    scores.forEach((value, i) => {
      const { ageRange } = agesFromLogAge(value, interval);
      if (ageRange.low <= faces[i].age && faces[i].age <= ageRange.high) covered++;
      width += ageRange.high - ageRange.low;
    });
    const candidate = { interval, coverage: covered / faces.length, width: width / faces.length };
    if (!best || Math.abs(candidate.coverage - TARGET_COVERAGE) < Math.abs(best.coverage - TARGET_COVERAGE)) best = candidate;
  }
  return best!;
}

// ------------------------------------------------------------------------------------------------

const round = (value: number, digits = 4) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const labels = await loadTrainLabels();
  const dataHash = trainDataHash(labels);
  const limit = Number(process.env.FACEKIT_FIT_FACES ?? DEFAULT_TRAIN_FACES);
  const { records, indices } = await trainFeatures(labels, limit, log);
  const faces = facesFrom(records, labels, indices);
  log(`training faces: ${indices.length} extracted, ${faces.length} with a face found (${faces.filter((face) => face.male).length} male, ${faces.filter((face) => face.age < CHILD_AGE).length} under ${CHILD_AGE}); data sha256 ${dataHash}`);

  // genderage-only heads: three features, no descriptor.
  const genderAgeRaw = faces.map((face) => Float64Array.from(genderAgeFeatures(face.genderAge)));
  const genderAgeDesign = design(genderAgeRaw, GENDER_AGE_FEATURE_NAMES.length);
  const genderAgeGenderScores = crossValidated(genderAgeDesign.rows, faces, (rows, part) => fitGender(rows, part, 1));
  const genderAgeAgeScores = crossValidated(genderAgeDesign.rows, faces, (rows, part) => fitAge(rows, part, 1));
  const genderAgeInterval = calibrateInterval(genderAgeAgeScores, faces);
  const genderAgeCv = { gender: genderFigures(genderAgeGenderScores, faces), ageMae: ageMae(genderAgeAgeScores, faces), ...genderAgeInterval };
  log(`genderage heads CV: gender ${JSON.stringify(genderAgeCv.gender)}, age MAE ${genderAgeCv.ageMae.toFixed(2)}, range coverage ${genderAgeCv.coverage.toFixed(3)} width ${genderAgeCv.width.toFixed(1)}`);

  // Fused heads: crop set first (fixed settings, descriptor only), then blocks, components and penalties.
  const featuresFor = (blocks: readonly string[]) => [...FUSED_SCALAR_FEATURE_NAMES, ...blocks];
  const rawFor = (views: readonly number[], blocks: readonly string[]) =>
    faces.map((face) => fusedFeatures(face.genderAge, views.map((view) => face.views[view]), featuresFor(blocks)));
  const scalarCount = FUSED_SCALAR_FEATURE_NAMES.length;
  const maxComponents = Math.max(...COMPONENT_COUNTS);
  let chosen: { views: readonly number[]; raw: Float64Array[]; pca: ReturnType<typeof principalComponents>; accuracy: number } | undefined;
  for (const views of VIEW_SETS) {
    const raw = rawFor(views, [DESCRIPTOR_FEATURE_NAME]);
    const pca = principalComponents(raw.map((row) => row.subarray(scalarCount)), maxComponents);
    const { rows } = design(raw, scalarCount, pca, VIEW_SEARCH.components);
    const genderScores = crossValidated(rows, faces, (part, partFaces) => fitGender(part, partFaces, VIEW_SEARCH.genderPenalty));
    const ageScores = crossValidated(rows, faces, (part, partFaces) => fitAge(part, partFaces, VIEW_SEARCH.agePenalty));
    const figures = genderFigures(genderScores, faces);
    log(`  margins ${views.map((view) => EXTRACTED_MARGINS[view]).join('+')}: CV gender ${figures.all.toFixed(4)} (<${CHILD_AGE} ${figures.children.toFixed(3)}, ≥${CHILD_AGE} ${figures.adults.toFixed(3)}), age MAE ${ageMae(ageScores, faces).toFixed(3)}`);
    // Ties go to the earlier (fewer-crop) set.
    if (!chosen || figures.all > chosen.accuracy) chosen = { views, raw, pca, accuracy: figures.all };
  }
  const { views, raw, pca } = chosen!;

  // Gender: the FaceRes blocks whole (wideDesign), block set, penalty and scalar boost by CV accuracy.
  // The training split has 800 faces per age band, so overall CV accuracy weighs every band alike.
  let genderChoice: { blocks: readonly string[]; boost: number; penalty: number; scores: number[]; accuracy: number; design: ReturnType<typeof wideDesign> } | undefined;
  // Age candidates: the leading descriptor components (ridge, small), or the blocks whole (wideDesign);
  // only those over the block set gender chose (or a subset of it) can share its feature list.
  interface AgeCandidate { blocks: readonly string[]; descriptor: string; penalty: number; scores: number[]; mae: number; toRaw: Design['toRaw']; fitAll: () => number[] }
  const ageCandidates: AgeCandidate[] = [];
  const considerAge = (candidate: Omit<AgeCandidate, 'mae'>) => {
    const mae = ageMae(candidate.scores, faces);
    log(`  age, ${candidate.descriptor}, L2 ${candidate.penalty}: CV MAE ${mae.toFixed(3)}`);
    ageCandidates.push({ ...candidate, mae });
  };
  for (const components of COMPONENT_COUNTS) {
    const pcaDesign = design(raw, scalarCount, pca, components);
    for (const penalty of AGE_PENALTIES) {
      considerAge({
        blocks: [DESCRIPTOR_FEATURE_NAME], descriptor: `${components} components`, penalty,
        scores: crossValidated(pcaDesign.rows, faces, (part, partFaces) => fitAge(part, partFaces, penalty)), toRaw: pcaDesign.toRaw, fitAll: () => fitAge(pcaDesign.rows, faces, penalty),
      });
    }
  }
  for (const blocks of BLOCK_SETS) {
    const blockRaw = blocks.length === 1 ? raw : rawFor(views, blocks);
    for (const boost of SCALAR_BOOSTS) {
      const wide = wideDesign(blockRaw, scalarCount, boost, blocks.map((block) => BLOCK_WIDTHS[block]));
      const parts = foldParts(wide.rows, faces);
      const genderScores = wideGenderCv(wide.rows, faces, WIDE_GENDER_PENALTIES, parts);
      WIDE_GENDER_PENALTIES.forEach((penalty, p) => {
        const figures = genderFigures(genderScores[p], faces);
        log(`  gender, ${blocks.join(' + ')}, scalars ×${boost}, L2 ${penalty}: CV accuracy ${figures.all.toFixed(4)} (<${CHILD_AGE} ${figures.children.toFixed(3)}, ≥${CHILD_AGE} ${figures.adults.toFixed(3)}; per band ${bandGender(genderScores[p], faces)})`);
        // Ties go to the earlier (fewer blocks, more regularised) setting.
        if (!genderChoice || figures.all > genderChoice.accuracy) genderChoice = { blocks, boost, penalty, scores: genderScores[p], accuracy: figures.all, design: wide };
      });
      const ageScores = wideAgeCv(wide.rows, faces, WIDE_AGE_PENALTIES, parts);
      const fitAll = (penalty: number) => () => fitRidgeFromGram(sumParts(parts, -1, 1, 1), targetMoment(wide.rows, faces.map((face) => Math.log1p(face.age))), penalty);
      WIDE_AGE_PENALTIES.forEach((penalty, p) => considerAge({ blocks, descriptor: `${blocks.join(' + ')}, scalars ×${boost}`, penalty, scores: ageScores[p], toRaw: wide.toRaw, fitAll: fitAll(penalty) }));
    }
  }
  const genderDesign = genderChoice!.design;
  const fusedFeatureNames = featuresFor(genderChoice!.blocks);
  const ageChoice = ageCandidates
    .filter((candidate) => candidate.blocks.every((block) => genderChoice!.blocks.includes(block)))
    .reduce((best, candidate) => (candidate.mae < best.mae ? candidate : best));
  const fusedWidth = scalarCount + genderChoice!.blocks.reduce((sum, block) => sum + BLOCK_WIDTHS[block], 0);
  /** An age head over fewer blocks, given zero weights for the rest (blocks come in BLOCK_SETS order). */
  const padded = (head: LinearHead): LinearHead => ({ weights: [...head.weights, ...new Array<number>(fusedWidth - head.weights.length).fill(0)], bias: head.bias });
  const fusedInterval = calibrateInterval(ageChoice.scores, faces);
  const fusedCv = { gender: genderFigures(genderChoice!.scores, faces), ageMae: ageChoice.mae, ...fusedInterval };
  log(`fused heads CV: gender per band ${bandGender(genderChoice!.scores, faces)}`);
  log(`fused heads CV: gender ${JSON.stringify(fusedCv.gender)}, age MAE ${fusedCv.ageMae.toFixed(2)}, range coverage ${fusedCv.coverage.toFixed(3)} width ${fusedCv.width.toFixed(1)}`);

  const cvSummary = (cv: typeof fusedCv) => ({
    genderAccuracy: round(cv.gender.all), genderAccuracyUnder13: round(cv.gender.children), genderAccuracy13AndOver: round(cv.gender.adults),
    ageMae: round(cv.ageMae, 3), ageRangeCoverage: round(cv.coverage), ageRangeMeanWidth: round(cv.width, 2),
  });
  const heads: FittedHeads = {
    about: {
      fittedBy: 'npm run fit:heads (scripts/fit-heads.ts)',
      trainingData: 'UTKFace aligned crops, training split age_gender.json (800 faces per age band 0-2, 3-12, 13-19, 20-29, 30-39, 40-49, 50-59, 60+), disjoint from the dev split',
      trainingDataSha256: dataHash,
      trainingFaces: faces.length,
      featureExtractor: FEATURE_EXTRACTOR_VERSION,
      licence: 'Fitted on UTKFace, which is licensed for non-commercial research only: these weights inherit that restriction.',
      crossValidation: {
        folds: FOLDS,
        fused: {
          ...cvSummary(fusedCv),
          genderAccuracyByBand: Object.fromEntries(Object.entries(genderByBand(genderChoice!.scores, faces)).map(([band, value]) => [band, round(value)])),
          faceResMargins: views.map((view) => EXTRACTED_MARGINS[view]), genderBlocks: genderChoice!.blocks.join(' + '), genderScalarBoost: genderChoice!.boost, genderL2: genderChoice!.penalty, ageDescriptor: ageChoice.descriptor, ageL2: ageChoice.penalty },
        genderage: cvSummary(genderAgeCv),
      },
    },
    fused: {
      features: fusedFeatureNames,
      faceResMargins: views.map((view) => EXTRACTED_MARGINS[view]),
      gender: genderDesign.toRaw(fitWideGender(genderDesign.rows, faces, genderChoice!.penalty)),
      age: { ...padded(ageChoice.toRaw(ageChoice.fitAll())), interval: fusedInterval.interval },
    },
    genderage: {
      features: [...GENDER_AGE_FEATURE_NAMES],
      gender: genderAgeDesign.toRaw(fitGender(genderAgeDesign.rows, faces, 1)),
      age: { ...genderAgeDesign.toRaw(fitAge(genderAgeDesign.rows, faces, 1)), interval: genderAgeInterval.interval },
    },
  };
  await writeFile(HEADS_FILE, `${JSON.stringify(heads)}\n`);
  log(`wrote ${HEADS_FILE}`);
}

await main();
