/**
 * Smile intensity 0..100 from two real signals (no model here predicts smiles directly):
 *   - the emotion model's "happy" probability;
 *   - the mouth shape from the 106 points: mouth width relative to the eye distance (smiles widen
 *     the mouth) and the lift of the mouth corners above the lip centre line (normalised by the eye
 *     distance, measured perpendicular to the eye line so head roll does not count).
 * Combined as a logistic score, calibrated on CelebA `Smiling` and the emotion set's happy vs
 * others (docs/attributes.md and scripts/eval-attributes.ts give the figures).
 */
import type { Point } from '../types.js';
import { clamp, distance, logistic, midpoint } from './common.js';

/** 2d106 indices used here. */
const POINT = {
  leftPupil: 38, rightPupil: 88,
  mouthLeftCorner: 52, mouthRightCorner: 61,
  upperLipTop: 71, upperLipBottom: 62, lowerLipTop: 60, lowerLipBottom: 53,
} as const;

export interface MouthShape {
  /** Mouth corner distance / pupil distance (≈0.75-0.8 neutral, larger when smiling). */
  readonly widthRatio: number;
  /**
   * How far the corners sit above the centre of the lip line (upper lip bottom / lower lip top),
   * over the pupil distance; positive = corners up.
   */
  readonly cornerLift: number;
  /** Inner lip gap / pupil distance (open mouth). */
  readonly opening: number;
}

export function mouthShape(points: readonly Point[]): MouthShape {
  const leftEye = points[POINT.leftPupil], rightEye = points[POINT.rightPupil];
  const eyeDistance = Math.max(distance(leftEye, rightEye), 1e-6);
  // Unit vector pointing "down the face" (perpendicular to the eye line).
  const ex = (rightEye.x - leftEye.x) / eyeDistance, ey = (rightEye.y - leftEye.y) / eyeDistance;
  const downX = -ey, downY = ex;
  const along = (p: Point) => p.x * downX + p.y * downY;
  const lipCentre = midpoint(points[POINT.upperLipBottom], points[POINT.lowerLipTop]);
  const corners = midpoint(points[POINT.mouthLeftCorner], points[POINT.mouthRightCorner]);
  return {
    widthRatio: distance(points[POINT.mouthLeftCorner], points[POINT.mouthRightCorner]) / eyeDistance,
    cornerLift: (along(lipCentre) - along(corners)) / eyeDistance,
    opening: Math.max(0, along(points[POINT.lowerLipTop]) - along(points[POINT.upperLipBottom])) / eyeDistance,
  };
}

/**
 * Logistic-regression weights (raw feature units) fitted on 352 faces found by the detector: CelebA
 * `Smiling` (20, weighted ×6 so they count like a data set) and the emotion set's happy vs other
 * labels (332). Mean features, smiling vs not: happy 0.70-0.85 vs 0.06-0.13, widthRatio 0.94-0.97
 * vs 0.79-0.83, cornerLift 0.05-0.10 vs −0.01-0.02. The mouth opening got a near-zero weight and
 * is not used. Accuracy at the threshold: docs/accuracy.md.
 */
export const SMILE_WEIGHTS = { bias: -9.3, happy: 4.5, widthRatio: 7, cornerLift: 12 } as const;
/** Weights when no 106 points are available: happy alone (same fit, one feature). */
export const SMILE_WEIGHTS_HAPPY_ONLY = { bias: -3, happy: 5.5 } as const;
/** Smile asserted above this value (0..100): the logistic's 0.5 point. */
export const SMILE_THRESHOLD = 50;

/**
 * Smile intensity 0..100; monotonic (non-decreasing) in each input. `shape` may be absent when
 * the 106 points were not computed; then the emotion alone decides.
 */
export function smileIntensity(happy: number, shape?: MouthShape): number {
  const h = clamp(happy, 0, 1);
  const score = shape
    ? SMILE_WEIGHTS.bias + SMILE_WEIGHTS.happy * h + SMILE_WEIGHTS.widthRatio * shape.widthRatio + SMILE_WEIGHTS.cornerLift * shape.cornerLift
    : SMILE_WEIGHTS_HAPPY_ONLY.bias + SMILE_WEIGHTS_HAPPY_ONLY.happy * h;
  return 100 * logistic(score);
}
