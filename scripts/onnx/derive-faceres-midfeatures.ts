/**
 * Derives the served FaceRes file from the bundled one: the same graph plus one output,
 * `mid_features` [N,512], the spatial mean of block 11's activations (conv_pw_11, 14×14; FaceRes, a MobileNet, has 13 blocks).
 * The gender/age heads read it beside the 1,024-d descriptor (the last block's mean): an earlier,
 * less identity-specific layer kept children's gender cues the final layer had lost (training-split
 * cross-validation in docs/accuracy.md). One ReduceMean over a tensor FaceRes computes anyway, so
 * the cost per face is unchanged.
 *
 * `npm run models` runs it (manifest `obtain: derived`):
 *   tsx scripts/onnx/derive-faceres-midfeatures.ts --model-dir models --out models/<file>.partial
 * Deterministic: protobufjs serialises the same model to the same bytes (onnx-graph.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataType, graphOf, makeNode, onnx, parseModel, serializeModel, type ModelProto } from './onnx-graph.js';

export const FACERES_SOURCE_FILE = 'human_faceres_age_gender_desc.onnx';
/** Output of FaceRes's depthwise-separable block 11 of 13, [N,512,14,14] (after its ReLU6 clip). */
export const MID_LAYER_TENSOR = 'conv_pw_11_relu_clip_by_value';
export const MID_FEATURES_OUTPUT = 'mid_features';

export function withMidFeatures(source: ModelProto): ModelProto {
  const model = onnx.ModelProto.decode(serializeModel(source));
  const graph = graphOf(model);
  if (!graph.node.some((node) => node.output?.includes(MID_LAYER_TENSOR))) throw new Error(`${FACERES_SOURCE_FILE} has no tensor ${MID_LAYER_TENSOR}`);
  if (graph.output!.some((output) => output.name === MID_FEATURES_OUTPUT)) throw new Error(`the model already has an output ${MID_FEATURES_OUTPUT}`);
  // ReduceMean keeps `axes` as an attribute up to opset 17 (FaceRes is opset 13).
  graph.node.push(makeNode('ReduceMean', [MID_LAYER_TENSOR], [MID_FEATURES_OUTPUT], 'mid_features_mean', [
    onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [2, 3] }),
    onnx.AttributeProto.create({ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }),
  ]));
  graph.output!.push(onnx.ValueInfoProto.create({
    name: MID_FEATURES_OUTPUT,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 512 }] } } },
  }));
  return model;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { 'model-dir': { type: 'string', default: 'models' }, out: { type: 'string' } } });
  if (!values.out) throw new Error('usage: derive-faceres-midfeatures.ts --model-dir DIR --out FILE');
  const source = parseModel(await readFile(join(values['model-dir']!, FACERES_SOURCE_FILE)));
  await writeFile(values.out, serializeModel(withMidFeatures(source)));
}
