/**
 * Face++ landmark names for `return_landmark=2` (106 points) and `return_landmark=1` (83 points),
 * derived from the pipeline's 106 points in InsightFace 2d106 order. "left"/"right" are the image's
 * left and right, in Face++ as in 2d106.
 */
import type { Point } from '../vision/types.js';

const range = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

const EYE_PARTS = [
  'bottom',
  'center',
  'left_corner',
  'lower_left_quarter',
  'lower_right_quarter',
  'pupil',
  'right_corner',
  'top',
  'upper_left_quarter',
  'upper_right_quarter',
];

/**
 * The 2d106 order is the Face++ 106 names sorted alphabetically (see ../shared/models/MODELS.md),
 * so index i of the model output is FACEPP_106_NAMES[i].
 */
export const FACEPP_106_NAMES: readonly string[] = [
  'contour_chin',
  'contour_left1',
  ...range('contour_left', 10, 16),
  ...range('contour_left', 2, 9),
  'contour_right1',
  ...range('contour_right', 10, 16),
  ...range('contour_right', 2, 9),
  ...EYE_PARTS.map((part) => `left_eye_${part}`),
  ...[
    'left_corner',
    'lower_left_quarter',
    'lower_middle',
    'lower_right_corner',
    'lower_right_quarter',
    'upper_left_quarter',
    'upper_middle',
    'upper_right_corner',
    'upper_right_quarter',
  ].map((part) => `left_eyebrow_${part}`),
  'mouth_left_corner',
  'mouth_lower_lip_bottom',
  ...range('mouth_lower_lip_left_contour', 1, 3),
  ...range('mouth_lower_lip_right_contour', 1, 3),
  'mouth_lower_lip_top',
  'mouth_right_corner',
  'mouth_upper_lip_bottom',
  ...range('mouth_upper_lip_left_contour', 1, 4),
  ...range('mouth_upper_lip_right_contour', 1, 4),
  'mouth_upper_lip_top',
  ...range('nose_bridge', 1, 3),
  ...range('nose_left_contour', 1, 5),
  'nose_middle_contour',
  ...range('nose_right_contour', 1, 5),
  'nose_tip',
  ...EYE_PARTS.map((part) => `right_eye_${part}`),
  ...[
    'lower_left_corner',
    'lower_left_quarter',
    'lower_middle',
    'lower_right_quarter',
    'right_corner',
    'upper_left_corner',
    'upper_left_quarter',
    'upper_middle',
    'upper_right_quarter',
  ].map((part) => `right_eyebrow_${part}`),
];

const INDEX_106 = new Map(FACEPP_106_NAMES.map((name, index) => [name, index]));

/** A Face++ 83 point as the mean of one or more 106 points (by 106 name). */
type Source83 = readonly string[];

/**
 * Contour: the 83 set has 9 points per side (ear level down to the chin) where the 106 set has 16
 * along the same jaw line; contour_leftK takes the 106 point at the same fraction of the way to the
 * chin, 1 + round(16·(K−1)/9): 1, 3, 5, 6, 8, 10, 12, 13, 15.
 */
const CONTOUR_83_TO_106 = [1, 3, 5, 6, 8, 10, 12, 13, 15];

function contour83(): Array<[string, Source83]> {
  const pairs: Array<[string, Source83]> = [['contour_chin', ['contour_chin']]];
  for (const side of ['left', 'right']) {
    CONTOUR_83_TO_106.forEach((index106, k) => pairs.push([`contour_${side}${k + 1}`, [`contour_${side}${index106}`]]));
  }
  return pairs;
}

const same = (...names: string[]): Array<[string, Source83]> => names.map((name) => [name, [name]]);

/**
 * The Face++ 83-point set (Face++ "Landmarks Illustration (83 Points)"), each with the 106 points it
 * is taken from. Names the two sets share map to themselves; the rest are explained inline.
 */
const FACEPP_83_SOURCES: ReadonlyArray<[string, Source83]> = [
  ...contour83(),
  ...same(...EYE_PARTS.map((part) => `left_eye_${part}`), ...EYE_PARTS.map((part) => `right_eye_${part}`)),
  ...same(
    'left_eyebrow_left_corner',
    'left_eyebrow_lower_left_quarter',
    'left_eyebrow_lower_middle',
    'left_eyebrow_lower_right_quarter',
    'left_eyebrow_upper_left_quarter',
    'left_eyebrow_upper_middle',
    'left_eyebrow_upper_right_quarter',
  ),
  // The 83 set ends the brow at one inner point; 106 splits that end into an upper and a lower corner.
  ['left_eyebrow_right_corner', ['left_eyebrow_upper_right_corner', 'left_eyebrow_lower_right_corner']],
  ['right_eyebrow_left_corner', ['right_eyebrow_upper_left_corner', 'right_eyebrow_lower_left_corner']],
  ...same(
    'right_eyebrow_lower_left_quarter',
    'right_eyebrow_lower_middle',
    'right_eyebrow_lower_right_quarter',
    'right_eyebrow_right_corner',
    'right_eyebrow_upper_left_quarter',
    'right_eyebrow_upper_middle',
    'right_eyebrow_upper_right_quarter',
  ),
  ...same(
    'mouth_left_corner',
    'mouth_right_corner',
    'mouth_upper_lip_top',
    'mouth_upper_lip_bottom',
    'mouth_lower_lip_top',
    'mouth_lower_lip_bottom',
    // Lower lip: both sets use contour1 on the inner edge and contour2-3 on the outer edge.
    ...range('mouth_lower_lip_left_contour', 1, 3),
    ...range('mouth_lower_lip_right_contour', 1, 3),
    // Upper lip outer edge: contour1 (cupid's bow peak) and contour2 (halfway to the corner) in both.
    ...range('mouth_upper_lip_left_contour', 1, 2),
    ...range('mouth_upper_lip_right_contour', 1, 2),
  ),
  // Upper lip inner edge: the 83 set's contour3 is on the inner edge, which is contour4 in 106
  // (106 inserts an extra outer point, contour3, next to the corner).
  ['mouth_upper_lip_left_contour3', ['mouth_upper_lip_left_contour4']],
  ['mouth_upper_lip_right_contour3', ['mouth_upper_lip_right_contour4']],
  ...same('nose_tip'),
  // Nose side, top to bottom: 83 has contour1, contour2, the widest wing point (nose_left), then one
  // point under the nostril (contour3); 106 has five points on the same path, the widest being 3.
  ['nose_contour_left1', ['nose_left_contour1']],
  ['nose_contour_left2', ['nose_left_contour2']],
  ['nose_left', ['nose_left_contour3']],
  ['nose_contour_left3', ['nose_left_contour4', 'nose_left_contour5']],
  ['nose_contour_right1', ['nose_right_contour1']],
  ['nose_contour_right2', ['nose_right_contour2']],
  ['nose_right', ['nose_right_contour3']],
  ['nose_contour_right3', ['nose_right_contour4', 'nose_right_contour5']],
  // The point under the nose between the nostrils.
  ['nose_contour_lower_middle', ['nose_middle_contour']],
];

/** 2d106 indices of Face++ 106 names (throws on an unknown name: a typo in a mapping table). */
export function indices106(names: readonly string[]): number[] {
  return names.map((name) => {
    const index = INDEX_106.get(name);
    if (index === undefined) throw new Error(`unknown 106 landmark name ${name}`);
    return index;
  });
}

/** The mean of the given 106 points (float pixels). */
export function meanPoint(points106: readonly Point[], indices: readonly number[]): Point {
  const x = indices.reduce((sum, index) => sum + points106[index]!.x, 0) / indices.length;
  const y = indices.reduce((sum, index) => sum + points106[index]!.y, 0) / indices.length;
  return { x, y };
}

/** The 83 names with the 106 indices they average, resolved once. */
const FACEPP_83_INDICES: ReadonlyArray<readonly [string, readonly number[]]> = FACEPP_83_SOURCES.map(([name, sources]) => [
  name,
  indices106(sources),
]);

export const FACEPP_83_NAMES: readonly string[] = FACEPP_83_INDICES.map(([name]) => name);

export type LandmarkLevel = 83 | 106;

/** Named integer points, as Face++ returns them. */
export function faceppLandmarks(points106: readonly Point[], level: LandmarkLevel): Record<string, { x: number; y: number }> {
  const named: Record<string, { x: number; y: number }> = {};
  if (level === 106) {
    FACEPP_106_NAMES.forEach((name, index) => {
      named[name] = integerPoint(points106[index]!);
    });
    return named;
  }
  for (const [name, indices] of FACEPP_83_INDICES) named[name] = integerPoint(meanPoint(points106, indices));
  return named;
}

function integerPoint(point: Point): { x: number; y: number } {
  return { x: Math.round(point.x), y: Math.round(point.y) };
}
