/**
 * The one table of the models facekit runs: each model's file (in the model folder; sha256 and
 * licence in models/manifest.json) and the input a run takes. The pipeline loads and warms from it,
 * the planner covers the detector's reliable range, the attributes name the models they need by its
 * ids, the config takes its default files from it.
 * Adding a detector or a per-face model = its module (a FaceModel, face-model.ts) + one entry here.
 *
 * Pure data on purpose: config.ts reads it without loading onnxruntime.
 */

/** One input item of a model: channels × size × size (the detector's size is chosen per pass). */
export interface ModelInput {
  readonly channels: number;
  /** Square side in pixels; undefined for a detector, whose planner picks the size of each pass. */
  readonly size?: number;
}

export interface ModelSpec {
  readonly id: string;
  readonly file: string;
  /** `detector` finds faces in a whole image; `face` runs on crops of faces already found. */
  readonly role: 'detector' | 'face';
  readonly input: ModelInput;
  /**
   * Most items one run takes, when the graph or memory limits it (FSA-Net's graphs are fixed at a
   * batch of 1; FaceRes is capped for memory, faceres.ts). Unset: any batch (run in BATCH_SIZES pieces).
   */
  readonly maxBatch?: number;
  /**
   * A detector's reliable face sizes in input pixels (longer box side), which the planner covers
   * with its passes: measured by `npm run eval:detector-range` (docs/performance.md).
   */
  readonly reliableRange?: { readonly minFacePx: number; readonly maxFacePx: number };
}

const table = {
  scrfd: { id: 'scrfd', file: 'scrfd_2.5g_kps_dynhw.onnx', role: 'detector', input: { channels: 3 }, reliableRange: { minFacePx: 16, maxFacePx: 320 } },
  landmarks106: { id: 'landmarks106', file: 'pfld106_lite_if106.onnx', role: 'face', input: { channels: 3, size: 112 } },
  genderAge: { id: 'genderAge', file: 'insightface_genderage_v1.onnx', role: 'face', input: { channels: 3, size: 112 } },
  faceRes: { id: 'faceRes', file: 'human_faceres_age_gender_desc.midfeatures.onnx', role: 'face', input: { channels: 3, size: 224 }, maxBatch: 4 },
  emotion: { id: 'emotion', file: 'human_emotion_fer7.onnx', role: 'face', input: { channels: 1, size: 64 } },
  faceAttributes: { id: 'faceAttributes', file: 'face_attributes_5head.onnx', role: 'face', input: { channels: 3, size: 112 } },
  headPoseFsanet1x1: { id: 'headPoseFsanet1x1', file: 'headpose_fsanet_1x1.onnx', role: 'face', input: { channels: 3, size: 64 }, maxBatch: 1 },
  headPoseFsanetVar: { id: 'headPoseFsanetVar', file: 'headpose_fsanet_var.onnx', role: 'face', input: { channels: 3, size: 64 }, maxBatch: 1 },
  iris: { id: 'iris', file: 'human_iris_mediapipe.onnx', role: 'face', input: { channels: 3, size: 64 } },
  liveness: { id: 'liveness', file: 'human_antispoof.onnx', role: 'face', input: { channels: 3, size: 128 } },
} as const satisfies Record<string, ModelSpec>;

export type ModelId = keyof typeof table;

/** Keeps each entry's literal values, so a module's input size is a number, not `number | undefined`. */
export const MODELS = table;

export const MODEL_IDS = Object.keys(MODELS) as ModelId[];

/** Every model file facekit may load (models/manifest.json lists exactly these). */
export function allModelFiles(): string[] {
  return MODEL_IDS.map((id) => MODELS[id].file);
}
