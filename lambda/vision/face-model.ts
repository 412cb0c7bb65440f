/**
 * The one shape of a per-face model: its table entry (models.ts: file, input, batch limit), a pure
 * `preprocess` from the image and the faces to one float32 batch, and a pure `postprocess` from the
 * run's outputs back to one result per face. `runFaceModel` is the only code that runs one, so
 * batching (BATCH_SIZES pieces, `maxBatch`), output copying and tensor disposal live in one place.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import type { ModelSpec } from './models.js';
import { getSession, runFloat32, type SessionSettings } from './session.js';

/** A run's outputs by name, in the session's output order; valid only during `postprocess`. */
export type ModelOutputs = Readonly<Record<string, Float32Array>>;

export interface FaceModel<Face, Output> extends ModelSpec {
  /**
   * The input batch for `faces`: whole items of input.channels × size × size values (a model may
   * take several items per face, e.g. one per eye).
   */
  preprocess(image: RgbImage, faces: readonly Face[]): Float32Array;
  /** One result per face; must copy what it keeps (the outputs are released after it returns). */
  postprocess(outputs: ModelOutputs, faces: readonly Face[]): Output[];
}

/** The model's only (first) output; `what` names it in the error. */
export function firstOutput(outputs: ModelOutputs, what: string): Float32Array {
  const [first] = Object.values(outputs);
  if (!first) throw new Error(`${what} returned no output`);
  return first;
}

/** The named output, or an error that names what the model does return. */
export function namedOutput(outputs: ModelOutputs, name: string, what: string): Float32Array {
  const output = outputs[name];
  if (!output) throw new Error(`${what} has no output ${name} (outputs: ${Object.keys(outputs).join(', ')})`);
  return output;
}

/** Values of one input item. */
export function itemLength(spec: ModelSpec): number {
  const size = spec.input.size;
  if (size === undefined) throw new Error(`${spec.id} has no fixed input size`);
  return spec.input.channels * size * size;
}

function isSession(value: ort.InferenceSession | SessionSettings): value is ort.InferenceSession {
  return 'run' in value;
}

/**
 * Runs `model` on `faces`: at most `maxBatch` faces per run, each run's batch split into
 * BATCH_SIZES pieces by runFloat32. Takes a session (the pipeline's, whose file the config may
 * override) or the settings to get the shared session of the model's own file.
 */
export async function runFaceModel<Face, Output>(
  model: FaceModel<Face, Output>,
  sessionOrSettings: ort.InferenceSession | SessionSettings,
  image: RgbImage,
  faces: readonly Face[],
): Promise<Output[]> {
  if (faces.length === 0) return [];
  const session = isSession(sessionOrSettings) ? sessionOrSettings : await getSession(model.file, sessionOrSettings);
  const size = model.input.size!;
  const length = itemLength(model);
  const facesPerRun = model.maxBatch ?? faces.length;
  const results: Output[] = [];
  for (let start = 0; start < faces.length; start += facesPerRun) {
    const chunk = faces.slice(start, start + facesPerRun);
    const batch = model.preprocess(image, chunk);
    const items = batch.length / length;
    if (!Number.isInteger(items)) throw new Error(`${model.id} preprocess made ${batch.length} values, not whole items of ${length}`);
    const tensors = await runFloat32(session, batch, [items, model.input.channels, size, size]);
    try {
      const outputs: Record<string, Float32Array> = {};
      for (const name of session.outputNames) if (tensors[name]) outputs[name] = tensors[name].data as Float32Array;
      results.push(...model.postprocess(outputs, chunk));
    } finally {
      for (const tensor of Object.values(tensors)) tensor.dispose?.();
    }
  }
  return results;
}

/**
 * Creates the shared session of `file` (the model's own unless the config names another) and runs
 * it once on a zero item, so a missing or corrupt file fails at start (ModelLoadError), not on a
 * request. A detector (no fixed input size) is only loaded.
 */
export async function warmModel(spec: ModelSpec, settings: SessionSettings, file = spec.file): Promise<ort.InferenceSession> {
  const session = await getSession(file, settings);
  if (spec.input.size !== undefined) {
    const size = spec.input.size;
    const outputs = await runFloat32(session, new Float32Array(itemLength(spec)), [1, spec.input.channels, size, size]);
    for (const output of Object.values(outputs)) output.dispose?.();
  }
  return session;
}
