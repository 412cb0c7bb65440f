/**
 * Accuracy of the default pipeline: real models on real labelled images (../shared/eval/dev).
 * Thresholds sit a little under the figures measured with `npm run eval` (see docs/performance.md),
 * so a regression fails while the runs stay deterministic.
 */
import { loadConfig } from '../../lambda/config.js';
import { FacePipeline } from '../../lambda/vision/pipeline.js';
import { evaluateGenderAge, evaluateLandmarks, evaluateNegatives, evaluateWiderDetection } from '../../scripts/evaluation.js';

const config = loadConfig({ ...process.env, FACEKIT_THREADS: '2' });
let pipeline: FacePipeline;

beforeAll(async () => {
  pipeline = await FacePipeline.create(config);
});

test('WIDER dev AP over all faces is at least 0.80 (measured 0.815)', async () => {
  const report = await evaluateWiderDetection(pipeline, config);
  expect(report.images).toBe(90);
  expect(report.ap).toBeGreaterThanOrEqual(0.80);
}, 600_000);

test('300-W close-ups: at most 10 % missed (measured 0/59) and 5-point NME ≤ 0.08 (measured 0.049)', async () => {
  const report = await evaluateLandmarks(pipeline, config);
  expect(report.faces).toBe(59);
  expect(report.missRate).toBeLessThanOrEqual(0.10);
  expect(report.nme5).toBeLessThanOrEqual(0.08);
}, 300_000);

// UTKFace is held out from the gender fusion's fit (scripts/fit-gender-fusion.ts trains on WIDER FACE + CelebA).
let fusedGenderReport: ReturnType<typeof evaluateGenderAge> | undefined;
const fusedGender = () => (fusedGenderReport ??= evaluateGenderAge(pipeline, config));

test('UTKFace gender accuracy ≥ 0.81 fused, ≥ 0.90 on ages ≥ 13 (measured 0.828 / 0.919; the issue asks 0.85, see docs/accuracy.md)', async () => {
  expect(config.genderModel).toBe('fused');
  const report = await fusedGender();
  expect(report.noFace).toBeLessThanOrEqual(2);
  expect(report.accuracy).toBeGreaterThanOrEqual(0.81);
  expect(report.accuracyAdults).toBeGreaterThanOrEqual(0.90);
  expect(report.ageMeanAbsoluteError).toBeLessThanOrEqual(9);
}, 300_000);

test('the fusion beats genderage alone on the held-out faces (genderage alone measured 0.783 / 0.867)', async () => {
  const genderAgeConfig = loadConfig({ ...process.env, FACEKIT_THREADS: '2', FACEKIT_GENDER_MODEL: 'genderage' });
  const genderAgeOnly = await evaluateGenderAge(await FacePipeline.create(genderAgeConfig), genderAgeConfig);
  const fused = await fusedGender();
  expect(genderAgeOnly.accuracy).toBeGreaterThanOrEqual(0.76);
  expect(fused.accuracy - genderAgeOnly.accuracy).toBeGreaterThanOrEqual(0.03);
  expect(fused.accuracyAdults - genderAgeOnly.accuracyAdults).toBeGreaterThanOrEqual(0.03);
}, 600_000);

test('no face on most negatives (measured 22 of 24 clean)', async () => {
  const report = await evaluateNegatives(pipeline, config);
  expect(report.images).toBe(24);
  expect(report.withFaces).toBeLessThanOrEqual(3);
}, 300_000);
