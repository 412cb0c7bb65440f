/**
 * Float vs int8 SCRFD, measured in one process: WIDER AP on the dev set through the pipeline's own
 * detector passes (default: main pass up to 1536 + 640² close-up pass; and 640² only), and model
 * run time at the pipeline's input sizes, float and int8 runs alternating, 2 threads and 1 thread,
 * medians. Timing on a shared machine is noisy: compare the two in the same run only.
 *
 *   npx tsx scripts/int8-report.ts [--skip-ap] [--skip-timing] [--limit N] [--iterations N]
 *     [--int8 file] (default scrfd_2.5g_kps_dynhw.int8.onnx in models/) [--passes 640,pipeline] [--skip-fp32-ap]
 *     [--threads 2,1] [--face-models]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadConfig, type FacekitConfig } from '../lambda/config.js';
import { FacePipeline } from '../lambda/vision/pipeline.js';
import { letterbox, scrfdInputTensor } from '../lambda/vision/scrfd.js';
import { resizeAffine, warpAffineToTensor } from '../lambda/vision/geometry.js';
import type { Point } from '../lambda/vision/types.js';
import {
  CLOSE_UP_MATCH_IOU, EVAL_ROOT, boxIou, evaluateGenderAge, evaluateWiderDetection, fromOneBased, loadEvalImage, loadEvalSet, normalisedMeanError, toBox,
} from './evaluation.js';
import { FACE_MODEL_INPUTS, INT8_CANDIDATES, int8FileName } from './onnx/int8-models.js';

const { values } = parseArgs({
  options: {
    'skip-ap': { type: 'boolean', default: false },
    'skip-timing': { type: 'boolean', default: false },
    limit: { type: 'string' },
    iterations: { type: 'string', default: '15' },
    int8: { type: 'string', default: INT8_CANDIDATES[0].int8File },
    passes: { type: 'string', default: '640,pipeline' },
    threads: { type: 'string', default: '2,1' },
    'skip-fp32-ap': { type: 'boolean', default: false },
    'face-models': { type: 'boolean', default: false },
  },
});
const FP32 = INT8_CANDIDATES[0].fp32File;
const THREADS = values.threads!.split(',').map(Number);
const INT8 = values.int8!;
const base = loadConfig();

function withDetector(config: FacekitConfig, modelFile: string, passes: 'pipeline' | '640'): FacekitConfig {
  const detector = passes === '640'
    ? { ...config.detector, modelFile, maxInputSide: 640 }
    : { ...config.detector, modelFile };
  return { ...config, detector };
}

const median = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function reportAp(limit: number | undefined): Promise<void> {
  for (const passes of values.passes!.split(',') as ('640' | 'pipeline')[]) {
    for (const file of values['skip-fp32-ap'] ? [INT8] : [FP32, INT8]) {
      const config = withDetector(base, file, passes);
      const pipeline = await FacePipeline.create(config);
      const started = performance.now();
      const report = await evaluateWiderDetection(pipeline, config, limit);
      console.log(`AP ${passes === '640' ? '640² only' : 'pipeline (main ≤1536 + 640² close-up)'} ${file}: AP ${report.ap.toFixed(4)} recall ${report.recall.toFixed(4)} (${report.images} images, ${report.faces} faces, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
}

/** Median run times of two models on the same inputs, alternating which runs first. */
async function timePair(files: readonly [string, string], threads: number, inputs: readonly { name: string; tensor: ort.Tensor }[], iterations: number): Promise<void> {
  // Own sessions per thread count (the pipeline's getSession caches one per file).
  const sessions = await Promise.all(files.map(async (file) => ort.InferenceSession.create(join(base.modelDir, file), {
    graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  })));
  for (const { name, tensor } of inputs) {
    const times: number[][] = [[], []];
    // Process CPU time as well: on a loaded machine wall time includes waiting for a core, CPU
    // time of a 1-thread session mostly does not (with 2 threads it also counts spinning workers).
    const cpuTimes: number[][] = [[], []];
    for (let warm = 0; warm < 2; warm++) for (const session of sessions) await session.run({ [session.inputNames[0]]: tensor });
    for (let i = 0; i < iterations; i++) {
      // Alternate which model goes first, so drifting load hits both alike.
      const order = i % 2 ? [1, 0] : [0, 1];
      for (const index of order) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        await sessions[index].run({ [sessions[index].inputNames[0]]: tensor });
        const cpu = process.cpuUsage(cpuStarted);
        times[index].push(performance.now() - started);
        cpuTimes[index].push((cpu.user + cpu.system) / 1000);
      }
    }
    const [fp32Ms, int8Ms] = times.map(median);
    const [fp32Cpu, int8Cpu] = cpuTimes.map(median);
    console.log(`time ${files[0]} ${name} ${threads} thread(s): wall fp32 ${fp32Ms.toFixed(1)} ms, int8 ${int8Ms.toFixed(1)} ms, speed-up ${(fp32Ms / int8Ms).toFixed(2)}×; CPU fp32 ${fp32Cpu.toFixed(1)} ms, int8 ${int8Cpu.toFixed(1)} ms, ${(fp32Cpu / int8Cpu).toFixed(2)}× (medians of ${iterations}, alternating)`);
  }
  await Promise.all(sessions.map((session) => session.release()));
}

async function reportTiming(iterations: number): Promise<void> {
  const [image] = (await loadEvalSet('detection')).filter((entry) => entry.source === 'wider_val');
  const rgb = await loadEvalImage(image, base);
  const inputs = [{ width: 640, height: 640 }, { width: 1280, height: 1280 }, { width: 1536, height: 1152 }].map((input) => ({
    name: `${input.width}×${input.height}`,
    tensor: new ort.Tensor('float32', scrfdInputTensor(rgb, letterbox({ x: 0, y: 0, width: rgb.width, height: rgb.height }, input)), [1, 3, input.height, input.width]),
  }));
  for (const threads of THREADS) await timePair([FP32, INT8], threads, inputs, iterations);
}

/** 2d106 indices of the 5 points (pupils, nose tip, mouth corners; MODELS order = InsightFace 2d106). */
const FIVE_FROM_106 = [38, 88, 86, 52, 61] as const;

/** Per-face models: run time (batch 1 and 8), gender accuracy / age MAE, 5-point NME from the 106 points. */
async function reportFaceModels(iterations: number): Promise<void> {
  const [face] = await loadEvalSet('age_gender');
  const rgb = await loadEvalImage(face, base);
  for (const { file, side } of FACE_MODEL_INPUTS) {
    const inputs = [1, 8].map((batch) => {
      const slot = 3 * side * side;
      const data = new Float32Array(batch * slot);
      for (let index = 0; index < batch; index++) {
        warpAffineToTensor(rgb, resizeAffine(side / rgb.width, side / rgb.height), side, side, { mean: 0, std: 1, order: 'rgb' }, data, index * slot);
      }
      return { name: `batch ${batch}×${side}²`, tensor: new ort.Tensor('float32', data, [batch, 3, side, side]) };
    });
    for (const threads of THREADS) await timePair([file, int8FileName(file)], threads, inputs, iterations);
  }
  for (const genderAgeModelFile of ['insightface_genderage_v1.onnx', int8FileName('insightface_genderage_v1.onnx')]) {
    const config: FacekitConfig = { ...base, genderModel: 'genderage', genderAgeModelFile };
    const report = await evaluateGenderAge(await FacePipeline.create(config), config);
    console.log(`gender/age ${genderAgeModelFile}: accuracy ${report.all.genderAccuracy.toFixed(4)} (adults ${report.adults.genderAccuracy.toFixed(4)}), age MAE ${report.all.ageMeanAbsoluteError.toFixed(3)} (${report.images} dev images, ${report.noFace} without a face)`);
  }
  const images = await loadEvalSet('landmarks68');
  for (const landmarkModelFile of ['pfld106_lite_if106.onnx', int8FileName('pfld106_lite_if106.onnx')]) {
    const config: FacekitConfig = { ...base, landmarkModelFile };
    const pipeline = await FacePipeline.create(config);
    let errorSum = 0, found = 0;
    for (const image of images) {
      const { faces } = await pipeline.analyze(await loadEvalImage(image, config), { landmarks106: true, genderAge: false, attributes: new Set() });
      for (const truth of image.faces ?? []) {
        if (!truth.box || !truth.landmarks5_from68) continue;
        const best = faces.map((candidate) => ({ candidate, overlap: boxIou(candidate.box, toBox(truth.box!)) })).sort((a, b) => b.overlap - a.overlap)[0];
        if (!best || best.overlap < CLOSE_UP_MATCH_IOU || !best.candidate.landmarks106) continue;
        const points: Point[] = FIVE_FROM_106.map((index) => best.candidate.landmarks106![index]);
        errorSum += normalisedMeanError(points, truth.landmarks5_from68.map(fromOneBased));
        found++;
      }
    }
    console.log(`landmarks ${landmarkModelFile}: 5-point NME from the 106 points ${(errorSum / found).toFixed(4)} (${found} dev faces)`);
  }
}

console.log(`eval set ${EVAL_ROOT}; fp32 ${FP32}; int8 ${INT8}; onnxruntime-node ${ort.env.versions.common}`);
if (!values['skip-timing']) await reportTiming(Number(values.iterations));
if (!values['skip-ap']) await reportAp(values.limit ? Number(values.limit) : undefined);
if (values['face-models']) await reportFaceModels(Number(values.iterations));
