/**
 * Small, deterministic ONNX graph edits in TypeScript, so models can be derived inside `npm ci`
 * on machines without Python: parse/serialise (protobufjs code generated from onnx.proto, npm
 * `onnx-proto`), float tensor access, extra graph outputs (to calibrate on intermediate tensors)
 * and the opset 12 → 13 step that per-channel DequantizeLinear needs.
 * ONNX IR and operator changes: https://github.com/onnx/onnx/blob/main/docs/Changelog.md
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

export function parseModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** protobufjs writes fields in field-number order and repeated fields in array order: same model, same bytes. */
export function serializeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function graphOf(model: ModelProto): GraphProto & { node: NodeProto[]; initializer: TensorProto[] } {
  if (!model.graph) throw new Error('ONNX model has no graph');
  const graph = model.graph;
  graph.node ??= [];
  graph.initializer ??= [];
  graph.input ??= [];
  graph.output ??= [];
  graph.valueInfo ??= [];
  return graph as GraphProto & { node: NodeProto[]; initializer: TensorProto[] };
}

export function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((opset) => !opset.domain || opset.domain === 'ai.onnx');
  if (!entry) throw new Error('ONNX model imports no default-domain opset');
  return Number(entry.version);
}

const toNumber = (value: number | { toNumber(): number } | null | undefined): number =>
  value == null ? 0 : typeof value === 'number' ? value : value.toNumber();

export function tensorDims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map((dim) => toNumber(dim as number));
}

/** The float32 values of an initializer (raw_data little-endian or float_data). */
export function readFloatTensor(tensor: TensorProto): Float32Array {
  if (tensor.dataType !== DataType.FLOAT) throw new Error(`tensor ${tensor.name}: data type ${tensor.dataType}, expected float`);
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = new Float32Array(raw.byteLength / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
    return values;
  }
  return Float32Array.from(tensor.floatData ?? []);
}

/** An initializer with little-endian raw_data (the compact form every ONNX reader accepts). */
export function makeTensor(name: string, dataType: number, dims: readonly number[], values: ArrayLike<number> | readonly bigint[]): TensorProto {
  const count = values.length;
  const width = dataType === DataType.FLOAT || dataType === DataType.INT32 ? 4 : dataType === DataType.INT64 ? 8 : 1;
  const raw = new Uint8Array(count * width);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) {
    const value = values[i];
    switch (dataType) {
      case DataType.FLOAT: view.setFloat32(i * 4, Number(value), true); break;
      case DataType.INT32: view.setInt32(i * 4, Number(value), true); break;
      case DataType.INT64: view.setBigInt64(i * 8, BigInt(value), true); break;
      case DataType.UINT8: view.setUint8(i, Number(value)); break;
      case DataType.INT8: view.setInt8(i, Number(value)); break;
      default: throw new Error(`makeTensor: unsupported data type ${dataType}`);
    }
  }
  return onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData: raw });
}

export function makeNode(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: onnxProto.onnx.IAttributeProto[] = []): NodeProto {
  return onnx.NodeProto.create({ opType, input: [...inputs], output: [...outputs], name, attribute: attributes });
}

export function intAttribute(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
}

export function attributeInt(node: NodeProto, name: string, fallback: number): number {
  const attribute = (node.attribute ?? []).find((entry) => entry.name === name);
  return attribute ? toNumber(attribute.i as number) : fallback;
}

export function attributeFloat(node: NodeProto, name: string, fallback: number): number {
  const attribute = (node.attribute ?? []).find((entry) => entry.name === name);
  return attribute?.f ?? fallback;
}

/**
 * Declares `names` as extra float graph outputs (no shape: onnxruntime infers it), so one run
 * returns the intermediate tensors a calibration needs.
 */
export function exposeTensors(model: ModelProto, names: readonly string[]): ModelProto {
  const copy = onnx.ModelProto.decode(serializeModel(model));
  const graph = graphOf(copy);
  const existing = new Set(graph.output!.map((output) => output.name));
  for (const name of names) {
    if (existing.has(name)) continue;
    graph.output!.push(onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: DataType.FLOAT } },
    }));
  }
  return copy;
}

/** Operators whose opset-13 definition differs from 12 in a way this upgrade does not rewrite. */
const UNSUPPORTED_BEFORE_13 = new Set(['Split', 'ReduceSum', 'Softmax', 'LogSoftmax', 'Hardmax', 'Upsample', 'Scan', 'Loop', 'If']);

/**
 * Raises the default opset to 13 (per-channel DequantizeLinear needs it): Unsqueeze/Squeeze take
 * `axes` as an int64 input from 13 on; the other operators in these models are unchanged. Models
 * already at ≥ 13 are left alone; an operator whose meaning changed and is not rewritten here fails.
 */
export function upgradeToOpset13(model: ModelProto): void {
  const version = defaultOpset(model);
  if (version >= 13) return;
  const graph = graphOf(model);
  for (const node of graph.node) {
    if (UNSUPPORTED_BEFORE_13.has(node.opType!)) throw new Error(`opset ${version} → 13: operator ${node.opType} (${node.name}) is not rewritten`);
    if (node.opType === 'Unsqueeze' || node.opType === 'Squeeze') {
      const axes = (node.attribute ?? []).find((attribute) => attribute.name === 'axes');
      if (!axes) continue;
      const axesName = `${node.output![0]}__axes`;
      graph.initializer.push(makeTensor(axesName, DataType.INT64, [axes.ints!.length], axes.ints!.map((axis) => toNumber(axis as number))));
      node.input!.push(axesName);
      node.attribute = node.attribute!.filter((attribute) => attribute !== axes);
    }
  }
  for (const opset of model.opsetImport) if (!opset.domain || opset.domain === 'ai.onnx') opset.version = 13;
  // Opset 13 needs IR version 7 (onnx/onnx docs/Versioning.md).
  if (toNumber(model.irVersion as number) < 7) model.irVersion = 7;
}
