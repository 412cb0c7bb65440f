/**
 * Blur and face quality from the face's own pixels (no model).
 *
 * Blur: the face square (BLUR_REGION_SCALE× the larger box side) is resampled to a fixed
 * BLUR_SIZE×BLUR_SIZE gray crop, so the measure is about detail *relative to the face size* (what
 * recognition cares about). Sharpness = variance of the 4-neighbour Laplacian / variance of the
 * gray levels (contrast-invariant). blur = 1 / (1 + sharpness / BLUR_SHARPNESS_REFERENCE):
 * 0 = sharp, 1 = featureless; calibrated on WIDER FACE's blur flags (docs/attributes.md).
 *
 * Quality 0..100 = 100 × (1 − blur)^QUALITY_BLUR_EXPONENT × pose factor × size factor × exposure
 * factor (each 0..1, formulas below), threshold QUALITY_THRESHOLD.
 */
import type { RgbImage } from '../../image/types.js';
import type { Box, HeadPose } from '../types.js';
import { clamp, squareAroundBox, squareCropTransform, warpGrayReplicate, type AttributeFace } from './common.js';

export const BLUR_SIZE = 64;
/** The crop covers the central part of the box (less background than the full box). */
export const BLUR_REGION_SCALE = 0.8;
/**
 * Sharpness at which blur = 0.5. WIDER FACE val faces (GT boxes, 808 faces ≥ 10 px), median
 * sharpness: clear faces ≥ 48 px 0.22, normal blur 0.07, heavy blur 0.012; faces under 24 px
 * ≈ 0.01 whatever their flag (upsampled: too little detail for recognition, which is the point).
 * 0.025 is the cut that best separates "clear" from "heavy blur" (balanced accuracy 0.84).
 */
export const BLUR_SHARPNESS_REFERENCE = 0.025;
/** Faces with blur above this are "too blurry for recognition". */
export const BLUR_THRESHOLD = 0.5;

/** The normalised-size gray crop (0..255) of the face used by blur and exposure. */
export function faceGrayCrop(image: RgbImage, box: Box): Float32Array {
  const crop = new Float32Array(BLUR_SIZE * BLUR_SIZE);
  warpGrayReplicate(image, squareCropTransform(squareAroundBox(box, BLUR_REGION_SCALE), BLUR_SIZE), BLUR_SIZE, crop, 0);
  return crop;
}

/** Variance of the 4-neighbour Laplacian over the interior, divided by the gray variance. */
export function laplacianSharpness(gray: ArrayLike<number>, width: number, height: number): number {
  let mean = 0;
  for (let i = 0; i < width * height; i++) mean += gray[i];
  mean /= width * height;
  let variance = 0;
  for (let i = 0; i < width * height; i++) variance += (gray[i] - mean) ** 2;
  variance /= width * height;
  if (variance < 1e-6) return 0; // flat: no detail at all
  let sum = 0, sumSquares = 0, count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const laplacian = gray[i - 1] + gray[i + 1] + gray[i - width] + gray[i + width] - 4 * gray[i];
      sum += laplacian; sumSquares += laplacian * laplacian; count++;
    }
  }
  const laplacianVariance = sumSquares / count - (sum / count) ** 2;
  return laplacianVariance / variance;
}

/** Maps sharpness to blur 0..1 (monotonic decreasing). */
export function blurFromSharpness(sharpness: number): number {
  return 1 / (1 + Math.max(0, sharpness) / BLUR_SHARPNESS_REFERENCE);
}

export interface FacePixelStats {
  readonly blur: number;
  /** Mean gray level 0..255 of the crop. */
  readonly meanGray: number;
  /** Fraction of crop pixels at ≤ CLIP_DARK or ≥ CLIP_BRIGHT. */
  readonly clippedFraction: number;
}

const CLIP_DARK = 8;
const CLIP_BRIGHT = 247;

export function facePixelStats(gray: ArrayLike<number>, size = BLUR_SIZE): FacePixelStats {
  let mean = 0, clipped = 0;
  const count = size * size;
  for (let i = 0; i < count; i++) {
    mean += gray[i];
    if (gray[i] <= CLIP_DARK || gray[i] >= CLIP_BRIGHT) clipped++;
  }
  return { blur: blurFromSharpness(laplacianSharpness(gray, size, size)), meanGray: mean / count, clippedFraction: clipped / count };
}

export function measureFacePixels(image: RgbImage, faces: readonly AttributeFace[]): FacePixelStats[] {
  return faces.map((face) => facePixelStats(faceGrayCrop(image, face.box)));
}

// ---- quality ----

export const QUALITY_THRESHOLD = 50;
export const QUALITY_BLUR_EXPONENT = 1;
/** Yaw/pitch (degrees) at which the pose factor reaches 0; roll is ignored (alignment undoes it). */
export const QUALITY_MAX_YAW = 75;
export const QUALITY_MAX_PITCH = 60;
/** Face short side (px) at and below which the size factor is 0, and from which it is 1. */
export const QUALITY_MIN_FACE = 16;
export const QUALITY_GOOD_FACE = 96;
/** Mean gray levels within this band count as well exposed. */
export const QUALITY_EXPOSURE_BAND = { low: 60, high: 190 } as const;
/** How far outside the band (gray levels) the exposure factor falls to 0. */
export const QUALITY_EXPOSURE_FALLOFF = 60;

export function poseFactor(pose: HeadPose): number {
  const yaw = clamp(Math.abs(pose.yaw) / QUALITY_MAX_YAW, 0, 1);
  const pitch = clamp(Math.abs(pose.pitch) / QUALITY_MAX_PITCH, 0, 1);
  return (1 - yaw * yaw) * (1 - pitch * pitch);
}

/** Logarithmic in the face size: 16 px → 0, 96 px and more → 1. */
export function sizeFactor(box: Box): number {
  const side = Math.min(box.width, box.height);
  return clamp(Math.log(side / QUALITY_MIN_FACE) / Math.log(QUALITY_GOOD_FACE / QUALITY_MIN_FACE), 0, 1);
}

export function exposureFactor(stats: Pick<FacePixelStats, 'meanGray' | 'clippedFraction'>): number {
  const outside = Math.max(0, QUALITY_EXPOSURE_BAND.low - stats.meanGray, stats.meanGray - QUALITY_EXPOSURE_BAND.high);
  return clamp(1 - outside / QUALITY_EXPOSURE_FALLOFF, 0, 1) * clamp(1 - stats.clippedFraction, 0, 1);
}

export function faceQuality(stats: FacePixelStats, pose: HeadPose, box: Box): number {
  return 100 * Math.pow(1 - stats.blur, QUALITY_BLUR_EXPONENT) * poseFactor(pose) * sizeFactor(box) * exposureFactor(stats);
}
