/**
 * The 5-head attribute model (face_attributes_5head.onnx, MIT): aligned 112×112 RGB 0..255 crop
 * (ArcFace template), five softmax outputs named gender_softmax[2], mask_softmax[2],
 * glass_softmax[3], mouth_softmax[3], eye_softmax[3].
 *
 * Class meanings were checked on labelled images (docs/attributes.md, scripts/eval-attributes.ts);
 * the verified indices are the *_CLASSES constants below. The gender head is weak and unused.
 */
import type { RgbImage } from '../../image/types.js';
import { ALIGNED_SIZE, arcfaceAlignment } from '../alignment.js';
import { namedOutput, runFaceModel, type FaceModel } from '../face-model.js';
import { warpAffineToTensor } from '../geometry.js';
import { MODELS } from '../models.js';
import type { SessionSettings } from '../session.js';
import type { AttributeFace } from './common.js';

export const HEAD_OUTPUTS = {
  mask: 'mask_softmax',
  glasses: 'glass_softmax',
  mouth: 'mouth_softmax',
  eyes: 'eye_softmax',
} as const;

/** Verified: index 1 = wearing a mask (mean 0.76 on with_mask faces, 0.09 without; docs/accuracy.md). */
export const MASK_CLASSES = ['none', 'mask'] as const;
/**
 * Verified: index 0 none, 1 eyeglasses (mean 0.60 on MeGlass eyeglasses vs 0.07 without). Index 2
 * (sunglasses, per the model's documentation) has no labelled sunglasses image to confirm it.
 */
export const GLASSES_CLASSES = ['none', 'eyeglasses', 'sunglasses'] as const;
/**
 * Verified: index 0 closed, 1 open (CelebA Mouth_Slightly_Open), 2 occluded (rises to 0.72 on
 * masked faces of the face-mask set).
 */
export const MOUTH_CLASSES = ['closed', 'open', 'occluded'] as const;
export const MOUTH_CLOSED = 0;
export const MOUTH_OPEN = 1;
export const MOUTH_OCCLUDED = 2;
/** Index 0 open (≥ 0.9 on every open-eyed labelled face); 1 and 2: see docs/attributes.md. */
export const EYE_CLASSES = ['open', 'closed', 'occluded'] as const;
export const EYES_OPEN = 0;
export const EYES_CLOSED = 1;
export const EYES_OCCLUDED = 2;

export interface FiveHeadResult {
  /** Probability that a mask covers mouth and nose. */
  readonly mask: number;
  readonly glasses: readonly number[];
  readonly mouth: readonly number[];
  readonly eyes: readonly number[];
}

/** The aligned crop batch [N,3,112,112], RGB 0..255. */
export function preprocessFaceAttributes(image: RgbImage, faces: readonly AttributeFace[]): Float32Array {
  const slot = 3 * ALIGNED_SIZE * ALIGNED_SIZE;
  const batch = new Float32Array(faces.length * slot);
  faces.forEach((face, index) => {
    warpAffineToTensor(image, arcfaceAlignment(face.landmarks5), ALIGNED_SIZE, ALIGNED_SIZE, { mean: 0, std: 1, order: 'rgb' }, batch, index * slot);
  });
  return batch;
}

function rows(data: Float32Array, count: number, width: number): number[][] {
  if (data.length !== count * width) throw new Error(`attribute head has ${data.length} values, expected ${count * width}`);
  return Array.from({ length: count }, (_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));
}

export function postprocessFaceAttributes(
  heads: { readonly mask: Float32Array; readonly glasses: Float32Array; readonly mouth: Float32Array; readonly eyes: Float32Array },
  count: number,
): FiveHeadResult[] {
  const mask = rows(heads.mask, count, MASK_CLASSES.length);
  const glasses = rows(heads.glasses, count, GLASSES_CLASSES.length);
  const mouth = rows(heads.mouth, count, MOUTH_CLASSES.length);
  const eyes = rows(heads.eyes, count, EYE_CLASSES.length);
  return mask.map((maskRow, i) => ({
    mask: maskRow[MASK_CLASSES.indexOf('mask')],
    glasses: glasses[i],
    mouth: mouth[i],
    eyes: eyes[i],
  }));
}

export const faceAttributesModel: FaceModel<AttributeFace, FiveHeadResult> = {
  ...MODELS.faceAttributes,
  preprocess: preprocessFaceAttributes,
  postprocess: (outputs, faces) => {
    const head = (name: string) => namedOutput(outputs, name, MODELS.faceAttributes.file);
    return postprocessFaceAttributes(
      { mask: head(HEAD_OUTPUTS.mask), glasses: head(HEAD_OUTPUTS.glasses), mouth: head(HEAD_OUTPUTS.mouth), eyes: head(HEAD_OUTPUTS.eyes) },
      faces.length,
    );
  },
};

export function runFaceAttributes(image: RgbImage, faces: readonly AttributeFace[], settings: SessionSettings): Promise<FiveHeadResult[]> {
  return runFaceModel(faceAttributesModel, settings, image, faces);
}
