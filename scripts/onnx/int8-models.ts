/**
 * The int8 models facekit derives, one table: the float file, its committed calibration and the
 * derived file name. `deriveInt8File` is what `npm run models:int8` (and the model fetch) runs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantizeStaticQdq, sha256Hex, type QdqCalibration } from './qdq.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODEL_DIR = process.env.FACEKIT_MODEL_DIR ?? join(PROJECT_ROOT, 'models');
export const CALIBRATION_DIR = join(PROJECT_ROOT, 'models', 'calibration');
/** Fitting/calibration images (never the dev set): ../shared/train beside the checkout. */
export const TRAIN_ROOT = process.env.FACEKIT_TRAIN_DIR ?? resolve(PROJECT_ROOT, '..', 'shared', 'train');

export interface Int8Model {
  /** Float model in models/. */
  readonly fp32File: string;
  /** Derived int8 file in models/. */
  readonly int8File: string;
  /** Committed ranges, models/calibration/. */
  readonly calibrationFile: string;
  /** What the derivation must produce (checked by test/integration/int8-derivation.test.ts). */
  readonly int8Sha256: string;
  readonly int8Bytes: number;
}

export const int8FileName = (fp32File: string): string => fp32File.replace(/\.onnx$/, '.int8.onnx');

/** Per-face models and their square input side (all take RGB 0..255, planar). */
export const FACE_MODEL_INPUTS: readonly { file: string; side: number }[] = [
  { file: 'insightface_genderage_v1.onnx', side: 112 },
  { file: 'pfld106_lite_if106.onnx', side: 112 },
];
// human_faceres_age_gender_desc.onnx is not here: its Conv weights are float16 initializers behind
// Cast nodes, which this quantizer does not resolve (docs/int8.md).

/** Every model with a committed calibration: float file, sha256 and bytes its int8 derivation must give. */
const DERIVED: readonly [string, string, number][] = [
  ['scrfd_2.5g_kps_dynhw.onnx', 'dd37a4011a5c0fad89c741daa013f3cdbf99e4ce3edb379aec463c4309fbdf5b', 924513],
  ['insightface_genderage_v1.onnx', '37a391e465be93df9a06e3db7c4dc70a8443098f01d56ce852847dfe65864a1f', 506569],
  ['pfld106_lite_if106.onnx', '3fb5598865cfce7edaddf6d45ad97cd815cf7b4fc70526c23ed7e162fd511ab7', 469775],
];
export const INT8_CANDIDATES: readonly Int8Model[] = DERIVED.map(([fp32File, int8Sha256, int8Bytes]) => ({
  fp32File,
  int8File: int8FileName(fp32File),
  calibrationFile: fp32File.replace(/\.onnx$/, '.int8.json'),
  int8Sha256,
  int8Bytes,
}));

/** The int8 files facekit derives and ships: those that met the rule (|Δ metric| ≤ 0.005, ≥ 1.3× faster; docs/int8.md). */
export const ADOPTED_INT8_FILES: readonly string[] = [];

export const INT8_MODELS: readonly Int8Model[] = INT8_CANDIDATES.filter((model) => ADOPTED_INT8_FILES.includes(model.int8File));

export async function readCalibration(model: Int8Model): Promise<QdqCalibration> {
  return JSON.parse(await readFile(join(CALIBRATION_DIR, model.calibrationFile), 'utf8')) as QdqCalibration;
}

/** Derives models/<int8File> from models/<fp32File>; returns its sha256 and size. */
export async function deriveInt8File(model: Int8Model, modelDir = MODEL_DIR): Promise<{ file: string; sha256: string; bytes: number }> {
  const fp32 = new Uint8Array(await readFile(join(modelDir, model.fp32File)));
  const int8 = quantizeStaticQdq(fp32, await readCalibration(model));
  await writeFile(join(modelDir, model.int8File), int8);
  return { file: model.int8File, sha256: sha256Hex(int8), bytes: int8.byteLength };
}

export function optionValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}
