/**
 * Emotion: mini-Xception trained on FER2013 (human_emotion_fer7.onnx, MIT).
 * Input [N,1,64,64] gray = (0.2989R + 0.587G + 0.114B)/255, then (g − 0.5)·2; output [N,7] softmax
 * in the order angry, disgust, fear, happy, sad, surprise, neutral (= EMOTIONS).
 *
 * Crop: the model was trained on whole FER2013 frames resized to 64 (oarriaga/face_classification).
 * On those frames the SCRFD box side is 0.99× the frame and its centre 0.01× the box height from the
 * frame centre, so a square of 1.0× the larger box side around the box centre reproduces the
 * training framing. Chosen from that geometry, not by sweeping accuracy on the eval labels (a sweep
 * picked 0.85× shifted up 0.05, which scores the same within noise and would overfit 210 images).
 * The square is placed from the 5 points (squareFromLandmarks: the box those points predict), so
 * it keeps that framing on average without following a detector's box convention.
 * The image border is replicated (not black).
 */
import type { RgbImage } from '../../image/types.js';
import { firstOutput, runFaceModel, type FaceModel } from '../face-model.js';
import { MODELS } from '../models.js';
import type { SessionSettings } from '../session.js';
import { EMOTIONS, type Distribution, type Emotion } from '../types.js';
import { squareCropTransform, squareFromLandmarks, toDistribution, warpGrayReplicate, type AttributeFace } from './common.js';

export const EMOTION_INPUT_SIZE = MODELS.emotion.input.size;
/** Crop side relative to the (predicted) larger box side: the training framing (see above). */
export const EMOTION_CROP_SCALE = 1.0;

export function emotionCropTransform(face: AttributeFace, scale = EMOTION_CROP_SCALE) {
  return squareCropTransform(squareFromLandmarks(face.landmarks5, scale), EMOTION_INPUT_SIZE);
}

/** Normalises a 0..255 gray value the way the model was trained: [-1, 1]. */
export function normaliseEmotionGray(gray: number): number {
  return (gray / 255 - 0.5) * 2;
}

/** Builds the [N,1,64,64] batch. */
export function preprocessEmotion(image: RgbImage, faces: readonly AttributeFace[], scale = EMOTION_CROP_SCALE): Float32Array {
  const plane = EMOTION_INPUT_SIZE * EMOTION_INPUT_SIZE;
  const batch = new Float32Array(faces.length * plane);
  faces.forEach((face, index) => {
    warpGrayReplicate(image, emotionCropTransform(face, scale), EMOTION_INPUT_SIZE, batch, index * plane);
  });
  for (let i = 0; i < batch.length; i++) batch[i] = normaliseEmotionGray(batch[i]);
  return batch;
}

/** Splits the [N,7] softmax output into one distribution per face. */
export function postprocessEmotion(output: Float32Array, count: number): Distribution<Emotion>[] {
  const classes = EMOTIONS.length;
  if (output.length !== count * classes) throw new Error(`emotion output has ${output.length} values, expected ${count * classes}`);
  return Array.from({ length: count }, (_, index) => toDistribution(EMOTIONS, output.subarray(index * classes, (index + 1) * classes)));
}

export const emotionModel: FaceModel<AttributeFace, Distribution<Emotion>> = {
  ...MODELS.emotion,
  preprocess: (image, faces) => preprocessEmotion(image, faces),
  postprocess: (outputs, faces) => postprocessEmotion(firstOutput(outputs, 'emotion'), faces.length),
};

export function runEmotion(image: RgbImage, faces: readonly AttributeFace[], settings: SessionSettings): Promise<Distribution<Emotion>[]> {
  return runFaceModel(emotionModel, settings, image, faces);
}
