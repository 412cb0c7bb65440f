/**
 * Activation range calibration: runs the float model with the tensors to quantize exposed as extra
 * outputs and keeps, per tensor and image, the minimum, maximum and tail percentiles. The ranges
 * are then one statistic of those per-image values (onnxruntime's MinMax calibrator uses the
 * extremes; percentile calibration ignores the rarest activations, which otherwise waste the 256
 * levels of uint8 on a few outliers — Wu et al. 2020, "Integer Quantization for Deep Learning
 * Inference", arXiv:2004.09602, §4).
 */
import * as ort from 'onnxruntime-node';
import { exposeTensors, parseModel, serializeModel } from './onnx-graph.js';
import { calibrationTensors, type QdqCalibration } from './qdq.js';

/** Per-image statistics of one tensor. */
export interface TensorSample {
  readonly min: number;
  readonly max: number;
  /** 0.01 % and 99.99 % quantiles. */
  readonly low: number;
  readonly high: number;
}

const HISTOGRAM_BINS = 4096;
export const TAIL_FRACTION = 1e-4;

/** Min, max and the TAIL_FRACTION quantiles of `values` (histogram of HISTOGRAM_BINS bins, upper bin edge). */
export function sampleStatistics(values: Float32Array): TensorSample {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (!(max > min)) return { min, max, low: min, high: max };
  const histogram = new Float64Array(HISTOGRAM_BINS);
  const width = (max - min) / HISTOGRAM_BINS;
  for (let i = 0; i < values.length; i++) histogram[Math.min(HISTOGRAM_BINS - 1, Math.floor((values[i] - min) / width))]++;
  const tail = values.length * TAIL_FRACTION;
  let low = min;
  let seen = 0;
  for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
    seen += histogram[bin];
    if (seen > tail) { low = min + bin * width; break; }
  }
  let high = max;
  seen = 0;
  for (let bin = HISTOGRAM_BINS - 1; bin >= 0; bin--) {
    seen += histogram[bin];
    if (seen > tail) { high = min + (bin + 1) * width; break; }
  }
  return { min, max, low, high };
}

export type RangeMethod = 'minmax-mean' | 'minmax-extreme' | 'percentile-mean' | 'percentile-extreme';

/** Reduces the per-image samples of each tensor to one [min, max]. */
export function reduceRanges(samples: Readonly<Record<string, readonly TensorSample[]>>, method: RangeMethod): Record<string, [number, number]> {
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const ranges: Record<string, [number, number]> = {};
  for (const name of Object.keys(samples).sort()) {
    const list = samples[name];
    const lows = list.map((sample) => (method.startsWith('percentile') ? sample.low : sample.min));
    const highs = list.map((sample) => (method.startsWith('percentile') ? sample.high : sample.max));
    ranges[name] = method.endsWith('mean') ? [mean(lows), mean(highs)] : [Math.min(...lows), Math.max(...highs)];
  }
  return ranges;
}

/** A session on the float model with every tensor the quantizer needs as an output. */
export async function createCalibrationSession(fp32: Uint8Array, threads: number): Promise<{ session: ort.InferenceSession; tensors: string[] }> {
  const tensors = calibrationTensors(fp32);
  if (tensors.length === 0) throw new Error('the model has no Conv with initializer weights: nothing to quantize');
  const model = parseModel(fp32);
  const graphInputs = new Set((model.graph?.input ?? []).map((input) => input.name));
  const exposed = serializeModel(exposeTensors(model, tensors.filter((name) => !graphInputs.has(name))));
  const session = await ort.InferenceSession.create(exposed, { graphOptimizationLevel: 'basic', intraOpNumThreads: threads, interOpNumThreads: 1 });
  return { session, tensors };
}

/** Runs one input and appends each tensor's statistics to `samples`. */
export async function collectSample(
  session: ort.InferenceSession,
  tensors: readonly string[],
  input: Float32Array,
  dims: readonly number[],
  samples: Record<string, TensorSample[]>,
): Promise<void> {
  const feed = new ort.Tensor('float32', input, dims);
  const inputName = session.inputNames[0];
  const outputs = await session.run({ [inputName]: feed }, tensors.filter((name) => name !== inputName));
  for (const name of tensors) {
    (samples[name] ??= []).push(sampleStatistics(name === inputName ? input : (outputs[name].data as Float32Array)));
    outputs[name]?.dispose?.();
  }
  feed.dispose?.();
}

/** The calibration JSON with one line per tensor range (readable diffs). */
export function formatCalibration(calibration: QdqCalibration): string {
  const text = JSON.stringify(calibration, null, 1);
  return `${text.replace(/\[\n\s*(-?[\d.e+-]+),\n\s*(-?[\d.e+-]+)\n\s*\]/g, '[$1, $2]')}\n`;
}
