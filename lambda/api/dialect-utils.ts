/**
 * Small formatting helpers shared by the cloud dialects: face ordering, rounding, scaling of
 * probabilities to the percentages several APIs use, and random ids. Pure functions only.
 */
import { randomBytes, randomInt } from 'node:crypto';

import type { HttpRequest } from './http.js';
import { boxArea } from '../vision/geometry.js';
import type { FaceAnalysis } from '../vision/types.js';

export { boxArea };

/** Faces ordered by box area, largest first (ties keep the pipeline's score order). */
export function largestFirst(faces: readonly FaceAnalysis[]): FaceAnalysis[] {
  return faces
    .map((face, index) => ({ face, index }))
    .sort((a, b) => boxArea(b.face.box) - boxArea(a.face.box) || a.index - b.index)
    .map(({ face }) => face);
}

/** Rounds to `decimals` places (half away from zero) and turns -0 into 0. */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const rounded = (Math.sign(value) * Math.round(Math.abs(value) * factor)) / factor;
  return rounded === 0 ? 0 : rounded;
}

export function roundInt(value: number): number {
  return roundTo(value, 0);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Scales probabilities (any non-negative weights) to percentages with `decimals` places that sum
 * to exactly 100: largest-remainder rounding, so "the sum of all values is 100" holds after rounding.
 */
export function toPercentages(weights: readonly number[], decimals = 3): number[] {
  const units = 100 * 10 ** decimals;
  const total = weights.reduce((sum, weight) => sum + Math.max(0, weight), 0);
  if (total <= 0 || !Number.isFinite(total)) return weights.map(() => 0);
  const exact = weights.map((weight) => (Math.max(0, weight) / total) * units);
  const floors = exact.map(Math.floor);
  let missing = units - floors.reduce((sum, value) => sum + value, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (missing <= 0) break;
    floors[index] += 1;
    missing -= 1;
  }
  return floors.map((value) => roundTo(value / 10 ** decimals, decimals));
}

/** The key with the highest probability, and that probability. */
export function argmax<K extends string>(distribution: Readonly<Record<K, number>>): { key: K; probability: number } {
  let best: { key: K; probability: number } | undefined;
  for (const key of Object.keys(distribution) as K[]) {
    const probability = distribution[key];
    if (best === undefined || probability > best.probability) best = { key, probability };
  }
  if (best === undefined) throw new Error('argmax of an empty distribution');
  return best;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A decimal string of `length` digits without a leading zero (Youtu-style numeric ids). */
export function randomDigits(length: number): string {
  let digits = String(randomInt(1, 10));
  while (digits.length < length) digits += String(randomInt(0, 10));
  return digits;
}

/** Milliseconds since the request arrived, never negative. */
export function elapsedMs(receivedAt: number, now = Date.now()): number {
  return Math.max(0, Math.round(now - receivedAt));
}

/**
 * The image field a dialect chose while parsing, kept per request object so formatError (which
 * only sees the request) can name it, e.g. Face++ `IMAGE_ERROR_UNSUPPORTED_FORMAT:image_file`.
 */
export class RequestNotes<T> {
  private readonly notes = new WeakMap<HttpRequest, T>();

  set(request: HttpRequest, value: T): void {
    this.notes.set(request, value);
  }

  get(request: HttpRequest): T | undefined {
    return this.notes.get(request);
  }
}
