/**
 * Float vs int8 SCRFD, measured in one process: WIDER AP on the dev set through the pipeline's own
 * detector passes (default: main pass up to 1536 + 640² close-up pass; and 640² only), and model
 * run time at the pipeline's input sizes, float and int8 runs alternating, 2 threads and 1 thread,
 * medians. Timing on a shared machine is noisy: compare the two in the same run only.
 *
 *   npx tsx scripts/int8-report.ts [--skip-ap] [--skip-timing] [--limit N] [--iterations N]
 *     [--int8 file] (default scrfd_2.5g_kps_dynhw.int8.onnx in models/)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadConfig, type FacekitConfig } from '../lambda/config.js';
import { FacePipeline } from '../lambda/vision/pipeline.js';
import { letterbox, scrfdInputTensor } from '../lambda/vision/scrfd.js';
import { EVAL_ROOT, evaluateWiderDetection, loadEvalImage, loadEvalSet } from './evaluation.js';
import { INT8_MODELS } from './onnx/int8-models.js';

const { values } = parseArgs({
  options: {
    'skip-ap': { type: 'boolean', default: false },
    'skip-timing': { type: 'boolean', default: false },
    limit: { type: 'string' },
    iterations: { type: 'string', default: '15' },
    int8: { type: 'string', default: INT8_MODELS[0].int8File },
  },
});
const FP32 = INT8_MODELS[0].fp32File;
const INT8 = values.int8!;
const base = loadConfig();

function withDetector(config: FacekitConfig, modelFile: string, passes: 'pipeline' | '640'): FacekitConfig {
  const detector = passes === '640'
    ? { ...config.detector, modelFile, maxInputSide: 640, closeUpPassSide: 0 }
    : { ...config.detector, modelFile };
  return { ...config, detector };
}

const median = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function reportAp(limit: number | undefined): Promise<void> {
  for (const passes of ['640', 'pipeline'] as const) {
    for (const file of [FP32, INT8]) {
      const config = withDetector(base, file, passes);
      const pipeline = await FacePipeline.create(config);
      const started = performance.now();
      const report = await evaluateWiderDetection(pipeline, config, limit);
      console.log(`AP ${passes === '640' ? '640² only' : 'pipeline (main ≤1536 + 640² close-up)'} ${file}: AP ${report.ap.toFixed(4)} recall ${report.recall.toFixed(4)} (${report.images} images, ${report.faces} faces, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
}

async function reportTiming(iterations: number): Promise<void> {
  const [image] = (await loadEvalSet('detection')).filter((entry) => entry.source === 'wider_val');
  const rgb = await loadEvalImage(image, base);
  const sizes = [{ width: 640, height: 640 }, { width: 1280, height: 1280 }, { width: 1536, height: 1152 }];
  for (const threads of [2, 1]) {
    const settings = { modelDir: base.modelDir, intraOpThreads: threads };
    // Separate sessions per thread count: getSession caches by path, so load directly.
    const sessions = await Promise.all([FP32, INT8].map(async (file) => ort.InferenceSession.create(join(settings.modelDir, file), {
      graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    })));
    for (const input of sizes) {
      const tensor = new ort.Tensor('float32', scrfdInputTensor(rgb, letterbox({ x: 0, y: 0, width: rgb.width, height: rgb.height }, input)), [1, 3, input.height, input.width]);
      const times: number[][] = [[], []];
      for (let warm = 0; warm < 2; warm++) for (const session of sessions) await session.run({ [session.inputNames[0]]: tensor });
      for (let i = 0; i < iterations; i++) {
        // Alternate which model goes first, so drifting load hits both alike.
        const order = i % 2 ? [1, 0] : [0, 1];
        for (const index of order) {
          const started = performance.now();
          await sessions[index].run({ [sessions[index].inputNames[0]]: tensor });
          times[index].push(performance.now() - started);
        }
      }
      const [fp32Ms, int8Ms] = times.map(median);
      console.log(`time ${input.width}×${input.height} ${threads} thread(s): fp32 ${fp32Ms.toFixed(1)} ms, int8 ${int8Ms.toFixed(1)} ms, speed-up ${(fp32Ms / int8Ms).toFixed(2)}× (medians of ${iterations}, alternating)`);
    }
    await Promise.all(sessions.map((session) => session.release()));
  }
}

console.log(`eval set ${EVAL_ROOT}; fp32 ${FP32}; int8 ${INT8}; onnxruntime-node ${ort.env.versions.common}`);
if (!values['skip-timing']) await reportTiming(Number(values.iterations));
if (!values['skip-ap']) await reportAp(values.limit ? Number(values.limit) : undefined);
