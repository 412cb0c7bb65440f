/**
 * Face attributes, dialect-neutral, computed only when asked: `computeAttributes` runs only the
 * models the wanted set needs, each once per image on a batch of all faces (FSA-Net's graphs have
 * a fixed batch of 1 and run per face). See docs/attributes.md for each attribute's method.
 */
import type { RgbImage } from '../../image/types.js';
import { warmModel } from '../face-model.js';
import { MODELS, type ModelId } from '../models.js';
import type { SessionSettings } from '../session.js';
import {
  EYES_CLOSED, EYES_OCCLUDED, EYES_OPEN, GLASSES_CLASSES, MOUTH_CLOSED, MOUTH_OCCLUDED, MOUTH_OPEN,
  runFaceAttributes, type FiveHeadResult,
} from './faceAttributes5.js';
import type { AttributeName, Distribution, EyeState, FaceAttributes, GlassesKind, HeadPose, MouthState } from '../types.js';
import { toDistribution, type AttributeFace } from './common.js';
import { runEmotion } from './emotion.js';
import { runHeadPose } from './headPose.js';
import { BLUR_THRESHOLD, QUALITY_THRESHOLD, faceQuality, measureFacePixels } from './blurQuality.js';
import { runGaze } from './gaze.js';
import { runLiveness } from './liveness.js';
import { SMILE_THRESHOLD, mouthShape, smileIntensity } from './smile.js';

export type { AttributeFace } from './common.js';

/** Which models (models.ts ids) each attribute needs (blur needs none: it is computed from pixels). */
const MODELS_BY_ATTRIBUTE: Readonly<Record<AttributeName, readonly ModelId[]>> = {
  emotion: ['emotion'],
  smile: ['emotion'],
  headPose: ['headPoseFsanet1x1', 'headPoseFsanetVar'],
  blur: [],
  quality: ['headPoseFsanet1x1', 'headPoseFsanetVar'],
  eyeStatus: ['faceAttributes'],
  mouthStatus: ['faceAttributes'],
  glasses: ['faceAttributes'],
  mask: ['faceAttributes'],
  eyeGaze: ['iris'],
  liveness: ['liveness'],
};

const ALL_ATTRIBUTE_MODELS: readonly ModelId[] = [...new Set(Object.values(MODELS_BY_ATTRIBUTE).flat())];

export function modelsNeeded(wanted: ReadonlySet<AttributeName>): Set<ModelId> {
  const models = new Set<ModelId>();
  for (const name of wanted) for (const model of MODELS_BY_ATTRIBUTE[name] ?? []) models.add(model);
  return models;
}

/** The model files the wanted attributes read (all attribute models when `wanted` is omitted). */
export function attributeModelFiles(wanted?: ReadonlySet<AttributeName>): string[] {
  return [...(wanted ? modelsNeeded(wanted) : ALL_ATTRIBUTE_MODELS)].map((id) => MODELS[id].file);
}

/**
 * True when the wanted attributes use the 106 points: smile (mouth shape) and eye gaze (eye
 * corners; without them the eye crop is estimated from the 5 points, less precisely). The pipeline
 * computes the 106 points first and passes them in `faces[i].landmarks106`.
 */
export function attributesNeedingLandmarks106(wanted: ReadonlySet<AttributeName>): boolean {
  return wanted.has('smile') || wanted.has('eyeGaze');
}

/**
 * Creates every attribute session (or those of `wanted`) and runs each once on a zero input, so a
 * missing or corrupt model file fails at start (ModelLoadError), not on a request.
 */
export async function warmAttributeModels(settings: SessionSettings, wanted?: ReadonlySet<AttributeName>): Promise<void> {
  for (const id of wanted ? modelsNeeded(wanted) : ALL_ATTRIBUTE_MODELS) await warmModel(MODELS[id], settings);
}

// ---- mapping the 5-head outputs onto the dialect-neutral shapes ----

export function glassesDistribution(result: FiveHeadResult): Distribution<GlassesKind> {
  return toDistribution(GLASSES_CLASSES, result.glasses);
}

/** Mask probability takes its share first; the mouth head splits the rest. */
export function mouthDistribution(result: FiveHeadResult): Distribution<MouthState> {
  const rest = 1 - result.mask;
  const mouth = result.mouth;
  const sum = mouth[MOUTH_OPEN] + mouth[MOUTH_CLOSED] + mouth[MOUTH_OCCLUDED] || 1;
  return {
    mask: result.mask,
    open: (rest * mouth[MOUTH_OPEN]) / sum,
    closed: (rest * mouth[MOUTH_CLOSED]) / sum,
    occluded: (rest * mouth[MOUTH_OCCLUDED]) / sum,
  };
}

/** The model has one eye head for both eyes, so both eyes get the same state. */
export function eyeStateDistribution(result: FiveHeadResult): Distribution<EyeState> {
  const eyes = result.eyes;
  return toDistribution(['open', 'closed', 'occluded'] as const, [eyes[EYES_OPEN], eyes[EYES_CLOSED], eyes[EYES_OCCLUDED]]);
}

export async function computeAttributes(
  image: RgbImage,
  faces: readonly AttributeFace[],
  wanted: ReadonlySet<AttributeName>,
  settings: SessionSettings,
): Promise<FaceAttributes[]> {
  if (faces.length === 0 || wanted.size === 0) return faces.map(() => ({}));
  const models = modelsNeeded(wanted);
  // Sequential on purpose: sessions share the process's intra-op threads.
  const emotions = models.has('emotion') ? await runEmotion(image, faces, settings) : undefined;
  const fiveHead = models.has('faceAttributes') ? await runFaceAttributes(image, faces, settings) : undefined;
  const poses: HeadPose[] | undefined = models.has('headPoseFsanet1x1') ? await runHeadPose(image, faces, settings) : undefined;
  const gaze = models.has('iris') ? await runGaze(image, faces, settings) : undefined;
  const liveness = models.has('liveness') ? await runLiveness(image, faces, settings) : undefined;
  const pixels = wanted.has('blur') || wanted.has('quality') ? measureFacePixels(image, faces) : undefined;

  return faces.map((face, index) => {
    const attributes: { -readonly [K in keyof FaceAttributes]: FaceAttributes[K] } = {};
    if (emotions && wanted.has('emotion')) attributes.emotion = emotions[index];
    if (emotions && wanted.has('smile')) {
      const shape = face.landmarks106 ? mouthShape(face.landmarks106) : undefined;
      attributes.smile = { value: smileIntensity(emotions[index].happy, shape), threshold: SMILE_THRESHOLD };
    }
    if (poses && wanted.has('headPose')) attributes.headPose = poses[index];
    if (pixels && wanted.has('blur')) {
      attributes.blur = { value: pixels[index].blur, threshold: BLUR_THRESHOLD };
      attributes.brightness = (pixels[index].meanGray / 255) * 100;
    }
    if (pixels && poses && wanted.has('quality')) {
      attributes.quality = { value: faceQuality(pixels[index], poses[index], face.box), threshold: QUALITY_THRESHOLD };
    }
    if (fiveHead) {
      const result = fiveHead[index];
      const glasses = glassesDistribution(result);
      if (wanted.has('glasses')) attributes.glasses = glasses;
      if (wanted.has('mask')) attributes.mask = result.mask;
      if (wanted.has('mouthStatus')) attributes.mouthStatus = mouthDistribution(result);
      if (wanted.has('eyeStatus')) {
        const eye = { state: eyeStateDistribution(result), glasses };
        attributes.eyeStatus = { left: eye, right: eye };
      }
    }
    if (gaze && wanted.has('eyeGaze')) attributes.eyeGaze = gaze[index];
    if (liveness && wanted.has('liveness')) attributes.liveness = liveness[index];
    return attributes;
  });
}
