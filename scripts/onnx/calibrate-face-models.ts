/**
 * Calibrates the per-face models for int8 on training face crops (../shared/train UTKFace chips,
 * already aligned; never the dev set), resized to each model's input, RGB 0..255 planar.
 *
 *   npx tsx scripts/onnx/calibrate-face-models.ts [--method percentile-mean] [--faces 64]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
// The project's one seeded PRNG: calibration canvases are the same on every run.
import { mulberry32 } from '../../test/helpers/synthetic-bytes.js';
import { collectSample, createCalibrationSession, formatCalibration, reduceRanges, type RangeMethod, type TensorSample } from './calibration.js';
import { CALIBRATION_DIR, FACE_MODEL_INPUTS, MODEL_DIR, TRAIN_ROOT, optionValue } from './int8-models.js';
import { sha256Hex, type QdqCalibration } from './qdq.js';

async function planarRgb(file: string, side: number): Promise<Float32Array> {
  const raw = await sharp(join(TRAIN_ROOT, file)).removeAlpha().resize(side, side, { fit: 'fill' }).raw().toBuffer();
  const plane = side * side;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) tensor[c * plane + i] = raw[i * 3 + c];
  return tensor;
}

const args = process.argv.slice(2);
const method = (optionValue(args, '--method') ?? 'percentile-mean') as RangeMethod;
const faces = Number(optionValue(args, '--faces') ?? 64);
const only = optionValue(args, '--model');
const crops = (JSON.parse(await readFile(join(TRAIN_ROOT, 'age_gender.json'), 'utf8')) as { images: { file: string }[] }).images
  .map((image) => image.file).sort();
for (const { file, side } of FACE_MODEL_INPUTS) {
  if (only && only !== file) continue;
  const fp32 = new Uint8Array(await readFile(join(MODEL_DIR, file)));
  const { session, tensors } = await createCalibrationSession(fp32, 2);
  const samples: Record<string, TensorSample[]> = {};
  const random = mulberry32(20261201);
  for (let index = 0; index < faces; index++) {
    const crop = crops[Math.floor(random() * crops.length)];
    await collectSample(session, tensors, await planarRgb(crop, side), [1, 3, side, side], samples);
  }
  await session.release();
  const calibration: QdqCalibration = {
    model: file,
    fp32Sha256: sha256Hex(fp32),
    method: `${method} over ${faces} UTKFace training crops resized to ${side}², seed 20261201; scripts/onnx/calibrate-face-models.ts`,
    keepFloat: [],
    ranges: reduceRanges(samples, method),
  };
  await mkdir(CALIBRATION_DIR, { recursive: true });
  await writeFile(join(CALIBRATION_DIR, file.replace(/\.onnx$/, '.int8.json')), formatCalibration(calibration));
  process.stderr.write(`calibrated ${file} on ${faces} crops\n`);
}
