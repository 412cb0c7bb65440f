/**
 * `npm run eval`: accuracy of the default pipeline on ../shared/eval/dev.
 * Options: --max-side N (largest detector canvas side), --upscale F (largest enlargement), --min-face-size PX,
 *          --only wider,landmarks,gender,negatives
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lambda/config.js';
import { FacePipeline } from '../lambda/vision/pipeline.js';
import { ADULT_AGE, evaluateGenderAge, type GenderAgeFigures, evaluateLandmarks, evaluateNegatives, evaluateWiderDetection, EVAL_ROOT } from './evaluation.js';

const { values } = parseArgs({ options: { 'max-side': { type: 'string' }, upscale: { type: 'string' }, 'min-face-size': { type: 'string' }, only: { type: 'string' } } });
const base = loadConfig();
const config = {
  ...base,
  detector: {
    ...base.detector,
    ...(values['max-side'] ? { maxInputSide: Number(values['max-side']) } : {}),
    ...(values['min-face-size'] ? { minFaceSize: Number(values['min-face-size']) } : {}),
    ...(values.upscale ? { maxUpscale: Number(values.upscale) } : {}),
  },
};
const pipeline = await FacePipeline.create(config);
const wanted = (name: string): boolean => !values.only || values.only.split(',').includes(name);
const fixed = (value: number): string => value.toFixed(3);

console.log(`facekit eval on ${EVAL_ROOT}`);
console.log(`detector: canvas ≤ ${config.detector.maxInputSide}px, enlargement ≤ ×${config.detector.maxUpscale}, smallest face ${config.detector.minFaceSize}px (planner)`);
if (wanted('wider')) {
  const started = performance.now();
  const report = await evaluateWiderDetection(pipeline, config);
  console.log(`WIDER dev AP(all faces, IoU 0.5): ${fixed(report.ap)}  recall ${fixed(report.recall)}  (${report.images} images, ${report.faces} faces, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
if (wanted('landmarks')) {
  const report = await evaluateLandmarks(pipeline, config);
  console.log(`300-W close-ups: missed ${report.missed}/${report.faces} (${fixed(report.missRate)}), 5-point NME ${fixed(report.nme5)}`);
}
if (wanted('gender')) {
  const report = await evaluateGenderAge(pipeline, config);
  const line = (name: string, figures: GenderAgeFigures) =>
    `  ${name.padEnd(6)} ${String(figures.faces).padStart(4)} faces  gender ${fixed(figures.genderAccuracy)}  age MAE ${figures.ageMeanAbsoluteError.toFixed(2)}  range coverage ${fixed(figures.ageRangeCoverage)}, mean width ${figures.ageRangeMeanWidth.toFixed(1)}`;
  console.log(`UTKFace gender/age (gender model ${config.genderModel}; no face found in ${report.noFace}/${report.images}):`);
  console.log(line('all', report.all));
  console.log(line(`<${ADULT_AGE}`, report.children));
  console.log(line(`≥${ADULT_AGE}`, report.adults));
  for (const [band, figures] of Object.entries(report.bands)) console.log(line(band, figures));
}
if (wanted('negatives')) {
  const report = await evaluateNegatives(pipeline, config);
  console.log(`negatives: ${report.withFaces}/${report.images} images with a face${report.files.length ? ` (${report.files.join(', ')})` : ''}`);
}
