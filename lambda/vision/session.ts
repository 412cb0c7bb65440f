/**
 * ONNX Runtime sessions, created once per process per model file and reused by every request.
 * Created from a Buffer (the file is read once), graph optimisation 'all' (2-3× faster than basic
 * on these models), intra-op threads from config.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface SessionSettings {
  readonly modelDir: string;
  readonly intraOpThreads: number;
  /** onnxruntime's per-shape memory pattern (config.memoryPattern). @default false */
  readonly memoryPattern?: boolean;
  /** onnxruntime's CPU arena (config.memoryArena). @default false */
  readonly memoryArena?: boolean;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

export class ModelLoadError extends Error {
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

async function createSession(path: string, file: string, settings: SessionSettings): Promise<ort.InferenceSession> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ModelLoadError(file, `model file ${path} cannot be read (${(error as Error).message}); run \`npm run models\``, { cause: error });
  }
  try {
    return await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableMemPattern: settings.memoryPattern ?? false,
      enableCpuMemArena: settings.memoryArena ?? false,
    });
  } catch (error) {
    throw new ModelLoadError(file, `model file ${path} is not a valid ONNX model (${(error as Error).message}); run \`npm run models\` to restore it`, { cause: error });
  }
}

/** The shared session for `file` in the model folder; a failed load is not cached. */
export function getSession(file: string, settings: SessionSettings): Promise<ort.InferenceSession> {
  const path = join(settings.modelDir, file);
  let session = sessions.get(path);
  if (!session) {
    session = createSession(path, file, settings);
    sessions.set(path, session);
    session.catch(() => sessions.delete(path));
  }
  return session;
}

/**
 * The batch sizes a model ever runs with. A batch of any other size runs as several of these,
 * largest first (11 faces: 8 + 2 + 1), so onnxruntime meets at most five shapes per per-face model
 * and its arena is bounded by the largest, whatever the number of faces (no compute is padded).
 */
export const BATCH_SIZES = [16, 8, 4, 2, 1] as const;

/** How a batch of `count` items is split into runs of BATCH_SIZES. */
export function batchRuns(count: number): number[] {
  const runs: number[] = [];
  let left = count;
  for (const size of BATCH_SIZES) {
    while (left >= size) { runs.push(size); left -= size; }
  }
  return runs;
}

async function runOnce(session: ort.InferenceSession, data: Float32Array, dims: readonly number[]): Promise<Record<string, ort.Tensor>> {
  const input = new ort.Tensor('float32', data, dims);
  try {
    return await session.run({ [session.inputNames[0]]: input });
  } finally {
    input.dispose?.();
  }
}

/**
 * Runs `session` on one float32 input whose first dimension is the batch, and returns the outputs
 * by name (each with the batch first, in input order). Batches outside BATCH_SIZES run in pieces.
 */
export async function runFloat32(
  session: ort.InferenceSession,
  data: Float32Array,
  dims: readonly number[],
): Promise<Record<string, ort.Tensor>> {
  const [count = 1, ...itemDims] = dims;
  const runs = batchRuns(count);
  if (runs.length <= 1) return runOnce(session, data, dims);
  const itemLength = itemDims.reduce((product, dim) => product * dim, 1);
  const parts: Record<string, ort.Tensor>[] = [];
  try {
    let start = 0;
    for (const size of runs) {
      parts.push(await runOnce(session, data.subarray(start * itemLength, (start + size) * itemLength), [size, ...itemDims]));
      start += size;
    }
    const joined: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(parts[0]!)) {
      const pieces = parts.map((part) => part[name]!);
      const total = pieces.reduce((sum, piece) => sum + piece.data.length, 0);
      const values = new (pieces[0]!.data.constructor as Float32ArrayConstructor)(total);
      let offset = 0;
      for (const piece of pieces) { values.set(piece.data as Float32Array, offset); offset += piece.data.length; }
      joined[name] = new ort.Tensor(pieces[0]!.type as 'float32', values, [count, ...pieces[0]!.dims.slice(1)]);
    }
    return joined;
  } finally {
    for (const part of parts) for (const output of Object.values(part)) output.dispose?.();
  }
}
