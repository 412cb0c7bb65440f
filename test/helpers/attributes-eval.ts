/**
 * Attribute accuracy on the labelled dev images in ../shared/eval/dev, through the real pipeline
 * path: decode (lambda/image) → FacePipeline detector → 106 points → computeAttributes.
 * Shared by scripts/eval-attributes.ts (prints the figures) and
 * test/integration/attributes-accuracy.test.ts (asserts them). Images are read in place, never
 * copied into the repository.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type FacekitConfig } from '../../lambda/config.js';
import { decodeImage } from '../../lambda/image/decode.js';
import type { RgbImage } from '../../lambda/image/types.js';
import { computeAttributes } from '../../lambda/vision/attributes/index.js';
import { FacePipeline } from '../../lambda/vision/pipeline.js';
import { boxIou, largestBy, matchLabelled } from '../../scripts/evaluation.js';
import { EMOTIONS, type AttributeName, type Emotion, type FaceAnalysis, type FaceAttributes } from '../../lambda/vision/types.js';

export interface EvalFace { box: [number, number, number, number] | null; ignore?: boolean; emotion?: string; attrs?: Record<string, any>; landmarks68?: number[][] }
export interface EvalImage { file: string; source: string; width: number; height: number; faces: EvalFace[] | null }

export interface AttributeEvalContext {
  readonly evalDir: string;
  readonly config: FacekitConfig;
  readonly pipeline: FacePipeline;
}

export async function createEvalContext(repoRoot: string, threads = 1): Promise<AttributeEvalContext> {
  const config = loadConfig({ ...process.env, FACEKIT_THREADS: String(threads), FACEKIT_MODEL_DIR: path.join(repoRoot, 'models') });
  return { evalDir: path.resolve(repoRoot, '../shared/eval/dev'), config, pipeline: await FacePipeline.create(config) };
}

export async function loadSet(context: AttributeEvalContext, name: string): Promise<EvalImage[]> {
  return JSON.parse(await readFile(path.join(context.evalDir, `${name}.json`), 'utf8')).images;
}

export async function loadImage(context: AttributeEvalContext, file: string): Promise<RgbImage> {
  return decodeImage(await readFile(path.join(context.evalDir, file)), context.config.image);
}

/** Detector → 106 points → the wanted attributes, for every detected face. */
export async function analyse(
  context: AttributeEvalContext,
  image: RgbImage,
  wanted: ReadonlySet<AttributeName>,
): Promise<{ face: FaceAnalysis; attributes: FaceAttributes }[]> {
  const { faces } = await context.pipeline.analyze(image, { landmarks106: true, genderAge: false, attributes: new Set() });
  const attributes = await computeAttributes(image, faces, wanted, { modelDir: context.config.modelDir, intraOpThreads: context.config.intraOpThreads });
  return faces.map((face, index) => ({ face, attributes: attributes[index] }));
}

export function largest<T extends { face: FaceAnalysis }>(results: readonly T[]): T | undefined {
  return largestBy(results, (item) => item.face.box);
}

/** Greedy one-to-one matching of labelled faces (ignored ones left out) to detections (IoU ≥ minIou). */
export function matchFaces<T extends { face: FaceAnalysis }>(labelled: readonly EvalFace[], detected: readonly T[], minIou = 0.3): { label: EvalFace; result: T }[] {
  return matchLabelled(labelled.filter((label) => !label.ignore), detected, (item) => item.face.box, minIou)
    .map(({ label, detection }) => ({ label, result: detection }));
}

function argmax<K extends string>(distribution: Readonly<Record<K, number>>): K {
  return (Object.keys(distribution) as K[]).reduce((a, b) => (distribution[a] >= distribution[b] ? a : b));
}

export interface BinaryFigures { count: number; accuracy: number; recall: number; precision: number }
export function binaryFigures(pairs: readonly { predicted: boolean; actual: boolean }[]): BinaryFigures {
  const tp = pairs.filter((p) => p.predicted && p.actual).length;
  const predicted = pairs.filter((p) => p.predicted).length;
  const actual = pairs.filter((p) => p.actual).length;
  return {
    count: pairs.length,
    accuracy: pairs.filter((p) => p.predicted === p.actual).length / Math.max(pairs.length, 1),
    recall: tp / Math.max(actual, 1),
    precision: tp / Math.max(predicted, 1),
  };
}

// ---- the figures ----

export interface EmotionGroupFigures { count: number; noFace: number; accuracy: number; accuracyOnFound: number }
export interface EmotionFigures { fer: EmotionGroupFigures; crowd: EmotionGroupFigures }

/** 7-class accuracy on the largest face; `perClass` caps the FER images per class. */
export async function evaluateEmotion(context: AttributeEvalContext, perClass = Infinity, includeCrowd = true): Promise<EmotionFigures & { smileVsHappy: BinaryFigures }> {
  const images = await loadSet(context, 'emotion');
  const taken = new Map<string, number>();
  const tally = { fer: { count: 0, noFace: 0, correct: 0 }, crowd: { count: 0, noFace: 0, correct: 0 } };
  const smilePairs: { predicted: boolean; actual: boolean }[] = [];
  for (const image of images) {
    const label = image.faces?.[0]?.emotion;
    if (!label || !EMOTIONS.includes(label as Emotion)) continue;
    const group = image.source === 'fer2013' ? 'fer' : 'crowd';
    if (group === 'crowd' && !includeCrowd) continue;
    const key = `${group}:${label}`;
    if ((taken.get(key) ?? 0) >= perClass) continue;
    taken.set(key, (taken.get(key) ?? 0) + 1);
    tally[group].count++;
    const best = largest(await analyse(context, await loadImage(context, image.file), new Set(['emotion', 'smile'])));
    if (!best) { tally[group].noFace++; continue; }
    if (argmax(best.attributes.emotion!) === label) tally[group].correct++;
    smilePairs.push({ predicted: best.attributes.smile!.value > best.attributes.smile!.threshold, actual: label === 'happy' });
  }
  // `accuracy` counts a missed face as wrong; `accuracyOnFound` is over the faces the detector found.
  const figures = (t: typeof tally.fer): EmotionGroupFigures => ({
    count: t.count, noFace: t.noFace, accuracy: t.correct / Math.max(t.count, 1), accuracyOnFound: t.correct / Math.max(t.count - t.noFace, 1),
  });
  return { fer: figures(tally.fer), crowd: figures(tally.crowd), smileVsHappy: binaryFigures(smilePairs) };
}

export interface CelebaFigures { count: number; noFace: number; smile: BinaryFigures; mouthOpen: BinaryFigures; eyeglasses: BinaryFigures; frontalMedianAbsYaw: number }

/** CelebA (smile, mouth open, eyeglasses) and MeGlass (eyeglasses) face crops. */
export async function evaluateCelebaMeglass(context: AttributeEvalContext): Promise<CelebaFigures> {
  const images = await loadSet(context, 'attributes');
  const smile: { predicted: boolean; actual: boolean }[] = [];
  const mouthOpen: typeof smile = [];
  const eyeglasses: typeof smile = [];
  const absYaw: number[] = [];
  let noFace = 0;
  for (const image of images) {
    const attrs = image.faces?.[0]?.attrs ?? {};
    const best = largest(await analyse(context, await loadImage(context, image.file), new Set(['smile', 'mouthStatus', 'glasses', 'headPose'])));
    if (!best) { noFace++; continue; }
    const a = best.attributes;
    if (typeof attrs.smile === 'boolean') smile.push({ predicted: a.smile!.value > a.smile!.threshold, actual: attrs.smile });
    if (typeof attrs.mouth_open === 'boolean') mouthOpen.push({ predicted: a.mouthStatus!.open > a.mouthStatus!.closed, actual: attrs.mouth_open });
    if (typeof attrs.eyeglasses === 'boolean') eyeglasses.push({ predicted: a.glasses!.none < 0.5, actual: attrs.eyeglasses });
    if (image.source === 'celeba') absYaw.push(Math.abs(a.headPose!.yaw));
  }
  absYaw.sort((x, y) => x - y);
  return {
    count: images.length, noFace,
    smile: binaryFigures(smile), mouthOpen: binaryFigures(mouthOpen), eyeglasses: binaryFigures(eyeglasses),
    frontalMedianAbsYaw: absYaw[Math.floor(absYaw.length / 2)] ?? NaN,
  };
}

/** Mask recall/precision on the face-mask set (with_mask vs without_mask; incorrectly worn left out). */
export async function evaluateMask(context: AttributeEvalContext, maxImages = Infinity): Promise<BinaryFigures & { labelled: number }> {
  const images = (await loadSet(context, 'detection')).filter((image) => image.source === 'face_mask').slice(0, maxImages);
  const pairs: { predicted: boolean; actual: boolean }[] = [];
  let labelled = 0;
  for (const image of images) {
    const faces = (image.faces ?? []).filter((face) => face.attrs?.mask === 'with_mask' || face.attrs?.mask === 'without_mask');
    labelled += faces.length;
    if (faces.length === 0) continue;
    const results = await analyse(context, await loadImage(context, image.file), new Set(['mask']));
    for (const { label, result } of matchFaces(faces, results)) pairs.push({ predicted: result.attributes.mask! > 0.5, actual: label.attrs!.mask === 'with_mask' });
  }
  return { ...binaryFigures(pairs), labelled };
}

export function mirrorImage(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const mirrored = Buffer.alloc(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + (width - 1 - x)) * 3, to = (y * width + x) * 3;
      mirrored[to] = data[from]; mirrored[to + 1] = data[from + 1]; mirrored[to + 2] = data[from + 2];
    }
  }
  return { data: mirrored, width, height };
}

export interface PoseFigures {
  faces: number;
  /** Faces whose mirrored yaw has the opposite sign (of those with |yaw| ≥ 5°). */
  mirrorYawSignFlipRate: number;
  mirrorRollSignFlipRate: number;
  /** Mean |yaw + yaw_mirrored|, |roll + roll_mirrored|, |pitch − pitch_mirrored| in degrees. */
  mirrorYawError: number; mirrorRollError: number; mirrorPitchError: number;
  /** 300-W faces turned ≥ TURN_PROXY_MIN by the hand-labelled 68 points: share with the expected yaw sign. */
  turnedFaces: number; turnedSignAgreement: number;
}

/** Nose offset from the 68-point jaw midline over the jaw half-width (>0 ⇒ nose towards the image's left). */
function turnFrom68(points: number[][]): number {
  const left = (points[1][0] + points[2][0] + points[3][0]) / 3, right = (points[13][0] + points[14][0] + points[15][0]) / 3;
  return -(points[30][0] - (left + right) / 2) / ((right - left) / 2);
}
const TURN_PROXY_MIN = 0.15;
const MIRROR_SIGN_MIN_DEGREES = 5;

/** Head pose sanity on 300-W (hand-labelled 68 points) and CelebA, each image also mirrored. */
export async function evaluateHeadPose(context: AttributeEvalContext, maxLandmarkImages = Infinity, maxCelebaImages = Infinity): Promise<PoseFigures> {
  const images = [
    ...(await loadSet(context, 'landmarks68')).slice(0, maxLandmarkImages),
    ...(await loadSet(context, 'attributes')).filter((image) => image.source === 'celeba').slice(0, maxCelebaImages),
  ];
  let faces = 0, yawFlips = 0, yawCounted = 0, rollFlips = 0, rollCounted = 0, yawError = 0, rollError = 0, pitchError = 0, turned = 0, turnedAgree = 0;
  for (const image of images) {
    const rgb = await loadImage(context, image.file);
    const results = await analyse(context, rgb, new Set(['headPose']));
    const mirroredResults = await analyse(context, mirrorImage(rgb), new Set(['headPose']));
    const labelled = image.faces?.[0]?.box ? image.faces : null;
    const pairs = labelled ? matchFaces(labelled, results) : (largest(results) ? [{ label: image.faces![0], result: largest(results)! }] : []);
    for (const { label, result } of pairs) {
      const box = result.face.box;
      const mirroredBox = { x: rgb.width - box.x - box.width, y: box.y, width: box.width, height: box.height };
      const mirrored = mirroredResults.find((item) => boxIou(item.face.box, mirroredBox) > 0.5);
      if (!mirrored) continue;
      const pose = result.attributes.headPose!, mirroredPose = mirrored.attributes.headPose!;
      faces++;
      yawError += Math.abs(pose.yaw + mirroredPose.yaw); rollError += Math.abs(pose.roll + mirroredPose.roll); pitchError += Math.abs(pose.pitch - mirroredPose.pitch);
      if (Math.abs(pose.yaw) >= MIRROR_SIGN_MIN_DEGREES) { yawCounted++; if (Math.sign(mirroredPose.yaw) === -Math.sign(pose.yaw)) yawFlips++; }
      if (Math.abs(pose.roll) >= MIRROR_SIGN_MIN_DEGREES) { rollCounted++; if (Math.sign(mirroredPose.roll) === -Math.sign(pose.roll)) rollFlips++; }
      if (label.landmarks68) {
        const turn = turnFrom68(label.landmarks68);
        if (Math.abs(turn) >= TURN_PROXY_MIN) { turned++; if (Math.sign(pose.yaw) === Math.sign(turn)) turnedAgree++; }
      }
    }
  }
  return {
    faces,
    mirrorYawSignFlipRate: yawFlips / Math.max(yawCounted, 1), mirrorRollSignFlipRate: rollFlips / Math.max(rollCounted, 1),
    mirrorYawError: yawError / Math.max(faces, 1), mirrorRollError: rollError / Math.max(faces, 1), mirrorPitchError: pitchError / Math.max(faces, 1),
    turnedFaces: turned, turnedSignAgreement: turnedAgree / Math.max(turned, 1),
  };
}

export interface BlurFigures { clear: number; heavy: number; balancedAccuracy: number; meanBlurClear: number; meanBlurNormal: number; meanBlurHeavy: number; meanQualityGood: number; meanQualityPoor: number; qualityBalancedAccuracy: number }

/**
 * WIDER FACE val faces matched to detections: blur flag 0 (clear) vs 2 (heavy) at the blur
 * threshold; quality: "good" = clear, no occlusion, typical pose, normal light, ≥ 48 px; "poor" =
 * heavy blur or atypical pose or heavy occlusion or < 24 px.
 */
export async function evaluateBlurQuality(context: AttributeEvalContext, maxImages = Infinity): Promise<BlurFigures> {
  const images = (await loadSet(context, 'detection')).filter((image) => image.source === 'wider_val').slice(0, maxImages);
  const blurByFlag: number[][] = [[], [], []];
  const clearPairs: { predicted: boolean; actual: boolean }[] = [];
  const qualityPairs: { predicted: boolean; actual: boolean }[] = [];
  const quality = { good: [] as number[], poor: [] as number[] };
  for (const image of images) {
    const results = await analyse(context, await loadImage(context, image.file), new Set(['blur', 'quality']));
    for (const { label, result } of matchFaces(image.faces ?? [], results)) {
      const flags = label.attrs ?? {};
      const a = result.attributes;
      blurByFlag[flags.blur]?.push(a.blur!.value);
      if (flags.blur === 0 || flags.blur === 2) clearPairs.push({ predicted: a.blur!.value <= a.blur!.threshold, actual: flags.blur === 0 });
      const side = Math.min(label.box![2], label.box![3]);
      const good = flags.blur === 0 && flags.occlusion === 0 && flags.pose === 0 && flags.illumination === 0 && side >= 48;
      const poor = flags.blur === 2 || flags.pose === 1 || flags.occlusion === 2 || side < 24;
      if (good) quality.good.push(a.quality!.value);
      if (poor) quality.poor.push(a.quality!.value);
      if (good || poor) qualityPairs.push({ predicted: a.quality!.value >= a.quality!.threshold, actual: good });
    }
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const balanced = (pairs: typeof clearPairs) => {
    const f = binaryFigures(pairs);
    const negatives = pairs.filter((p) => !p.actual);
    return (f.recall + negatives.filter((p) => !p.predicted).length / Math.max(negatives.length, 1)) / 2;
  };
  return {
    clear: blurByFlag[0].length, heavy: blurByFlag[2].length, balancedAccuracy: balanced(clearPairs),
    meanBlurClear: mean(blurByFlag[0]), meanBlurNormal: mean(blurByFlag[1]), meanBlurHeavy: mean(blurByFlag[2]),
    meanQualityGood: mean(quality.good), meanQualityPoor: mean(quality.poor), qualityBalancedAccuracy: balanced(qualityPairs),
  };
}


export interface GazeFigures { faces: number; medianPupilError: number; mirrorVectorXError: number; mirrorVectorXSignFlipRate: number }

/**
 * Eye gaze sanity on CelebA + 300-W, each mirrored: the iris centre against the 106-point pupils
 * (median distance / pupil distance), and the horizontal gaze component under mirroring
 * (left eye of the mirror = right eye of the original, x negated).
 */
export async function evaluateGaze(context: AttributeEvalContext, maxImages = Infinity): Promise<GazeFigures> {
  const images = [...(await loadSet(context, 'attributes')).filter((image) => image.source === 'celeba'), ...(await loadSet(context, 'landmarks68'))].slice(0, maxImages);
  const pupilErrors: number[] = [];
  let faces = 0, vectorError = 0, flips = 0, counted = 0;
  for (const image of images) {
    const rgb = await loadImage(context, image.file);
    const best = largest(await analyse(context, rgb, new Set(['eyeGaze'])));
    if (!best) continue;
    const points = best.face.landmarks106!;
    const gaze = best.attributes.eyeGaze!;
    const pupilDistance = Math.hypot(points[88].x - points[38].x, points[88].y - points[38].y);
    pupilErrors.push(Math.hypot(gaze.left.position.x - points[38].x, gaze.left.position.y - points[38].y) / pupilDistance);
    pupilErrors.push(Math.hypot(gaze.right.position.x - points[88].x, gaze.right.position.y - points[88].y) / pupilDistance);
    const box = best.face.box;
    const mirroredBox = { x: rgb.width - box.x - box.width, y: box.y, width: box.width, height: box.height };
    const mirrored = (await analyse(context, mirrorImage(rgb), new Set(['eyeGaze']))).find((item) => boxIou(item.face.box, mirroredBox) > 0.5);
    if (!mirrored) continue;
    faces++;
    const pairs = [[gaze.left.vector.x, mirrored.attributes.eyeGaze!.right.vector.x], [gaze.right.vector.x, mirrored.attributes.eyeGaze!.left.vector.x]];
    for (const [original, flipped] of pairs) {
      vectorError += Math.abs(original + flipped) / 2;
      if (Math.abs(original) >= 0.1) { counted++; if (Math.sign(flipped) === -Math.sign(original)) flips++; }
    }
  }
  pupilErrors.sort((a, b) => a - b);
  return { faces, medianPupilError: pupilErrors[Math.floor(pupilErrors.length / 2)] ?? NaN, mirrorVectorXError: vectorError / Math.max(faces, 1), mirrorVectorXSignFlipRate: flips / Math.max(counted, 1) };
}
