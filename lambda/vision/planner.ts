/**
 * The detection planner: which detector passes a request needs. A pass at scale s finds faces whose
 * size in the image lies in [range.minFacePx / s, range.maxFacePx / s] (the detector's reliable
 * range in input pixels, measured by `npm run eval:detector-range`). The planner picks the fewest,
 * smallest passes that cover the faces the request can want: from its smallest face (minFaceSize,
 * or a fraction of the short side) to the largest face the image can hold. Pure: no pixels, no models.
 *
 * Every pass input is a canvas from a short fixed list of sides (SCRFD_INPUT_SIDES), the image
 * letterboxed into its top-left corner: onnxruntime then only ever sees a bounded set of shapes,
 * and memory stays flat whatever sizes the images have (a new input shape costs it new buffers).
 */
import type { InputSize } from './scrfd.js';

/** Face sizes (longer box side, in detector input pixels) the detector finds reliably. */
export interface ReliableRange {
  readonly minFacePx: number;
  readonly maxFacePx: number;
}

/**
 * Allowed canvas sides (multiples of SCRFD's stride 32): 160, then steps of 64 from 320, so a canvas
 * wastes less than one 64-px band on zero padding (a 1024×768 photo at 1.25×: 1280×960, not
 * 1280×1024; 7 % fewer detector pixels on the dev photos than steps of 128). 21 sides give at most
 * 441 shapes; with onnxruntime's arena off a shape leaves no buffers behind (`npm run soak`).
 */
export const SCRFD_INPUT_SIDES = [160, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024, 1088, 1152, 1216, 1280, 1344, 1408, 1472, 1536] as const;

/** The smallest allowed side that holds `pixels`, or the largest side. */
export function bucketSide(pixels: number, sides: readonly number[] = SCRFD_INPUT_SIDES): number {
  return sides.find((side) => side >= pixels) ?? sides[sides.length - 1]!;
}

export interface PlannedPass {
  /** Image region px → input px. */
  readonly scale: number;
  /** The bucketed canvas; the scaled region fills its top-left corner. */
  readonly input: InputSize;
  /** Face sizes (image px) this pass covers. */
  readonly covers: { readonly smallest: number; readonly largest: number };
}

export interface DetectionPlan {
  /** In the order they run. */
  readonly passes: readonly PlannedPass[];
  /**
   * Largest-face requests: the passes run coarse first and the plan stops after the first pass that
   * finds a face (a coarser pass sees every face larger than those the next pass adds).
   */
  readonly stopAtFirstHit: boolean;
  /** The face sizes (image px) the plan covers. */
  readonly smallestFace: number;
  readonly largestFace: number;
}

export interface PlanRequest {
  /** Smallest face side wanted, image px. */
  readonly minFaceSize: number;
  /** And at least this fraction of the region's short side (Face++: 1/48). */
  readonly minFaceShortSideFraction?: number;
  /** Only the largest face is wanted. */
  readonly largestOnly: boolean;
}

export interface PlannerLimits {
  readonly range: ReliableRange;
  /** Largest enlargement of the image (small faces need pixels, but only so many). */
  readonly maxUpscale: number;
  /** Largest canvas side. */
  readonly maxInputSide: number;
}

/** The canvas sides a plan may use: the fixed list up to maxInputSide (at least the smallest side). */
function allowedSides(maxInputSide: number): readonly number[] {
  const sides = SCRFD_INPUT_SIDES.filter((side) => side <= maxInputSide);
  return sides.length > 0 ? sides : [SCRFD_INPUT_SIDES[0]];
}

/** The scaled region in the smallest canvas of `sides` that holds it. */
function passAt(width: number, height: number, scale: number, range: ReliableRange, sides: readonly number[]): PlannedPass {
  return {
    scale,
    input: { width: bucketSide(Math.ceil(width * scale), sides), height: bucketSide(Math.ceil(height * scale), sides) },
    covers: { smallest: range.minFacePx / scale, largest: range.maxFacePx / scale },
  };
}

/**
 * The passes for a `width` × `height` region. The fine pass is scaled so the smallest wanted face
 * reaches range.minFacePx (capped by maxUpscale and maxInputSide); when the largest face the region
 * can hold (its long side) is beyond that pass's reach, a coarse pass shrinks the region so that
 * face lands at range.maxFacePx. The range spans ~30×, so two passes cover any request.
 */
export function planDetection(width: number, height: number, request: PlanRequest, limits: PlannerLimits): DetectionPlan {
  const { range } = limits;
  const longSide = Math.max(width, height);
  const shortSide = Math.min(width, height);
  const smallestFace = Math.max(request.minFaceSize, (request.minFaceShortSideFraction ?? 0) * shortSide, 1);
  const largestFace = Math.max(longSide, smallestFace);
  const sides = allowedSides(limits.maxInputSide);
  // The scaled region must fit the largest canvas: sides are rounded up, never cropped.
  const maxScale = Math.min(limits.maxUpscale, sides[sides.length - 1]! / longSide);
  const fineScale = Math.min(range.minFacePx / smallestFace, maxScale);
  const passes = [passAt(width, height, fineScale, range, sides)];
  if (range.maxFacePx / fineScale < largestFace) {
    const coarseScale = Math.min(range.maxFacePx / largestFace, fineScale);
    passes.push(passAt(width, height, coarseScale, range, sides));
  }
  return {
    passes: request.largestOnly ? [...passes].reverse() : passes,
    stopAtFirstHit: request.largestOnly && passes.length > 1,
    smallestFace,
    largestFace,
  };
}
