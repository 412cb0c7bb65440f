/**
 * Calibrates the SCRFD detector for int8: composes deterministic multi-face canvases from the
 * training face crops (../shared/train, never the dev set), runs the float model on them at the
 * input sizes the pipeline uses (640² close-up pass, 1280², 1536×1152 main pass of a 4:3 photo,
 * plus letterboxed smaller canvases) and writes the ranges JSON the quantizer reads.
 *
 *   npx tsx scripts/onnx/calibrate-scrfd.ts [--method percentile-mean] [--canvases 12] [--keep-float Conv_0,…] [--from-samples]
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
// The project's one seeded PRNG: calibration canvases are the same on every run.
import { mulberry32 } from '../../test/helpers/synthetic-bytes.js';
import type { RgbImage } from '../../lambda/image/types.js';
import { letterbox, scrfdInputTensor, type InputSize } from '../../lambda/vision/scrfd.js';
import { collectSample, createCalibrationSession, formatCalibration, reduceRanges, type RangeMethod, type TensorSample } from './calibration.js';
import { sha256Hex, type QdqCalibration } from './qdq.js';
import { CALIBRATION_DIR, MODEL_DIR, PROJECT_ROOT, TRAIN_ROOT, optionValue } from './int8-models.js';

const MODEL = 'scrfd_2.5g_kps_dynhw.onnx';
/**
 * Outputs of the 9 output-head Convs (score logits, box and keypoint distances at strides 8/16/32).
 * Faces are far rarer than 0.01 % of the anchors, so a percentile range clips exactly the values
 * that matter (the 99.99 % score logit was −0.28, i.e. every face below the 0.5 threshold; dev AP
 * 0.704 → 0.690 at 640²): these tensors take the extremes over all canvases instead.
 */
const OUTPUT_HEAD_TENSORS = ['439', '440', '442', '477', '478', '480', '515', '516', '518'];

/** Canvas size, model input size: the sizes the pipeline runs (docs/performance.md). */
const LAYOUTS: readonly { canvas: InputSize; input: InputSize }[] = [
  { canvas: { width: 640, height: 640 }, input: { width: 640, height: 640 } },
  { canvas: { width: 480, height: 360 }, input: { width: 640, height: 640 } },
  { canvas: { width: 1280, height: 1280 }, input: { width: 1280, height: 1280 } },
  { canvas: { width: 1536, height: 1152 }, input: { width: 1536, height: 1152 } },
];

interface FaceCrop { readonly file: string }

async function loadCropList(): Promise<FaceCrop[]> {
  const json = JSON.parse(await readFile(join(TRAIN_ROOT, 'age_gender.json'), 'utf8')) as { images: FaceCrop[] };
  return [...json.images].sort((a, b) => a.file.localeCompare(b.file));
}

async function rgbResized(file: string, width: number, height: number, blur = 0): Promise<Buffer> {
  let pipeline = sharp(join(TRAIN_ROOT, file)).removeAlpha().resize(width, height, { fit: 'fill' });
  if (blur > 0) pipeline = pipeline.blur(blur);
  return pipeline.raw().toBuffer();
}

/**
 * One scene: a blurred, enlarged crop as background and 1-40 faces of log-uniform sizes
 * (10-45 % of the short side for few faces, 8-120 px for crowds), so both the small-face and the
 * close-up ranges are seen.
 */
export async function composeCanvas(crops: readonly FaceCrop[], width: number, height: number, random: () => number): Promise<RgbImage> {
  const pick = (): string => crops[Math.floor(random() * crops.length)].file;
  const data = await rgbResized(pick(), width, height, 12);
  const crowd = random() < 0.6;
  const count = crowd ? 8 + Math.floor(random() * 33) : 1 + Math.floor(random() * 4);
  const [minSide, maxSide] = crowd ? [8, 120] : [0.1 * Math.min(width, height), 0.45 * Math.min(width, height)];
  for (let face = 0; face < count; face++) {
    const side = Math.max(8, Math.round(Math.exp(Math.log(minSide) + random() * (Math.log(maxSide) - Math.log(minSide)))));
    const x0 = Math.floor(random() * Math.max(1, width - side));
    const y0 = Math.floor(random() * Math.max(1, height - side));
    const crop = await rgbResized(pick(), side, side);
    for (let y = 0; y < side && y0 + y < height; y++) {
      crop.copy(data, ((y0 + y) * width + x0) * 3, y * side * 3, (y * side + Math.min(side, width - x0)) * 3);
    }
  }
  return { data, width, height };
}

async function measureSamples(fp32: Uint8Array, canvasesPerLayout: number, samplesFile: string): Promise<Record<string, TensorSample[]>> {
  const crops = await loadCropList();
  const { session, tensors } = await createCalibrationSession(fp32, 2);
  const samples: Record<string, TensorSample[]> = {};
  const random = mulberry32(20261201);
  for (const { canvas, input } of LAYOUTS) {
    for (let index = 0; index < canvasesPerLayout; index++) {
      const image = await composeCanvas(crops, canvas.width, canvas.height, random);
      const box = letterbox({ x: 0, y: 0, width: image.width, height: image.height }, input);
      await collectSample(session, tensors, scrfdInputTensor(image, box), [1, 3, input.height, input.width], samples);
    }
    process.stderr.write(`calibrated ${canvasesPerLayout} canvases ${canvas.width}×${canvas.height} → ${input.width}×${input.height}\n`);
  }
  await session.release();
  // The raw samples, to try other reductions without re-running the model (git-ignored scratch/).
  await mkdir(dirname(samplesFile), { recursive: true });
  await writeFile(samplesFile, JSON.stringify(samples));
  return samples;
}

const pick = (ranges: Record<string, [number, number]>, names: readonly string[]): Record<string, [number, number]> =>
  Object.fromEntries(names.map((name) => [name, ranges[name]]));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const method = (optionValue(args, '--method') ?? 'percentile-mean') as RangeMethod;
  const canvasesPerLayout = Number(optionValue(args, '--canvases') ?? 12);
  const keepFloat = (optionValue(args, '--keep-float') ?? '').split(',').filter(Boolean);
  const fp32 = new Uint8Array(await readFile(join(MODEL_DIR, MODEL)));
  const samplesFile = join(PROJECT_ROOT, 'scratch', MODEL.replace(/\.onnx$/, '.samples.json'));
  // --from-samples: reduce the samples of the previous run again (another method or keepFloat).
  const samples: Record<string, TensorSample[]> = args.includes('--from-samples')
    ? JSON.parse(await readFile(samplesFile, 'utf8')) as Record<string, TensorSample[]>
    : await measureSamples(fp32, canvasesPerLayout, samplesFile);
  const calibration: QdqCalibration = {
    model: MODEL,
    fp32Sha256: sha256Hex(fp32),
    method: `output heads (${OUTPUT_HEAD_TENSORS.join(', ')}): minmax-extreme; other tensors ${method}: per-image ${method.startsWith('percentile') ? '0.01/99.99 % quantiles' : 'min/max'}, ${method.endsWith('mean') ? 'averaged' : 'extremes'} over ${canvasesPerLayout * LAYOUTS.length} composed UTKFace canvases (${LAYOUTS.map((layout) => `${layout.canvas.width}×${layout.canvas.height}→${layout.input.width}×${layout.input.height}`).join(', ')}), seed 20261201; scripts/onnx/calibrate-scrfd.ts`,
    keepFloat,
    ranges: { ...reduceRanges(samples, method), ...pick(reduceRanges(samples, 'minmax-extreme'), OUTPUT_HEAD_TENSORS) },
  };
  await mkdir(CALIBRATION_DIR, { recursive: true });
  const out = resolve(CALIBRATION_DIR, MODEL.replace(/\.onnx$/, '.int8.json'));
  await writeFile(out, formatCalibration(calibration));
  process.stderr.write(`wrote ${out}\n`);
}

await main();
