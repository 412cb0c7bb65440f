/**
 * Prints the attribute accuracy figures of docs/accuracy.md on the labelled dev images
 * (../shared/eval/dev beside the clone), through the real pipeline path.
 * Run: npx tsx scripts/eval-attributes.ts [--threads N]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createEvalContext, evaluateBlurQuality, evaluateCelebaMeglass, evaluateEmotion, evaluateGaze, evaluateHeadPose, evaluateMask,
} from '../test/helpers/attributes-eval.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const threadsFlag = process.argv.indexOf('--threads');
const threads = threadsFlag > 0 ? Number(process.argv[threadsFlag + 1]) : 1;

const round = (value: number, digits = 3) => Number(value.toFixed(digits));
const roundAll = (object: object) => Object.fromEntries(Object.entries(object).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]));

async function main(): Promise<void> {
  const context = await createEvalContext(repoRoot, threads);
  const timed = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    console.log(`${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  };
  const emotion = await timed('emotion + smile (emotion set)', () => evaluateEmotion(context));
  console.log('  FER2013 7-class', roundAll(emotion.fer));
  console.log('  crowd-labelled 7-class', roundAll(emotion.crowd));
  console.log('  smile > threshold vs label happy', roundAll(emotion.smileVsHappy));
  const celeba = await timed('CelebA + MeGlass', () => evaluateCelebaMeglass(context));
  console.log('  smile vs CelebA Smiling', roundAll(celeba.smile));
  console.log('  mouth open vs CelebA Mouth_Slightly_Open', roundAll(celeba.mouthOpen));
  console.log('  eyeglasses (CelebA Eyeglasses + MeGlass)', roundAll(celeba.eyeglasses));
  console.log('  CelebA median |yaw|', round(celeba.frontalMedianAbsYaw, 1), 'no face', celeba.noFace, 'of', celeba.count);
  const mask = await timed('mask (face-mask set)', () => evaluateMask(context));
  console.log('  ', roundAll(mask));
  const pose = await timed('head pose (300-W + CelebA, each mirrored)', () => evaluateHeadPose(context));
  console.log('  ', roundAll(pose));
  const gaze = await timed('eye gaze (CelebA + 300-W, each mirrored)', () => evaluateGaze(context));
  console.log('  ', roundAll(gaze));
  const blur = await timed('blur + quality (WIDER FACE val flags)', () => evaluateBlurQuality(context));
  console.log('  ', roundAll(blur));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
