/**
 * Pure geometry for the pipeline: 2×3 affine matrices, the 5-point similarity alignment (Umeyama,
 * as scikit-image's SimilarityTransform used by InsightFace's norm_crop), and an OpenCV-compatible
 * bilinear warp that writes model input tensors directly.
 */
import type { RgbImage } from '../image/types.js';
import type { Box, Point } from './types.js';

/** Row-major [a, b, tx, c, d, ty]: x' = a·x + b·y + tx, y' = c·x + d·y + ty. */
export type Affine = readonly [number, number, number, number, number, number];

export function applyAffine(matrix: Affine, point: Point): Point {
  const [a, b, tx, c, d, ty] = matrix;
  return { x: a * point.x + b * point.y + tx, y: c * point.x + d * point.y + ty };
}

export function invertAffine(matrix: Affine): Affine {
  const [a, b, tx, c, d, ty] = matrix;
  const determinant = a * d - b * c;
  if (Math.abs(determinant) < 1e-12) throw new Error('affine matrix is not invertible');
  const ia = d / determinant;
  const ib = -b / determinant;
  const ic = -c / determinant;
  const id = a / determinant;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** Area of a box, in square pixels: "largest face" means largest box area everywhere. */
export function boxArea(box: Box): number {
  return box.width * box.height;
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation) mapping `source`
 * points onto `target` points: Umeyama (1991) without reflection, the estimator InsightFace uses
 * for face alignment.
 */
export function estimateSimilarity(source: readonly Point[], target: readonly Point[]): Affine {
  const count = source.length;
  if (count !== target.length || count < 2) throw new Error('need two equally long point lists of length ≥ 2');
  let sourceMeanX = 0, sourceMeanY = 0, targetMeanX = 0, targetMeanY = 0;
  for (let i = 0; i < count; i++) {
    sourceMeanX += source[i].x; sourceMeanY += source[i].y;
    targetMeanX += target[i].x; targetMeanY += target[i].y;
  }
  sourceMeanX /= count; sourceMeanY /= count; targetMeanX /= count; targetMeanY /= count;

  // For 2-D similarity the Umeyama solution reduces to: rotation+scale as a complex number
  // (a + ib) = Σ conj(s)·t / Σ |s|², with s, t the centred points.
  let dot = 0, cross = 0, sourceVariance = 0;
  for (let i = 0; i < count; i++) {
    const sx = source[i].x - sourceMeanX, sy = source[i].y - sourceMeanY;
    const tx = target[i].x - targetMeanX, ty = target[i].y - targetMeanY;
    dot += sx * tx + sy * ty;
    cross += sx * ty - sy * tx;
    sourceVariance += sx * sx + sy * sy;
  }
  if (sourceVariance < 1e-12) throw new Error('source points are degenerate');
  const a = dot / sourceVariance;
  const b = cross / sourceVariance;
  return [a, -b, targetMeanX - (a * sourceMeanX - b * sourceMeanY), b, a, targetMeanY - (b * sourceMeanX + a * sourceMeanY)];
}

/** How one 8-bit channel value becomes a model input value. */
export interface ChannelNormalisation {
  /** Subtracted first. */
  readonly mean: number;
  /** Then divided by. */
  readonly std: number;
  /** Channel order of the tensor. */
  readonly order: 'rgb' | 'bgr';
}

/**
 * Bilinear affine warp of an RGB image into a planar (CHW) float tensor slot, like
 * `cv2.warpAffine(img, M, (width, height), borderValue=0)`: each destination pixel (x, y) samples
 * the source at M⁻¹·(x, y), pixels outside the source read as 0 (before normalisation).
 *
 * @param toDestination maps source pixel coordinates to destination coordinates
 * @param output tensor buffer; the 3×height×width slot starting at `offset` is overwritten
 */
export function warpAffineToTensor(
  image: RgbImage,
  toDestination: Affine,
  width: number,
  height: number,
  normalisation: ChannelNormalisation,
  output: Float32Array,
  offset = 0,
): void {
  const [a, b, tx, c, d, ty] = invertAffine(toDestination);
  if (b === 0 && c === 0) {
    warpAxisAligned(image, [a, tx], [d, ty], width, height, normalisation, output, offset);
    return;
  }
  const { data, width: sourceWidth, height: sourceHeight } = image;
  const plane = width * height;
  const [first, , third] = normalisation.order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const { mean, std } = normalisation;
  const zero = (0 - mean) / std;
  const sample = (xi: number, yi: number, channel: number): number =>
    xi < 0 || yi < 0 || xi >= sourceWidth || yi >= sourceHeight ? 0 : data[(yi * sourceWidth + xi) * 3 + channel];

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sourceX = a * x + b * y + tx;
      const sourceY = c * x + d * y + ty;
      const target = offset + y * width + x;
      const x0 = Math.floor(sourceX);
      const y0 = Math.floor(sourceY);
      if (x0 < -1 || y0 < -1 || x0 >= sourceWidth || y0 >= sourceHeight) {
        output[target] = zero; output[target + plane] = zero; output[target + 2 * plane] = zero;
        continue;
      }
      const fx = sourceX - x0;
      const fy = sourceY - y0;
      const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
      const inside = x0 >= 0 && y0 >= 0 && x0 + 1 < sourceWidth && y0 + 1 < sourceHeight;
      for (let channel = 0; channel < 3; channel++) {
        let value: number;
        if (inside) {
          const index = (y0 * sourceWidth + x0) * 3 + channel;
          const rowBelow = index + sourceWidth * 3;
          value = w00 * data[index] + w10 * data[index + 3] + w01 * data[rowBelow] + w11 * data[rowBelow + 3];
        } else {
          value = w00 * sample(x0, y0, channel) + w10 * sample(x0 + 1, y0, channel) +
            w01 * sample(x0, y0 + 1, channel) + w11 * sample(x0 + 1, y0 + 1, channel);
        }
        const planeIndex = channel === 0 ? first : channel === 2 ? third : 1;
        output[target + planeIndex * plane] = (value - mean) / std;
      }
    }
  }
}

/**
 * Per destination column (or row) of an axis-aligned warp: the two source taps, as element
 * offsets, and their weights; a tap outside the source gets weight 0 (reads as black).
 */
function axisTaps(scale: number, shift: number, count: number, sourceSize: number, stride: number) {
  const first = new Int32Array(count), second = new Int32Array(count);
  const firstWeight = new Float32Array(count), secondWeight = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const position = scale * i + shift;
    const lower = Math.floor(position);
    const fraction = position - lower;
    const lowerInside = lower >= 0 && lower < sourceSize;
    const upperInside = lower + 1 >= 0 && lower + 1 < sourceSize;
    first[i] = lowerInside ? lower * stride : 0;
    second[i] = upperInside ? (lower + 1) * stride : 0;
    firstWeight[i] = lowerInside ? 1 - fraction : 0;
    secondWeight[i] = upperInside ? fraction : 0;
  }
  return { first, second, firstWeight, secondWeight };
}

/**
 * The same bilinear warp for scale + translation only (letterbox resizes), separable and with the
 * taps precomputed: about 5× faster than the general path on detector-sized inputs, same values.
 */
function warpAxisAligned(
  image: RgbImage,
  [scaleX, shiftX]: readonly [number, number],
  [scaleY, shiftY]: readonly [number, number],
  width: number,
  height: number,
  { mean, std, order }: ChannelNormalisation,
  output: Float32Array,
  offset: number,
): void {
  const { data, width: sourceWidth, height: sourceHeight } = image;
  const columns = axisTaps(scaleX, shiftX, width, sourceWidth, 3);
  const rows = axisTaps(scaleY, shiftY, height, sourceHeight, sourceWidth * 3);
  const plane = width * height;
  const redPlane = order === 'rgb' ? 0 : 2 * plane;
  const bluePlane = order === 'rgb' ? 2 * plane : 0;
  const inverseStd = 1 / std;
  const shift = -mean * inverseStd;
  for (let y = 0; y < height; y++) {
    const upperRow = rows.first[y], lowerRow = rows.second[y];
    const upperWeight = rows.firstWeight[y], lowerWeight = rows.secondWeight[y];
    const rowOffset = offset + y * width;
    for (let x = 0; x < width; x++) {
      const left = columns.first[x], right = columns.second[x];
      const w00 = upperWeight * columns.firstWeight[x], w10 = upperWeight * columns.secondWeight[x];
      const w01 = lowerWeight * columns.firstWeight[x], w11 = lowerWeight * columns.secondWeight[x];
      const i00 = upperRow + left, i10 = upperRow + right, i01 = lowerRow + left, i11 = lowerRow + right;
      const target = rowOffset + x;
      output[target + redPlane] = (w00 * data[i00] + w10 * data[i10] + w01 * data[i01] + w11 * data[i11]) * inverseStd + shift;
      output[target + plane] = (w00 * data[i00 + 1] + w10 * data[i10 + 1] + w01 * data[i01 + 1] + w11 * data[i11 + 1]) * inverseStd + shift;
      output[target + bluePlane] = (w00 * data[i00 + 2] + w10 * data[i10 + 2] + w01 * data[i01 + 2] + w11 * data[i11 + 2]) * inverseStd + shift;
    }
  }
}

/**
 * Packed RGB pixels into the top-left corner of a width × height planar tensor, normalised; the
 * rest is padding (what a zero pixel normalises to, as InsightFace's zero-filled letterbox).
 */
export function packedToTensor(image: RgbImage, width: number, height: number, { mean, std, order }: ChannelNormalisation, output: Float32Array): void {
  const plane = width * height;
  const redPlane = order === 'rgb' ? 0 : 2 * plane;
  const bluePlane = order === 'rgb' ? 2 * plane : 0;
  const inverseStd = 1 / std;
  const shift = -mean * inverseStd;
  output.fill(shift, 0, 3 * plane);
  const { data } = image;
  const rows = Math.min(height, image.height), columns = Math.min(width, image.width);
  for (let y = 0; y < rows; y++) {
    let source = y * image.width * 3;
    const rowStart = y * width;
    for (let x = 0; x < columns; x++, source += 3) {
      const target = rowStart + x;
      output[target + redPlane] = data[source]! * inverseStd + shift;
      output[target + plane] = data[source + 1]! * inverseStd + shift;
      output[target + bluePlane] = data[source + 2]! * inverseStd + shift;
    }
  }
}

/**
 * cv2.resize(INTER_LINEAR) as a source→destination affine: OpenCV samples destination pixel x at
 * source (x + 0.5)/scaleX − 0.5 (pixel-centre alignment), so x_dst = scaleX·x_src + (scaleX − 1)/2.
 */
export function resizeAffine(scaleX: number, scaleY: number = scaleX): Affine {
  return [scaleX, 0, 0.5 * scaleX - 0.5, 0, scaleY, 0.5 * scaleY - 0.5];
}

/** First `inner` then `outer`: the matrix of p ↦ outer(inner(p)). */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  const [a1, b1, tx1, c1, d1, ty1] = outer;
  const [a2, b2, tx2, c2, d2, ty2] = inner;
  return [
    a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, a1 * tx2 + b1 * ty2 + tx1,
    c1 * a2 + d1 * c2, c1 * b2 + d1 * d2, c1 * tx2 + d1 * ty2 + ty1,
  ];
}
