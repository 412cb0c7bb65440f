/**
 * Static QDQ int8 quantization of a float ONNX model, in TypeScript so `npm ci` can derive the
 * int8 files on machines without Python. The format is onnxruntime's "QDQ" one: every quantized
 * Conv reads DequantizeLinear(QuantizeLinear(x)) and DequantizeLinear(int8 weights) and its output
 * goes straight into QuantizeLinear; with graph optimisation 'all' onnxruntime fuses each such
 * group into one int8 kernel (QLinearConv).
 * https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html
 *
 * Choices (those of onnxruntime's own quantizer, `quantize_static` with QuantFormat.QDQ,
 * per_channel=True): weights int8 symmetric per output channel (7-bit range, see WEIGHT_LIMIT); bias int32 with
 * scale = input scale × weight scale and zero point 0; activations uint8 asymmetric with committed
 * ranges (always including 0). A Relu that is a quantized Conv's only consumer is dropped and the
 * Conv's output takes the Relu output's name and range: a uint8 range starting at 0 clamps
 * negatives exactly as Relu does (onnxruntime's quantizer removes it the same way).
 *
 * Deterministic: the same float bytes and ranges give the same output bytes (no clocks, no maps
 * iterated in hash order, IEEE arithmetic only).
 */
import { createHash } from 'node:crypto';
import {
  DataType, attributeFloat, graphOf, intAttribute, makeNode, makeTensor, parseModel, readFloatTensor,
  serializeModel, tensorDims, upgradeToOpset13, type GraphProto, type ModelProto, type NodeProto, type TensorProto,
} from './onnx-graph.js';

/** Committed calibration of one model (models/calibration/<model>.int8.json). */
export interface QdqCalibration {
  /** The float model these ranges were measured on. */
  readonly model: string;
  readonly fp32Sha256: string;
  /** How the ranges were computed (free text, for people). */
  readonly method: string;
  /** Conv nodes (by name) left in float: e.g. the first layer and the output heads. */
  readonly keepFloat: readonly string[];
  /** Float range [min, max] of every activation tensor a quantized Conv reads or writes. */
  readonly ranges: Readonly<Record<string, readonly [number, number]>>;
}

const UINT8_MAX = 255;
/**
 * Weights use 7 bits ([−64, 64], onnxruntime's `reduce_range`): x86 CPUs without VNNI (AVX2 and
 * AVX-512F, e.g. AMD EPYC before Zen 4, the CPU this was written on) multiply uint8 × int8 with
 * VPMADDUBSW, whose int16 pair sums saturate above 32767; 2 × 255 × 64 = 32640 never does.
 * https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html (data type selection)
 */
export const WEIGHT_LIMIT = 64;
const INT32_MAX = 2 ** 31 - 1;

export interface QuantizationPlan {
  /** Conv nodes to quantize, in graph order. */
  readonly convs: readonly NodeProto[];
  /** Relu nodes folded into their Conv (removed). */
  readonly foldedRelus: ReadonlySet<NodeProto>;
  /** Activation tensors that get a Quantize/Dequantize pair, in graph order (names after folding). */
  readonly activations: readonly string[];
}

function consumersOf(graph: GraphProto): Map<string, NodeProto[]> {
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node!) {
    for (const input of node.input!) {
      if (!input) continue;
      const list = consumers.get(input) ?? [];
      list.push(node);
      consumers.set(input, list);
    }
  }
  return consumers;
}

/**
 * Folds BatchNormalization into the Conv before it (when the Conv's output feeds only that BN), so
 * the quantized Conv carries the BN scale in its weights. Float-exact up to rounding.
 */
export function foldBatchNorms(model: ModelProto): void {
  const graph = graphOf(model);
  const initializers = new Map(graph.initializer.map((tensor) => [tensor.name!, tensor]));
  const consumers = consumersOf(graph);
  const removed = new Set<NodeProto>();
  for (const bn of graph.node) {
    if (bn.opType !== 'BatchNormalization') continue;
    const conv = graph.node.find((node) => node.opType === 'Conv' && node.output![0] === bn.input![0]);
    if (!conv || consumers.get(conv.output![0])?.length !== 1) continue;
    const [gamma, beta, mean, variance] = bn.input!.slice(1).map((name) => initializers.get(name));
    const weight = initializers.get(conv.input![1]);
    if (!gamma || !beta || !mean || !variance || !weight) continue;
    const epsilon = attributeFloat(bn, 'epsilon', 1e-5);
    const [g, b, m, v] = [gamma, beta, mean, variance].map(readFloatTensor);
    const w = readFloatTensor(weight);
    const channels = g.length;
    const perChannel = w.length / channels;
    const biasName = conv.input![2];
    const bias = biasName ? readFloatTensor(initializers.get(biasName)!) : new Float32Array(channels);
    const newWeight = new Float32Array(w.length);
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const factor = g[c] / Math.sqrt(v[c] + epsilon);
      for (let k = 0; k < perChannel; k++) newWeight[c * perChannel + k] = w[c * perChannel + k] * factor;
      newBias[c] = (bias[c] - m[c]) * factor + b[c];
    }
    const weightName = `${conv.input![1]}__bnfolded`;
    const foldedBiasName = `${bn.output![0]}__bnfolded_bias`;
    graph.initializer.push(makeTensor(weightName, DataType.FLOAT, tensorDims(weight), newWeight));
    graph.initializer.push(makeTensor(foldedBiasName, DataType.FLOAT, [channels], newBias));
    conv.input = [conv.input![0], weightName, foldedBiasName];
    conv.output = [bn.output![0]];
    removed.add(bn);
  }
  graph.node = graph.node.filter((node) => !removed.has(node));
  pruneUnused(graph);
}

/** Which Convs and tensors a model's quantization touches (after BN folding). */
export function planQuantization(model: ModelProto, keepFloat: readonly string[] = []): QuantizationPlan {
  const graph = graphOf(model);
  const initializerNames = new Set(graph.initializer.map((tensor) => tensor.name!));
  const graphOutputs = new Set(graph.output!.map((output) => output.name!));
  const consumers = consumersOf(graph);
  const keep = new Set(keepFloat);
  const convs = graph.node.filter((node) => node.opType === 'Conv' && !keep.has(node.name!)
    && initializerNames.has(node.input![1]) && (!node.input![2] || initializerNames.has(node.input![2]))
    && !initializerNames.has(node.input![0]) && !graphOutputs.has(node.output![0]));
  const foldedRelus = new Set<NodeProto>();
  const outputName = new Map<NodeProto, string>();
  for (const conv of convs) {
    const users = consumers.get(conv.output![0]) ?? [];
    const relu = users.length === 1 && users[0].opType === 'Relu' ? users[0] : undefined;
    if (relu && !graphOutputs.has(relu.output![0])) {
      foldedRelus.add(relu);
      outputName.set(conv, relu.output![0]);
    } else {
      outputName.set(conv, conv.output![0]);
    }
  }
  const wanted = new Set<string>();
  for (const conv of convs) {
    wanted.add(conv.input![0]);
    wanted.add(outputName.get(conv)!);
  }
  // Graph order: graph inputs first, then node outputs as produced.
  const ordered = [...graph.input!.map((input) => input.name!), ...graph.node.flatMap((node) => node.output!)];
  const activations = ordered.filter((name) => wanted.has(name) && !graphOutputs.has(name));
  return { convs, foldedRelus, activations };
}

/** Tensors a calibration must measure for `fp32` (every candidate Conv input and output). */
export function calibrationTensors(fp32: Uint8Array): string[] {
  const model = parseModel(fp32);
  foldBatchNorms(model);
  return [...planQuantization(model).activations];
}

export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** uint8 asymmetric parameters for a float range; the range is widened to include 0. */
export function activationParams(min: number, max: number): QuantParams {
  const low = Math.min(min, 0);
  const high = Math.max(max, 0);
  const scale = Math.fround(high > low ? (high - low) / UINT8_MAX : 1);
  const zeroPoint = Math.min(UINT8_MAX, Math.max(0, Math.round(-low / scale)));
  return { scale, zeroPoint };
}

/** Symmetric int8 per output channel (axis 0): scales and values in [−WEIGHT_LIMIT, WEIGHT_LIMIT]. */
export function quantizeWeightsPerChannel(weights: Float32Array, channels: number): { scales: Float32Array; values: Int8Array } {
  const perChannel = weights.length / channels;
  const scales = new Float32Array(channels);
  const values = new Int8Array(weights.length);
  for (let c = 0; c < channels; c++) {
    let absMax = 0;
    for (let k = 0; k < perChannel; k++) absMax = Math.max(absMax, Math.abs(weights[c * perChannel + k]));
    const scale = Math.fround(absMax > 0 ? absMax / WEIGHT_LIMIT : 1);
    scales[c] = scale;
    for (let k = 0; k < perChannel; k++) {
      const index = c * perChannel + k;
      values[index] = Math.max(-WEIGHT_LIMIT, Math.min(WEIGHT_LIMIT, Math.round(weights[index] / scale)));
    }
  }
  return { scales, values };
}

/** int32 bias at scale inputScale × weightScale[c] (what QLinearConv assumes). */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { scales: Float32Array; values: Int32Array } {
  const scales = new Float32Array(bias.length);
  const values = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    scales[c] = Math.fround(inputScale * weightScales[c]);
    values[c] = Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(bias[c] / scales[c])));
  }
  return { scales, values };
}

function pruneUnused(graph: GraphProto): void {
  const used = new Set(graph.node!.flatMap((node) => node.input!));
  for (const output of graph.output!) used.add(output.name!);
  graph.initializer = graph.initializer!.filter((tensor) => used.has(tensor.name!));
  const initializerNames = new Set(graph.initializer.map((tensor) => tensor.name!));
  // Old IR versions list initializers as graph inputs too: drop the entries of removed ones.
  graph.input = graph.input!.filter((input) => used.has(input.name!) || initializerNames.has(input.name!));
  const produced = new Set(graph.node!.flatMap((node) => node.output!));
  graph.valueInfo = graph.valueInfo!.filter((info) => produced.has(info.name!));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The QDQ int8 model derived from `fp32` and its committed calibration. Fails when the float
 * bytes are not the ones calibrated or a needed range is missing.
 */
export function quantizeStaticQdq(fp32: Uint8Array, calibration: QdqCalibration): Uint8Array {
  const actual = sha256Hex(fp32);
  if (actual !== calibration.fp32Sha256) {
    throw new Error(`${calibration.model}: float model sha256 ${actual} is not the calibrated ${calibration.fp32Sha256}`);
  }
  const model: ModelProto = parseModel(fp32);
  upgradeToOpset13(model);
  foldBatchNorms(model);
  const graph = graphOf(model);
  const plan = planQuantization(model, calibration.keepFloat);
  const initializers = new Map(graph.initializer.map((tensor) => [tensor.name!, tensor]));

  const params = new Map<string, QuantParams>();
  for (const name of plan.activations) {
    const range = calibration.ranges[name];
    if (!range) throw new Error(`${calibration.model}: no calibrated range for tensor ${name}`);
    params.set(name, activationParams(range[0], range[1]));
  }

  const added: TensorProto[] = [];
  const dequantized = (name: string): string => `${name}_DequantizeLinear_Output`;
  const pairFor = (name: string): NodeProto[] => {
    const { scale, zeroPoint } = params.get(name)!;
    added.push(makeTensor(`${name}_scale`, DataType.FLOAT, [], [scale]));
    added.push(makeTensor(`${name}_zero_point`, DataType.UINT8, [], [zeroPoint]));
    return [
      makeNode('QuantizeLinear', [name, `${name}_scale`, `${name}_zero_point`], [`${name}_QuantizeLinear_Output`], `${name}_QuantizeLinear`),
      makeNode('DequantizeLinear', [`${name}_QuantizeLinear_Output`, `${name}_scale`, `${name}_zero_point`], [dequantized(name)], `${name}_DequantizeLinear`),
    ];
  };

  const convSet = new Set(plan.convs);
  const weightNodes = new Map<NodeProto, NodeProto[]>();
  for (const conv of plan.convs) {
    const [inputName, weightName, biasName] = conv.input!;
    const weight = initializers.get(weightName)!;
    const channels = tensorDims(weight)[0];
    const { scales, values } = quantizeWeightsPerChannel(readFloatTensor(weight), channels);
    const zeros = new Int8Array(channels);
    const nodes: NodeProto[] = [];
    // Unnamed nodes (old exporters) are named after their output, which is unique.
    const key = conv.name || `Conv_${conv.output![0]}`;
    const weightQ = `${key}_weight`;
    added.push(makeTensor(`${weightQ}_quantized`, DataType.INT8, tensorDims(weight), values));
    added.push(makeTensor(`${weightQ}_scale`, DataType.FLOAT, [channels], scales));
    added.push(makeTensor(`${weightQ}_zero_point`, DataType.INT8, [channels], zeros));
    nodes.push(makeNode('DequantizeLinear', [`${weightQ}_quantized`, `${weightQ}_scale`, `${weightQ}_zero_point`], [`${weightQ}_dequantized`], `${weightQ}_DequantizeLinear`, [intAttribute('axis', 0)]));
    const newInputs = [dequantized(inputName), `${weightQ}_dequantized`];
    if (biasName) {
      const bias = quantizeBias(readFloatTensor(initializers.get(biasName)!), params.get(inputName)!.scale, scales);
      const biasQ = `${key}_bias`;
      added.push(makeTensor(`${biasQ}_quantized`, DataType.INT32, [channels], bias.values));
      added.push(makeTensor(`${biasQ}_scale`, DataType.FLOAT, [channels], bias.scales));
      added.push(makeTensor(`${biasQ}_zero_point`, DataType.INT32, [channels], new Int32Array(channels)));
      nodes.push(makeNode('DequantizeLinear', [`${biasQ}_quantized`, `${biasQ}_scale`, `${biasQ}_zero_point`], [`${biasQ}_dequantized`], `${biasQ}_DequantizeLinear`, [intAttribute('axis', 0)]));
      newInputs.push(`${biasQ}_dequantized`);
    }
    weightNodes.set(conv, nodes);
    conv.input = newInputs;
  }

  // Folded Relus: the Conv writes the Relu's output tensor.
  for (const conv of plan.convs) {
    const relu = [...plan.foldedRelus].find((node) => node.input![0] === conv.output![0]);
    if (relu) conv.output = [relu.output![0]];
  }

  // Every reader of a quantized tensor (except its QuantizeLinear) reads the dequantized copy, so
  // the producing Conv's only consumer is the QuantizeLinear (a condition of the fusion).
  const quantized = new Set(plan.activations);
  const nodes: NodeProto[] = [];
  for (const input of graph.input!) if (quantized.has(input.name!)) nodes.push(...pairFor(input.name!));
  for (const node of graph.node) {
    if (plan.foldedRelus.has(node)) continue;
    if (!convSet.has(node)) node.input = node.input!.map((name) => (quantized.has(name) ? dequantized(name) : name));
    if (convSet.has(node)) nodes.push(...weightNodes.get(node)!);
    nodes.push(node);
    for (const output of node.output!) if (quantized.has(output)) nodes.push(...pairFor(output));
  }
  graph.node = nodes;
  graph.initializer.push(...added);
  pruneUnused(graph);
  return serializeModel(model);
}
