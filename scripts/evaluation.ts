/**
 * Accuracy evaluation of the face pipeline on the labelled dev images in ../shared/eval/dev
 * (never copied into this repository). Shared by `npm run eval` and the integration tests, so the
 * figures the docs quote and the thresholds the tests assert come from the same code.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FacekitConfig } from '../lambda/config.js';
import { decodeImage } from '../lambda/image/decode.js';
import type { RgbImage } from '../lambda/image/types.js';
import { boxArea } from '../lambda/vision/geometry.js';
import type { FacePipeline } from '../lambda/vision/pipeline.js';
import type { Box, FaceAnalysis, Point } from '../lambda/vision/types.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** CI clones the project beside shared/: the eval data is at ../shared/eval/dev. */
export const EVAL_ROOT = process.env.FACEKIT_EVAL_DIR ?? resolve(PROJECT_ROOT, '..', 'shared', 'eval', 'dev');

/** Detection evaluation: PASCAL VOC matching. */
export const MATCH_IOU = 0.5;
/** Score threshold for AP curves (low, so the whole precision/recall curve is seen). */
export const AP_MIN_CONFIDENCE = 0.02;
/** 300-W boxes are landmark extents (no forehead): a looser overlap identifies the same face. */
export const CLOSE_UP_MATCH_IOU = 0.3;

export interface EvalFace {
  readonly box: [number, number, number, number] | null;
  readonly ignore?: boolean;
  readonly landmarks5_from68?: [number, number][];
  readonly gender?: 'male' | 'female' | null;
  readonly age?: number;
}

export interface EvalImage {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly source: string;
  readonly exhaustive?: boolean;
  readonly faces: EvalFace[] | null;
}

export async function loadEvalSet(category: string): Promise<EvalImage[]> {
  const json = JSON.parse(await readFile(join(EVAL_ROOT, `${category}.json`), 'utf8')) as { images: EvalImage[] };
  return json.images;
}

export async function loadEvalImage(image: EvalImage, config: FacekitConfig): Promise<RgbImage> {
  // Eval images may exceed the API's 4096 px default; the pipeline itself has no such limit.
  const limits = { ...config.image, maxLongSide: 16384, maxPixels: 100_000_000, maxBytes: 200 * 1024 * 1024 };
  return decodeImage(await readFile(join(EVAL_ROOT, image.file)), limits);
}

// ------------------------------------------------------------------------------------------------
// Pure metrics

export function boxIou(a: Box, b: Box): number {
  const overlapWidth = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const overlapHeight = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const overlap = overlapWidth * overlapHeight;
  const union = a.width * a.height + b.width * b.height - overlap;
  return union > 0 ? overlap / union : 0;
}

export interface ScoredBox extends Box {
  readonly score: number;
}

export interface GroundTruth extends Box {
  readonly ignore: boolean;
}

/**
 * VOC average precision (all-point interpolation) over many images. Detections are matched
 * greedily by score to the unmatched ground truth of highest IoU ≥ `iouThreshold`; a detection
 * on an `ignore` face counts neither way, as in the VOC "difficult" rule.
 */
export function averagePrecision(
  detections: readonly (readonly ScoredBox[])[],
  groundTruths: readonly (readonly GroundTruth[])[],
  iouThreshold = MATCH_IOU,
): { ap: number; recall: number; positives: number } {
  const positives = groundTruths.reduce((sum, faces) => sum + faces.filter((face) => !face.ignore).length, 0);
  const ranked = detections.flatMap((boxes, image) => boxes.map((box) => ({ box, image }))).sort((a, b) => b.box.score - a.box.score);
  const taken = groundTruths.map((faces) => new Uint8Array(faces.length));
  const outcomes: (0 | 1)[] = [];
  for (const { box, image } of ranked) {
    let best = -1;
    let bestIou = iouThreshold;
    groundTruths[image].forEach((face, index) => {
      const overlap = boxIou(box, face);
      if (overlap >= bestIou && !(taken[image][index] && !face.ignore)) { bestIou = overlap; best = index; }
    });
    if (best < 0) { outcomes.push(0); continue; }
    if (groundTruths[image][best].ignore) continue;
    taken[image][best] = 1;
    outcomes.push(1);
  }
  let truePositives = 0;
  const precision: number[] = [];
  const recall: number[] = [];
  outcomes.forEach((outcome, rank) => {
    truePositives += outcome;
    precision.push(truePositives / (rank + 1));
    recall.push(positives > 0 ? truePositives / positives : 0);
  });
  // Precision envelope, then the area under the stepwise curve.
  for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1]);
  let ap = 0;
  let previousRecall = 0;
  recall.forEach((value, i) => { ap += (value - previousRecall) * precision[i]; previousRecall = value; });
  return { ap, recall: previousRecall, positives };
}

/** Mean point-to-point distance normalised by the inter-ocular distance (outer... here eye centres, points 0 and 1). */
export function normalisedMeanError(predicted: readonly Point[], truth: readonly Point[]): number {
  const interOcular = Math.hypot(truth[0].x - truth[1].x, truth[0].y - truth[1].y);
  const total = predicted.reduce((sum, point, index) => sum + Math.hypot(point.x - truth[index].x, point.y - truth[index].y), 0);
  return total / predicted.length / interOcular;
}

/** 300-W points are 1-based pixel coordinates. */
export const fromOneBased = ([x, y]: [number, number]): Point => ({ x: x - 1, y: y - 1 });

export const toBox = ([x, y, width, height]: [number, number, number, number]): Box => ({ x, y, width, height });

/** The item whose box is largest (the first of equals); undefined for none. */
export function largestBy<T>(items: readonly T[], boxOf: (item: T) => Box): T | undefined {
  return items.reduce<T | undefined>((best, item) => (!best || boxArea(boxOf(item)) > boxArea(boxOf(best)) ? item : best), undefined);
}

const largest = (faces: readonly FaceAnalysis[]): FaceAnalysis | undefined => largestBy(faces, (face) => face.box);

/**
 * Greedy one-to-one matching of labelled faces to detections, in label order: each label with a box
 * takes the unused detection of highest IoU ≥ minIou (the last of equals).
 */
export function matchLabelled<L extends { readonly box: [number, number, number, number] | null }, T>(
  labels: readonly L[],
  detections: readonly T[],
  boxOf: (detection: T) => Box,
  minIou: number,
): { label: L; detection: T }[] {
  const used = new Set<number>();
  const matches: { label: L; detection: T }[] = [];
  for (const label of labels) {
    if (!label.box) continue;
    const labelBox = toBox(label.box);
    let best = -1, bestIou = minIou;
    detections.forEach((detection, index) => {
      const overlap = boxIou(labelBox, boxOf(detection));
      if (!used.has(index) && overlap >= bestIou) { best = index; bestIou = overlap; }
    });
    if (best >= 0) { used.add(best); matches.push({ label, detection: detections[best] }); }
  }
  return matches;
}

// ------------------------------------------------------------------------------------------------
// Runners (real models on real images)

export interface DetectionReport {
  readonly images: number;
  readonly faces: number;
  readonly ap: number;
  readonly recall: number;
}

export async function evaluateWiderDetection(pipeline: FacePipeline, config: FacekitConfig, limit?: number): Promise<DetectionReport> {
  const images = (await loadEvalSet('detection')).filter((image) => image.source === 'wider_val').slice(0, limit);
  const detections: ScoredBox[][] = [];
  const truths: GroundTruth[][] = [];
  for (const image of images) {
    const faces = await pipeline.detect(await loadEvalImage(image, config), { minConfidence: AP_MIN_CONFIDENCE });
    detections.push(faces.map((face) => ({ ...face.box, score: face.score })));
    truths.push((image.faces ?? []).filter((face) => face.box).map((face) => ({ ...toBox(face.box!), ignore: Boolean(face.ignore) })));
  }
  const { ap, recall, positives } = averagePrecision(detections, truths);
  return { images: images.length, faces: positives, ap, recall };
}

export interface LandmarkReport {
  readonly faces: number;
  /** Close-up faces with no detection at the default threshold. */
  readonly missed: number;
  readonly missRate: number;
  /** Mean 5-point NME of the found faces (inter-ocular normalisation). */
  readonly nme5: number;
}

export async function evaluateLandmarks(pipeline: FacePipeline, config: FacekitConfig): Promise<LandmarkReport> {
  const images = await loadEvalSet('landmarks68');
  let faces = 0, missed = 0, errorSum = 0, found = 0;
  for (const image of images) {
    const detected = await pipeline.detect(await loadEvalImage(image, config));
    for (const face of image.faces ?? []) {
      if (!face.box || !face.landmarks5_from68) continue;
      faces++;
      const truthBox = toBox(face.box);
      const best = detected.map((candidate) => ({ candidate, overlap: boxIou(candidate.box, truthBox) }))
        .sort((a, b) => b.overlap - a.overlap)[0];
      if (!best || best.overlap < CLOSE_UP_MATCH_IOU) { missed++; continue; }
      found++;
      errorSum += normalisedMeanError(best.candidate.landmarks5, face.landmarks5_from68.map(fromOneBased));
    }
  }
  return { faces, missed, missRate: faces ? missed / faces : 0, nme5: found ? errorSum / found : NaN };
}

/** Age bands the gender/age figures are reported per (docs/accuracy.md): [from, to) in years. */
export const AGE_BANDS = [
  { name: '0-2', from: 0, to: 3 },
  { name: '3-12', from: 3, to: 13 },
  { name: '13-19', from: 13, to: 20 },
  { name: '20-39', from: 20, to: 40 },
  { name: '40-59', from: 40, to: 60 },
  { name: '60+', from: 60, to: Infinity },
] as const;

/** Age from which a face counts as adult in the gender report (children's gender is much harder). */
export const ADULT_AGE = 13;

/** One labelled face and what the pipeline said about it (nothing when no face was found). */
export interface GenderAgeOutcome {
  readonly truth: { readonly gender: 'male' | 'female'; readonly age: number };
  readonly predicted?: Pick<FaceAnalysis, 'gender' | 'age' | 'ageRange'>;
}

export interface GenderAgeFigures {
  readonly faces: number;
  readonly genderAccuracy: number;
  readonly ageMeanAbsoluteError: number;
  /** Share of faces whose ageRange holds the true age, and the ranges' mean width (high − low). */
  readonly ageRangeCoverage: number;
  readonly ageRangeMeanWidth: number;
}

export interface GenderReport {
  readonly images: number;
  readonly noFace: number;
  readonly all: GenderAgeFigures;
  readonly children: GenderAgeFigures;
  readonly adults: GenderAgeFigures;
  readonly bands: Readonly<Record<(typeof AGE_BANDS)[number]['name'], GenderAgeFigures>>;
}

/** Figures over the outcomes with a prediction (faces not found are counted apart, as noFace). */
export function genderAgeFigures(outcomes: readonly GenderAgeOutcome[]): GenderAgeFigures {
  const judged = outcomes.filter((outcome) => outcome.predicted?.gender);
  const mean = (values: number[]) => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : NaN);
  const aged = judged.filter((outcome) => outcome.predicted!.age !== undefined);
  const ranged = judged.filter((outcome) => outcome.predicted!.ageRange);
  return {
    faces: judged.length,
    genderAccuracy: mean(judged.map((outcome) => (outcome.predicted!.gender!.value === outcome.truth.gender ? 1 : 0))),
    ageMeanAbsoluteError: mean(aged.map((outcome) => Math.abs(outcome.predicted!.age! - outcome.truth.age))),
    ageRangeCoverage: mean(ranged.map(({ predicted, truth }) => (predicted!.ageRange!.low <= truth.age && truth.age <= predicted!.ageRange!.high ? 1 : 0))),
    ageRangeMeanWidth: mean(ranged.map(({ predicted }) => predicted!.ageRange!.high - predicted!.ageRange!.low)),
  };
}

export function genderAgeReport(images: number, outcomes: readonly GenderAgeOutcome[]): GenderReport {
  const within = (from: number, to: number) => outcomes.filter((outcome) => outcome.truth.age >= from && outcome.truth.age < to);
  return {
    images,
    noFace: outcomes.filter((outcome) => !outcome.predicted?.gender).length,
    all: genderAgeFigures(outcomes),
    children: genderAgeFigures(within(0, ADULT_AGE)),
    adults: genderAgeFigures(within(ADULT_AGE, Infinity)),
    bands: Object.fromEntries(AGE_BANDS.map((band) => [band.name, genderAgeFigures(within(band.from, band.to))])) as GenderReport['bands'],
  };
}

export async function evaluateGenderAge(pipeline: FacePipeline, config: FacekitConfig): Promise<GenderReport> {
  const images = await loadEvalSet('age_gender');
  const outcomes: GenderAgeOutcome[] = [];
  for (const image of images) {
    const truth = image.faces?.[0];
    if (!truth?.gender || truth.age === undefined) continue;
    const { faces } = await pipeline.analyze(await loadEvalImage(image, config), { landmarks106: false, genderAge: true, attributes: new Set() });
    outcomes.push({ truth: { gender: truth.gender, age: truth.age }, predicted: largest(faces) });
  }
  return genderAgeReport(images.length, outcomes);
}

export interface NegativesReport {
  readonly images: number;
  readonly withFaces: number;
  readonly files: string[];
}

export async function evaluateNegatives(pipeline: FacePipeline, config: FacekitConfig): Promise<NegativesReport> {
  const images = await loadEvalSet('negatives');
  const files: string[] = [];
  for (const image of images) {
    const faces = await pipeline.detect(await loadEvalImage(image, config));
    if (faces.length > 0) files.push(image.file);
  }
  return { images: images.length, withFaces: files.length, files };
}
