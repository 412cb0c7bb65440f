/**
 * Shared pieces of the attribute modules: the face shape they receive, square crop transforms,
 * a border-replicating gray warp, softmax and distribution helpers.
 */
import type { RgbImage } from '../../image/types.js';
import { DETECTOR_BOX_IN_TEMPLATE, SYMMETRIC_TEMPLATE } from '../alignment.js';
import { applyAffine, estimateSimilarity, invertAffine, type Affine } from '../geometry.js';
import type { Box, Distribution, Point } from '../types.js';

/** What the pipeline knows about a face when attributes are computed. */
export interface AttributeFace {
  readonly box: Box;
  /** Eyes (image left, image right), nose tip, mouth corners (image left, image right). */
  readonly landmarks5: readonly Point[];
  /** InsightFace 2d106 order; required when `attributesNeedingLandmarks106(wanted)` is true. */
  readonly landmarks106?: readonly Point[];
}

/** A square region of the source image: centre and side in pixels. */
export interface SquareRegion {
  readonly centerX: number;
  readonly centerY: number;
  readonly side: number;
}

/**
 * Square around the box centre, `scale`× the larger box side, moved down by `shiftDown`× the box
 * height (face boxes run forehead to chin; a small shift centres the crop on the features).
 */
export function squareAroundBox(box: Box, scale: number, shiftDown = 0): SquareRegion {
  return {
    centerX: box.x + box.width / 2,
    centerY: box.y + box.height / 2 + shiftDown * box.height,
    side: scale * Math.max(box.width, box.height),
  };
}

/**
 * Square of `scale`× the detector box the 5 points predict: the box framing (DETECTOR_BOX_IN_TEMPLATE)
 * carried back from the template frame by the face's similarity, so the crop follows the landmarks,
 * not whichever detector or plan drew the box. Kept upright (only centre and side come from the
 * similarity) like the box crops it replaces: FER2013 frames and FSA-Net's training crops are not
 * rotated level, and FSA-Net must see the roll it was trained with.
 */
export function squareFromLandmarks(landmarks5: readonly Point[], scale: number): SquareRegion {
  const toTemplate = estimateSimilarity(landmarks5, SYMMETRIC_TEMPLATE);
  const centre = applyAffine(invertAffine(toTemplate), { x: DETECTOR_BOX_IN_TEMPLATE.centreX, y: DETECTOR_BOX_IN_TEMPLATE.centreY });
  return { centerX: centre.x, centerY: centre.y, side: (scale * DETECTOR_BOX_IN_TEMPLATE.side) / Math.hypot(toTemplate[0], toTemplate[3]) };
}

/**
 * Source → destination transform that maps `region` onto a size×size crop, like cropping the
 * square and resizing it with OpenCV's pixel-centre convention. `mirror` flips left/right.
 */
export function squareCropTransform(region: SquareRegion, size: number, mirror = false): Affine {
  const scale = size / Math.max(region.side, 1e-6);
  const half = size / 2;
  const sx = mirror ? -scale : scale;
  // Box coordinates are pixel-edge coordinates (0 = the image's left border) while the warp samples
  // pixel centres at integers: edge u = x + 0.5 maps to edge v = half ± scale·(u − centerX).
  return [sx, 0, half - 0.5 - sx * (region.centerX - 0.5), 0, scale, half - 0.5 - scale * (region.centerY - 0.5)];
}

/** ITU-R BT.601 luma weights (MATLAB rgb2gray), used by the emotion model's training code. */
export const LUMA_WEIGHTS = [0.2989, 0.587, 0.114] as const;

/**
 * Bilinear gray warp with the border replicated (cv2.BORDER_REPLICATE) instead of black: tight
 * crops near the image edge (and face-crop photos) then keep their grey levels, which the
 * emotion model was trained on (FER2013 crops have no black borders).
 * Writes size×size gray 0..255 values at `output[offset ..]`.
 */
export function warpGrayReplicate(
  image: RgbImage,
  toDestination: Affine,
  size: number,
  output: Float32Array,
  offset: number,
): void {
  const [a, b, tx, c, d, ty] = invertAffine(toDestination);
  const { data, width, height } = image;
  const luma = (x: number, y: number): number => {
    const index = (y * width + x) * 3;
    return LUMA_WEIGHTS[0] * data[index] + LUMA_WEIGHTS[1] * data[index + 1] + LUMA_WEIGHTS[2] * data[index + 2];
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sourceX = clamp(a * x + b * y + tx, 0, width - 1);
      const sourceY = clamp(c * x + d * y + ty, 0, height - 1);
      const x0 = Math.floor(sourceX), y0 = Math.floor(sourceY);
      const x1 = Math.min(x0 + 1, width - 1), y1 = Math.min(y0 + 1, height - 1);
      const fx = sourceX - x0, fy = sourceY - y0;
      output[offset + y * size + x] =
        (1 - fy) * ((1 - fx) * luma(x0, y0) + fx * luma(x1, y0)) + fy * ((1 - fx) * luma(x0, y1) + fx * luma(x1, y1));
    }
  }
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

/** Names each value of `values` by `labels` and rescales the values to sum to 1. */
export function toDistribution<K extends string>(labels: readonly K[], values: ArrayLike<number>): Distribution<K> {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += Math.max(0, values[i]);
  const result = {} as Record<K, number>;
  labels.forEach((label, i) => {
    result[label] = sum > 0 ? Math.max(0, values[i]) / sum : 1 / labels.length;
  });
  return result;
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

export function midpoint(a: Point, b: Point): Point {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

/** Logistic function: maps a real score to 0..1. */
export function logistic(value: number): number {
  return 1 / (1 + Math.exp(-value));
}
