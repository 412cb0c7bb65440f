/**
 * Where the detector's box sits relative to the 5 points, expressed in the ArcFace 112² template
 * frame: for each training face (../shared/train, every 16th UTKFace image: all ages, never the dev
 * images), the serving pipeline's detector gives the box and 5 points of the largest face; the
 * similarity onto the template maps the box centre and larger side into template units. The medians
 * are vision/alignment.ts's DETECTOR_BOX_IN_TEMPLATE, from which the emotion, head pose and
 * liveness crops are placed so they keep the box framing their models were tuned on, while following
 * the landmarks (a new detector or plan then cannot shift them).
 * Run: npx tsx scripts/fit-box-framing.ts [--every 16]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../lambda/config.js';
import { decodeImage } from '../lambda/image/decode.js';
import { DETECTOR_BOX_IN_TEMPLATE, SYMMETRIC_TEMPLATE } from '../lambda/vision/alignment.js';
import { applyAffine, estimateSimilarity } from '../lambda/vision/geometry.js';
import { FacePipeline } from '../lambda/vision/pipeline.js';
import { largestBy } from './evaluation.js';
import { loadTrainLabels, TRAIN_ROOT } from './head-features.js';

const everyFlag = process.argv.indexOf('--every');
const every = everyFlag > 0 ? Number(process.argv[everyFlag + 1]) : 16;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
};
const quartiles = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[Math.floor(sorted.length / 4)]!, sorted[Math.floor((3 * sorted.length) / 4)]!];
};

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, FACEKIT_THREADS: process.env.FACEKIT_THREADS ?? '1' });
  const pipeline = await FacePipeline.create(config);
  const labels = (await loadTrainLabels()).filter((_, index) => index % every === 0);
  const centreX: number[] = [], centreY: number[] = [], side: number[] = [];
  for (const label of labels) {
    const image = await decodeImage(await readFile(join(TRAIN_ROOT, label.file)), config.image);
    const face = largestBy(await pipeline.detect(image), (found) => found.box);
    if (!face) continue;
    const toTemplate = estimateSimilarity(face.landmarks5, SYMMETRIC_TEMPLATE);
    const scale = Math.hypot(toTemplate[0], toTemplate[3]);
    const centre = applyAffine(toTemplate, { x: face.box.x + face.box.width / 2, y: face.box.y + face.box.height / 2 });
    centreX.push(centre.x);
    centreY.push(centre.y);
    side.push(scale * Math.max(face.box.width, face.box.height));
  }
  const round = (value: number) => Number(value.toFixed(2));
  console.log(`${side.length} faces of ${labels.length} images (every ${every}th training image)`);
  console.log('median', { centreX: round(median(centreX)), centreY: round(median(centreY)), side: round(median(side)) });
  console.log('quartiles', { centreX: quartiles(centreX).map(round), centreY: quartiles(centreY).map(round), side: quartiles(side).map(round) });
  console.log('committed', DETECTOR_BOX_IN_TEMPLATE);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
