/**
 * Features of the training faces (../shared/train/age_gender.json) for the gender/age heads, through
 * the serving code: the pipeline's detector gives the 5 points of the largest face, then genderage
 * (aligned 112²) and FaceRes (landmark-aligned 224² crops at several margins) run on them exactly
 * as lambda/vision/age-gender-heads.ts runs them. Results are cached (git-ignored .eval-cache/) with
 * the extractor version and the data hash in the file name, so refits take seconds.
 *
 * Detector plan for the training faces: the serving detector (SCRFD-2.5g, scrfd.ts's runScrfd, the
 * pipeline's score threshold and NMS) in its close-up pass (image never enlarged, zero padding to
 * the bottom/right), on a 320² canvas instead of the serving 640²: on these 200² crops the face
 * pixels are the same, the close-up pass is the one that finds them at serving time (the main pass
 * enlarges them past what SCRFD scores well), and it is 4× cheaper. The heads read landmark-aligned
 * crops, which a detector plan hardly shifts.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../lambda/config.js';
import { decodeImage } from '../lambda/image/decode.js';
import { faceResAlignment, FACERES_AGE_BINS, FACERES_DESCRIPTOR_SIZE, FACERES_MID_FEATURES_SIZE, runFaceRes } from '../lambda/vision/faceres.js';
import { GENDER_AGE_OUTPUT_WIDTH, genderAgeOutputs } from '../lambda/vision/genderage.js';
import { letterbox, nms, runScrfd, type Candidate } from '../lambda/vision/scrfd.js';
import type * as ort from 'onnxruntime-node';
import type { FacekitConfig } from '../lambda/config.js';
import type { RgbImage } from '../lambda/image/types.js';
import { getSession } from '../lambda/vision/session.js';
import { largestBy, PROJECT_ROOT } from './evaluation.js';

export const TRAIN_ROOT = process.env.FACEKIT_TRAIN_DIR ?? resolve(PROJECT_ROOT, '..', 'shared', 'train');
/** FaceRes crop margins extracted for the fit (the heads' JSON names the ones serving uses). */
export const EXTRACTED_MARGINS: readonly number[] = [0.9, 1.2];
/** Names the extraction (models, crops, detector plan); change it when any of them changes. */
export const FEATURE_EXTRACTOR_VERSION = `heads-features-3 (scrfd_2.5g_kps close-up pass on 320², largest face; genderage_v1 fc1; faceres aligned margins ${EXTRACTED_MARGINS.join('/')}, with mid_features)`;

const CLOSE_UP_CANVAS = { width: 320, height: 320 };
const candidateBox = (candidate: Candidate) => ({ x: candidate.x1, y: candidate.y1, width: candidate.x2 - candidate.x1, height: candidate.y2 - candidate.y1 });

async function detectCloseUp(session: ort.InferenceSession, image: RgbImage, detector: FacekitConfig['detector']): Promise<Candidate[]> {
  const whole = { x: 0, y: 0, width: image.width, height: image.height };
  const candidates = await runScrfd(session, image, letterbox(whole, CLOSE_UP_CANVAS, 1), detector.scoreThreshold, detector.preNmsTopK);
  return nms(candidates, detector.nmsIouThreshold);
}

export interface TrainLabel {
  readonly file: string;
  readonly age: number;
  readonly gender: 'male' | 'female';
}

/** Floats per face: found flag, 10 landmark coordinates, genderage fc1, then per margin FaceRes gender logit, age distribution, descriptor, mid features. */
export const FACERES_VIEW_WIDTH = 1 + FACERES_AGE_BINS + FACERES_DESCRIPTOR_SIZE + FACERES_MID_FEATURES_SIZE;
export const FACE_RECORD_WIDTH = 1 + 10 + GENDER_AGE_OUTPUT_WIDTH + EXTRACTED_MARGINS.length * FACERES_VIEW_WIDTH;
export const RECORD_GENDER_AGE_OFFSET = 11;
export const recordViewOffset = (view: number) => RECORD_GENDER_AGE_OFFSET + GENDER_AGE_OUTPUT_WIDTH + view * FACERES_VIEW_WIDTH;

export async function loadTrainLabels(): Promise<TrainLabel[]> {
  const json = JSON.parse(await readFile(join(TRAIN_ROOT, 'age_gender.json'), 'utf8')) as { images: TrainLabel[] };
  return json.images
    .map(({ file, age, gender }) => ({ file, age, gender }))
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** sha256 over the JSON of the name-sorted [{file, age, gender}] list: names the training data. */
export function trainDataHash(labels: readonly TrainLabel[]): string {
  return createHash('sha256').update(JSON.stringify(labels.map(({ file, age, gender }) => ({ file, age, gender })))).digest('hex');
}

/**
 * Extraction order: the name-sorted list dealt round-robin over 8 runs (names start with the age,
 * so every prefix of this order spans all ages).
 */
export function extractionOrder(count: number): number[] {
  const order: number[] = [];
  const stride = 8;
  for (let start = 0; start < stride; start++) for (let index = start; index < count; index += stride) order.push(index);
  return order;
}

export interface TrainFeatures {
  /** FACE_RECORD_WIDTH floats per label, in label order; rows of faces not yet extracted are NaN. */
  readonly records: Float32Array;
  /** Label indices of the faces asked for (extraction order). */
  readonly indices: number[];
}

function cachePath(dataHash: string): string {
  const version = createHash('sha256').update(FEATURE_EXTRACTOR_VERSION).digest('hex').slice(0, 12);
  return join(PROJECT_ROOT, '.eval-cache', 'heads', `train-${dataHash.slice(0, 12)}-${version}.f32`);
}

/**
 * Cached features of the first `limit` faces in extraction order, extracting (and saving every
 * 100 faces, so an interrupted run resumes) whatever is missing.
 */
export async function trainFeatures(labels: readonly TrainLabel[], limit: number, log = console.log): Promise<TrainFeatures> {
  const path = cachePath(trainDataHash(labels));
  const records = existsSync(path) ? new Float32Array((await readFile(path)).buffer.slice(0)) : new Float32Array(labels.length * FACE_RECORD_WIDTH).fill(NaN);
  if (records.length !== labels.length * FACE_RECORD_WIDTH) throw new Error(`${path} has the wrong size; delete it`);
  const wanted = extractionOrder(labels.length).slice(0, limit);
  const missing = wanted.filter((index) => Number.isNaN(records[index * FACE_RECORD_WIDTH]));
  if (missing.length > 0) {
    log(`extracting features of ${missing.length} training faces into ${path}`);
    const config = loadConfig({ ...process.env, FACEKIT_THREADS: process.env.FACEKIT_THREADS ?? '2' });
    const settings = { modelDir: config.modelDir, intraOpThreads: config.intraOpThreads };
    const detector = await getSession(config.detector.modelFile, settings);
    const genderAgeSession = await getSession(config.genderAgeModelFile, settings);
    const faceResSession = await getSession(config.faceResModelFile, settings);
    await mkdir(dirname(path), { recursive: true });
    const save = async () => { await writeFile(`${path}.tmp`, records); await rename(`${path}.tmp`, path); };
    const started = performance.now();
    for (const [done, index] of missing.entries()) {
      const image = await decodeImage(await readFile(join(TRAIN_ROOT, labels[index].file)), config.image);
      const face = largestBy(await detectCloseUp(detector, image, config.detector), (candidate) => candidateBox(candidate));
      const record = records.subarray(index * FACE_RECORD_WIDTH, (index + 1) * FACE_RECORD_WIDTH);
      record.fill(0);
      if (face) {
        record[0] = 1;
        face.keypoints.forEach((point, k) => { record[1 + 2 * k] = point.x; record[2 + 2 * k] = point.y; });
        const [genderAge] = await genderAgeOutputs(genderAgeSession, image, [face.keypoints]);
        record.set(genderAge, RECORD_GENDER_AGE_OFFSET);
        const views = await runFaceRes(faceResSession, image, EXTRACTED_MARGINS.map((margin) => faceResAlignment(face.keypoints, margin)));
        views.forEach((view, k) => {
          const offset = recordViewOffset(k);
          record[offset] = view.maleLogit;
          record.set(view.ageDistribution, offset + 1);
          record.set(view.descriptor, offset + 1 + FACERES_AGE_BINS);
          record.set(view.midFeatures, offset + 1 + FACERES_AGE_BINS + FACERES_DESCRIPTOR_SIZE);
        });
      }
      if ((done + 1) % 100 === 0 || done + 1 === missing.length) {
        await save();
        const seconds = (performance.now() - started) / 1000;
        log(`  ${done + 1}/${missing.length} faces, ${(seconds / (done + 1)).toFixed(2)} s/face`);
      }
    }
  }
  return { records, indices: wanted };
}

// `tsx scripts/head-features.ts [limit]`: extraction alone (e.g. run once in the background).
if (import.meta.url === `file://${process.argv[1]}`) {
  const labels = await loadTrainLabels();
  const limit = Number(process.argv[2] ?? labels.length);
  await trainFeatures(labels, limit);
}
