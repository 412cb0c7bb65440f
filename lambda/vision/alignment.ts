/**
 * 5-point face alignment to the ArcFace 112×112 template (InsightFace `face_align.norm_crop`),
 * shared by every model that takes an aligned crop (gender/age, the 5-head attribute model).
 */
import { estimateSimilarity, type Affine } from './geometry.js';
import type { Point } from './types.js';

export const ALIGNED_SIZE = 112;

/** ArcFace reference points for a 112×112 crop: eyes, nose tip, mouth corners. */
export const ARCFACE_TEMPLATE: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/** Image → aligned-crop transform for a face's 5 landmarks (same order as the template). */
export function arcfaceAlignment(landmarks5: readonly Point[]): Affine {
  return estimateSimilarity(landmarks5, ARCFACE_TEMPLATE);
}
