/**
 * The TypeScript QDQ quantizer on small generated models run by the real onnxruntime: the int8 model
 * must load, fuse and agree with the float one within the quantization step; derivation must be
 * byte-for-byte deterministic; the opset upgrade and the calibration statistics are checked on
 * known values.
 */
import * as ort from 'onnxruntime-node';
import {
  activationParams, calibrationTensors, quantizeBias, quantizeStaticQdq, quantizeWeightsPerChannel, sha256Hex, type QdqCalibration,
} from '../../scripts/onnx/qdq.js';
import {
  DataType, exposeTensors, makeNode, makeTensor, onnx, parseModel, serializeModel, upgradeToOpset13,
} from '../../scripts/onnx/onnx-graph.js';
import { mulberry32 } from '../helpers/synthetic-bytes.js';
import { collectSample, createCalibrationSession, reduceRanges, sampleStatistics, type TensorSample } from '../../scripts/onnx/calibration.js';

const random = mulberry32(7);
const randomValues = (count: number, scale: number): Float32Array => Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);

function floatInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } } });
}

/** x [1,3,8,8] → Conv 3×3 (4 ch) → BatchNorm → Relu → Conv 1×1 (2 ch) → Unsqueeze(axes 0) → y [1,1,2,8,8], at opset 12. */
function tinyModel(): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 6,
    opsetImport: [{ domain: '', version: 12 }],
    graph: {
      name: 'tiny',
      input: [floatInfo('x', [1, 3, 8, 8])],
      output: [floatInfo('y', [1, 1, 2, 8, 8])],
      initializer: [
        makeTensor('w1', DataType.FLOAT, [4, 3, 3, 3], randomValues(108, 0.5)),
        makeTensor('b1', DataType.FLOAT, [4], randomValues(4, 0.2)),
        makeTensor('gamma', DataType.FLOAT, [4], [1, 0.5, 2, 1.5]),
        makeTensor('beta', DataType.FLOAT, [4], [0.1, -0.1, 0, 0.2]),
        makeTensor('mean', DataType.FLOAT, [4], [0.05, 0, -0.05, 0.1]),
        makeTensor('var', DataType.FLOAT, [4], [1, 0.8, 1.2, 0.9]),
        makeTensor('w2', DataType.FLOAT, [2, 4, 1, 1], randomValues(8, 1)),
        makeTensor('b2', DataType.FLOAT, [2], randomValues(2, 0.3)),
      ],
      node: [
        makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', [onnx.AttributeProto.create({ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] })]),
        makeNode('BatchNormalization', ['c1', 'gamma', 'beta', 'mean', 'var'], ['bn1'], 'bn1'),
        makeNode('Relu', ['bn1'], ['r1'], 'relu1'),
        makeNode('Conv', ['r1', 'w2', 'b2'], ['c2'], 'conv2'),
        makeNode('Unsqueeze', ['c2'], ['y'], 'unsqueeze', [onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] })]),
      ],
    },
  });
  return serializeModel(model);
}

async function run(bytes: Uint8Array, input: Float32Array, optimisation: 'all' | 'disabled' = 'all'): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: optimisation, intraOpNumThreads: 1 });
  const outputs = await session.run({ x: new ort.Tensor('float32', input, [1, 3, 8, 8]) });
  const data = outputs.y.data as Float32Array;
  await session.release();
  return data;
}

async function calibrate(fp32: Uint8Array, inputs: Float32Array[]): Promise<QdqCalibration> {
  const { session, tensors } = await createCalibrationSession(fp32, 1);
  const samples: Record<string, TensorSample[]> = {};
  for (const input of inputs) await collectSample(session, tensors, input, [1, 3, 8, 8], samples);
  await session.release();
  return { model: 'tiny', fp32Sha256: sha256Hex(fp32), method: 'minmax-extreme', keepFloat: [], ranges: reduceRanges(samples, 'minmax-extreme') };
}

describe('int8 QDQ quantizer', () => {
  const fp32 = tinyModel();
  const inputs = Array.from({ length: 8 }, () => randomValues(192, 1));

  test('calibration measures every Conv input and output (Relu and BatchNorm folded)', () => {
    expect(calibrationTensors(fp32)).toEqual(['x', 'r1', 'c2']);
  });

  test('the int8 model runs in onnxruntime, fuses to QLinearConv and agrees with the float model within a few steps', async () => {
    const calibration = await calibrate(fp32, inputs);
    const int8 = quantizeStaticQdq(fp32, calibration);
    const model = parseModel(int8);
    const ops = model.graph!.node!.map((node) => node.opType);
    expect(ops.filter((op) => op === 'QuantizeLinear')).toHaveLength(3);
    expect(ops).not.toContain('Relu');
    expect(ops).not.toContain('BatchNormalization');
    expect(model.graph!.initializer!.filter((tensor) => tensor.dataType === DataType.INT8).map((tensor) => tensor.name).sort())
      .toEqual(['conv1_weight_quantized', 'conv1_weight_zero_point', 'conv2_weight_quantized', 'conv2_weight_zero_point']);
    const outputStep = activationParams(...(calibration.ranges.c2 as [number, number])).scale;
    for (const input of inputs.slice(0, 3)) {
      const [expected, actual] = await Promise.all([run(fp32, input), run(int8, input)]);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
      // Three roundings (input, hidden, output) of ≤ ½ step each, plus weight rounding.
      expect(worst).toBeLessThan(6 * outputStep);
      expect(worst).toBeGreaterThan(0);
    }
    // With optimisation off the same graph runs unfused (Q/DQ executed literally): same answer within one step.
    const [fused, unfused] = await Promise.all([run(int8, inputs[0]), run(int8, inputs[0], 'disabled')]);
    for (let i = 0; i < fused.length; i++) expect(Math.abs(fused[i] - unfused[i])).toBeLessThanOrEqual(1.01 * outputStep);
  });

  test('derivation is byte-for-byte deterministic and refuses other float bytes or missing ranges', async () => {
    const calibration = await calibrate(fp32, inputs);
    const first = quantizeStaticQdq(fp32, calibration);
    const second = quantizeStaticQdq(new Uint8Array(fp32), JSON.parse(JSON.stringify(calibration)) as QdqCalibration);
    expect(sha256Hex(second)).toBe(sha256Hex(first));
    const altered = new Uint8Array(fp32);
    altered[altered.length - 1] ^= 1;
    expect(() => quantizeStaticQdq(altered, calibration)).toThrow(/sha256/);
    const { r1: _dropped, ...ranges } = calibration.ranges;
    expect(() => quantizeStaticQdq(fp32, { ...calibration, ranges })).toThrow(/no calibrated range for tensor r1/);
  });

  test('keepFloat leaves a Conv in float and quantizes only what the others need', async () => {
    const calibration = await calibrate(fp32, inputs);
    const model = parseModel(quantizeStaticQdq(fp32, { ...calibration, keepFloat: ['conv2'] }));
    const conv2 = model.graph!.node!.find((node) => node.name === 'conv2')!;
    expect(conv2.input![1]).toBe('w2');
    expect(model.graph!.node!.filter((node) => node.opType === 'QuantizeLinear')).toHaveLength(2);
  });

  test('unnamed nodes (old exporters) get unique quantized names and the model loads', async () => {
    const unnamed = parseModel(fp32);
    for (const node of unnamed.graph!.node!) node.name = '';
    const bytes = serializeModel(unnamed);
    const calibration = await calibrate(bytes, inputs.slice(0, 2));
    const int8 = quantizeStaticQdq(bytes, calibration);
    const names = parseModel(int8).graph!.node!.map((node) => node.name).filter(Boolean);
    expect(new Set(names).size).toBe(names.length);
    expect((await run(int8, inputs[0])).length).toBe(128);
  });

  test('opset 12 → 13 moves Unsqueeze axes into an input and keeps the result', async () => {
    const model = parseModel(fp32);
    upgradeToOpset13(model);
    expect(model.opsetImport[0].version).toBe(13);
    const unsqueeze = model.graph!.node!.find((node) => node.opType === 'Unsqueeze')!;
    expect(unsqueeze.attribute).toHaveLength(0);
    expect(unsqueeze.input).toHaveLength(2);
    const [before, after] = await Promise.all([run(fp32, inputs[0]), run(serializeModel(model), inputs[0])]);
    expect(Array.from(after)).toEqual(Array.from(before));
  });

  test('exposed intermediate tensors come back from a run', async () => {
    const session = await ort.InferenceSession.create(serializeModel(exposeTensors(parseModel(fp32), ['r1'])));
    const outputs = await session.run({ x: new ort.Tensor('float32', inputs[0], [1, 3, 8, 8]) });
    expect(outputs.r1.dims).toEqual([1, 4, 8, 8]);
    expect(Math.min(...(outputs.r1.data as Float32Array))).toBeGreaterThanOrEqual(0);
    await session.release();
  });
});

describe('quantization arithmetic', () => {
  test('uint8 activation parameters include 0 and map the range onto 0..255', () => {
    expect(activationParams(0, 2.55)).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const signed = activationParams(-1, 1);
    expect(Math.abs(signed.zeroPoint * signed.scale - 1)).toBeLessThanOrEqual(signed.scale);
    expect(activationParams(0.5, 1).zeroPoint).toBe(0);
    expect(activationParams(0, 0)).toEqual({ scale: 1, zeroPoint: 0 });
  });

  test('weights: per output channel, the largest magnitude becomes ±64 (7 bits: no VPMADDUBSW saturation)', () => {
    const { scales, values } = quantizeWeightsPerChannel(Float32Array.from([0.5, -1, 0.25, 0.012, -0.02, 0]), 2);
    expect(Array.from(scales)).toEqual([Math.fround(1 / 64), Math.fround(0.02 / 64)]);
    expect(Array.from(values)).toEqual([32, -64, 16, 38, -64, 0]);
  });

  test('bias: int32 at input scale × weight scale', () => {
    const { scales, values } = quantizeBias(Float32Array.from([0.5, -0.25]), 0.01, Float32Array.from([0.1, 0.5]));
    expect(Array.from(scales)).toEqual([Math.fround(0.001), Math.fround(0.005)]);
    expect(Array.from(values)).toEqual([500, -50]);
  });

  test('calibration statistics: tails of 0.01 % are cut, extremes kept apart', () => {
    const values = new Float32Array(100_000).map((_, i) => i / 100_000);
    values[0] = -50;
    values[1] = 80;
    const sample = sampleStatistics(values);
    expect(sample.min).toBe(-50);
    expect(sample.max).toBe(80);
    expect(sample.low).toBeGreaterThan(-1);
    expect(sample.high).toBeLessThan(1.1);
    const samples = { t: [{ min: -2, max: 4, low: -1, high: 3 }, { min: 0, max: 2, low: 0, high: 1 }] };
    expect(reduceRanges(samples, 'minmax-mean').t).toEqual([-1, 3]);
    expect(reduceRanges(samples, 'minmax-extreme').t).toEqual([-2, 4]);
    expect(reduceRanges(samples, 'percentile-mean').t).toEqual([-0.5, 2]);
    expect(reduceRanges(samples, 'percentile-extreme').t).toEqual([-1, 3]);
  });
});
