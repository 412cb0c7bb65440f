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

test('WIDER dev AP over all faces is at least 0.81 with the planner (measured 0.817 with enlargement ≤ 1.25)', async () => {
  const report = await evaluateWiderDetection(pipeline, config);
  expect(report.images).toBe(90);
  expect(report.ap).toBeGreaterThanOrEqual(0.81);
}, 600_000);

test('300-W close-ups: none missed (measured 0/59) and 5-point NME ≤ 0.06 (measured 0.054)', async () => {
  const report = await evaluateLandmarks(pipeline, config);
  expect(report.faces).toBe(59);
  expect(report.missed).toBe(0);
  expect(report.nme5).toBeLessThanOrEqual(0.06);
}, 300_000);

// Gender/age heads: fitted on the UTKFace training split (scripts/fit-heads.ts), which is disjoint
// from these dev faces; nothing was chosen on dev. Measured figures: docs/accuracy.md.
let fusedGenderReport: ReturnType<typeof evaluateGenderAge> | undefined;
const fusedGender = () => (fusedGenderReport ??= evaluateGenderAge(pipeline, config));

// The targets (gender ≥ 0.86 overall, ≥ 0.68 under 13, ≥ 0.92 at 13+; age MAE ≤ 6.5) are
// asserted as such: the measured figures meet them. Under 13 that is 31 of 45 faces, as measured; the
// closest child to the decision line has P(male) 0.492, far from float noise between machines.
test('UTKFace dev, fitted heads: gender 0.883 overall, 0.689 under 13, 0.948 at 13+; age MAE 6.13; range covers 0.828 at mean width 22.2 (heads over FaceRes descriptor + mid features, fitted on all 6,400 training faces)', async () => {
  expect(config.genderModel).toBe('fused');
  const report = await fusedGender();
  expect(report.noFace).toBeLessThanOrEqual(2);
  expect(report.all.faces).toBeGreaterThanOrEqual(178);
  expect(report.all.genderAccuracy).toBeGreaterThanOrEqual(0.86);
  expect(report.children.genderAccuracy).toBeGreaterThanOrEqual(0.68);
  expect(report.adults.genderAccuracy).toBeGreaterThanOrEqual(0.92);
  expect(report.all.ageMeanAbsoluteError).toBeLessThanOrEqual(6.5);
  expect(report.all.ageRangeCoverage).toBeGreaterThanOrEqual(0.80);
  expect(report.all.ageRangeMeanWidth).toBeLessThanOrEqual(23.5);
}, 600_000);

test('UTKFace dev, fitted heads, per age band (measured gender / age MAE: 0-2 0.550/0.95, 3-12 0.800/3.16, 13-19 1.000/5.87, 20-39 0.925/5.33, 40-59 0.975/5.55, 60+ 0.925/12.05)', async () => {
  const { bands } = await fusedGender();
  const expected = {
    '0-2': { gender: 0.50, mae: 1.3 },
    '3-12': { gender: 0.76, mae: 3.5 },
    '13-19': { gender: 0.93, mae: 6.3 },
    '20-39': { gender: 0.90, mae: 5.8 },
    '40-59': { gender: 0.95, mae: 6.0 },
    '60+': { gender: 0.90, mae: 12.5 },
  } as const;
  for (const [band, { gender, mae }] of Object.entries(expected)) {
    const figures = bands[band as keyof typeof bands];
    expect({ band, faces: figures.faces >= 15, gender: figures.genderAccuracy >= gender, mae: figures.ageMeanAbsoluteError <= mae })
      .toEqual({ band, faces: true, gender: true, mae: true });
  }
}, 600_000);

test('FACEKIT_GENDER_MODEL=genderage keeps working with its own fitted heads, and the fused heads beat it (genderage heads measured: gender 0.789, 0.904 at 13+; age MAE 6.97; range coverage 0.783)', async () => {
  const genderAgeConfig = loadConfig({ ...process.env, FACEKIT_THREADS: '2', FACEKIT_GENDER_MODEL: 'genderage' });
  const genderAgeOnly = await evaluateGenderAge(await FacePipeline.create(genderAgeConfig), genderAgeConfig);
  const fused = await fusedGender();
  expect(genderAgeOnly.noFace).toBeLessThanOrEqual(2);
  expect(genderAgeOnly.all.genderAccuracy).toBeGreaterThanOrEqual(0.78);
  expect(genderAgeOnly.adults.genderAccuracy).toBeGreaterThanOrEqual(0.86);
  expect(genderAgeOnly.all.ageMeanAbsoluteError).toBeLessThanOrEqual(7.0);
  expect(genderAgeOnly.all.ageRangeCoverage).toBeGreaterThanOrEqual(0.75);
  expect(fused.all.genderAccuracy - genderAgeOnly.all.genderAccuracy).toBeGreaterThanOrEqual(0.03);
  expect(fused.adults.genderAccuracy - genderAgeOnly.adults.genderAccuracy).toBeGreaterThanOrEqual(0.03);
  expect(fused.all.ageMeanAbsoluteError).toBeLessThan(genderAgeOnly.all.ageMeanAbsoluteError);
}, 900_000);

test('no face on most negatives (measured 22 of 24 clean)', async () => {
  const report = await evaluateNegatives(pipeline, config);
  expect(report.images).toBe(24);
  expect(report.withFaces).toBeLessThanOrEqual(3);
}, 300_000);
