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

/**
 * The template made exactly left/right symmetric (each eye and mouth-corner pair averaged with its
 * mirror about the template's mean x; the nose on that axis): crops placed with it are mirrored
 * exactly when the face is, which the original template (eyes 0.2 px apart in height) does not give.
 */
export const SYMMETRIC_TEMPLATE: readonly Point[] = (() => {
  const axis = ARCFACE_TEMPLATE.reduce((sum, point) => sum + point.x, 0) / ARCFACE_TEMPLATE.length;
  const pair = (left: Point, right: Point): [Point, Point] => {
    const halfWidth = (right.x - left.x) / 2, y = (left.y + right.y) / 2;
    return [{ x: axis - halfWidth, y }, { x: axis + halfWidth, y }];
  };
  const [eyeLeft, eyeRight] = pair(ARCFACE_TEMPLATE[0]!, ARCFACE_TEMPLATE[1]!);
  const [mouthLeft, mouthRight] = pair(ARCFACE_TEMPLATE[3]!, ARCFACE_TEMPLATE[4]!);
  return [eyeLeft, eyeRight, { x: axis, y: ARCFACE_TEMPLATE[2]!.y }, mouthLeft, mouthRight];
})();

/**
 * The detector's box (SCRFD-2.5g, serving plan) in the SYMMETRIC_TEMPLATE frame: its centre and
 * larger side in template pixels. centreY and side are medians over 399 training faces
 * (`npx tsx scripts/fit-box-framing.ts`); centreX is the template's symmetry axis (the measured
 * median is within 0.4 px of it), so a mirrored face gets the mirrored crop. Crops tuned on the box
 * framing are placed from the 5 points with it: they keep that framing on average but no longer
 * move with a detector's or a plan's box convention.
 */
export const DETECTOR_BOX_IN_TEMPLATE = { centreX: SYMMETRIC_TEMPLATE[2]!.x, centreY: 62.5, side: 108.4 } as const;
