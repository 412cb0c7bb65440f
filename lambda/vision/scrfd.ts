/**
 * SCRFD face detector (InsightFace 0.7.3 `model_zoo/scrfd.py`), split into pure pieces:
 * input-size choice, letterbox geometry, anchor decoding and NMS; `runScrfd` is the only part that
 * touches the model. Candidates of several passes (sizes) are merged before one NMS.
 */
import type * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import type { DetectorResampling } from '../config.js';
import { resizeRegion } from '../image/resize.js';
import { composeAffine, packedToTensor, resizeAffine, warpAffineToTensor, type Affine, type ChannelNormalisation } from './geometry.js';
import { runFloat32 } from './session.js';
import type { Box, Point } from './types.js';

/** SCRFD feature-map strides and anchors per cell (InsightFace: fmc=3, _num_anchors=2). */
export const SCRFD_STRIDES = [8, 16, 32] as const;
export const SCRFD_ANCHORS_PER_CELL = 2;
/** The network needs input sides that are multiples of the largest stride. */
export const SCRFD_SIDE_MULTIPLE = 32;
/** blobFromImage(img, 1/128, mean 127.5, swapRB=True). */
export const SCRFD_NORMALISATION: ChannelNormalisation = { mean: 127.5, std: 128, order: 'rgb' };

export interface InputSize {
  readonly width: number;
  readonly height: number;
}

export interface Candidate {
  /** x1, y1, x2, y2 in image pixels. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly score: number;
  readonly keypoints: readonly Point[];
}

/** Where an image region lands in the network input. */
export interface Letterbox {
  readonly input: InputSize;
  /** The region's size once resized: it fills this top-left part of the input, the rest is padding. */
  readonly scaled: InputSize;
  /** Region (image px) → network input px, as cv2.resize into the top-left corner would map it. */
  readonly toInput: Affine;
  /** InsightFace divides decoded coordinates by this one scale (new_height / image height). */
  readonly detScale: number;
  /** Region origin in the image, added back after decoding. */
  readonly offsetX: number;
  readonly offsetY: number;
}

const roundUpTo = (value: number, multiple: number): number => Math.ceil(value / multiple) * multiple;

/**
 * Main-pass input size for an image region: its long side clamped to [minSide, maxSide], rounded
 * up to a multiple of 32, the short side in proportion (the `_dynhw` model takes any such size, so
 * no compute is spent on padding).
 */
export function chooseInputSize(width: number, height: number, minSide: number, maxSide: number): InputSize {
  const longSide = Math.max(width, height);
  const targetLong = roundUpTo(Math.min(Math.max(longSide, minSide), maxSide), SCRFD_SIDE_MULTIPLE);
  const targetShort = roundUpTo((Math.min(width, height) * targetLong) / longSide, SCRFD_SIDE_MULTIPLE);
  return width >= height ? { width: targetLong, height: targetShort } : { width: targetShort, height: targetLong };
}

/**
 * InsightFace's keep-aspect letterbox: the region is resized (cv2.resize) into the top-left
 * corner of the input; the rest stays zero (pad bottom/right).
 */
export function letterbox(region: Box, input: InputSize, maxScale = Infinity): Letterbox {
  const imageRatio = region.height / region.width;
  const modelRatio = input.height / input.width;
  let newWidth: number;
  let newHeight: number;
  if (imageRatio > modelRatio) {
    newHeight = Math.min(input.height, Math.trunc(region.height * maxScale));
    newWidth = Math.trunc(newHeight / imageRatio);
  } else {
    newWidth = Math.min(input.width, Math.trunc(region.width * maxScale));
    newHeight = Math.trunc(newWidth * imageRatio);
  }
  newWidth = Math.max(1, newWidth);
  newHeight = Math.max(1, newHeight);
  const resize = resizeAffine(newWidth / region.width, newHeight / region.height);
  const toRegion: Affine = [1, 0, -region.x, 0, 1, -region.y];
  return {
    input,
    scaled: { width: newWidth, height: newHeight },
    toInput: composeAffine(resize, toRegion),
    detScale: newHeight / region.height,
    offsetX: region.x,
    offsetY: region.y,
  };
}

/**
 * The region scaled by exactly `scale` into the top-left corner of `input` (a bucketed canvas at
 * least that large), zero padding right and bottom: the letterbox of a planned pass.
 */
export function placeRegion(region: Box, input: InputSize, scale: number): Letterbox {
  const newWidth = Math.max(1, Math.min(input.width, Math.round(region.width * scale)));
  const newHeight = Math.max(1, Math.min(input.height, Math.round(region.height * scale)));
  const resize = resizeAffine(newWidth / region.width, newHeight / region.height);
  const toRegion: Affine = [1, 0, -region.x, 0, 1, -region.y];
  return { input, scaled: { width: newWidth, height: newHeight }, toInput: composeAffine(resize, toRegion), detScale: newHeight / region.height, offsetX: region.x, offsetY: region.y };
}

/**
 * Input tensor [1,3,H,W] for one pass, resampled as cv2.resize(INTER_LINEAR) does (InsightFace's
 * own). `into`, when given and large enough, is reused (its first 3·H·W values).
 */
export function scrfdInputTensor(image: RgbImage, box: Letterbox, into?: Float32Array): Float32Array {
  const { width, height } = box.input;
  const length = 3 * width * height;
  const tensor = into && into.length >= length ? into.subarray(0, length) : new Float32Array(length);
  warpAffineToTensor(image, box.toInput, width, height, SCRFD_NORMALISATION, tensor);
  return tensor;
}

/**
 * Detector input buffers kept between passes. A fresh canvas-sized Float32Array (15 MB at
 * 1280×960) per pass is mapped and faulted in anew under the flat-memory malloc settings, about a
 * third of the input-building time; a pass takes a kept buffer (or makes one) and gives it back, so
 * concurrent passes never share one. At most two are kept, each at most the largest canvas.
 */
const spareInputs: Float32Array[] = [];
const SPARE_INPUTS_KEPT = 2;

function takeInput(length: number): Float32Array | undefined {
  const index = spareInputs.findIndex((buffer) => buffer.length >= length);
  return index >= 0 ? spareInputs.splice(index, 1)[0] : undefined;
}

function giveBack(tensor: Float32Array): void {
  const whole = new Float32Array(tensor.buffer);
  if (spareInputs.length < SPARE_INPUTS_KEPT) spareInputs.push(whole);
  else {
    // Keep the larger buffers: a later large canvas then needs no new one.
    const smallest = spareInputs.reduce((best, buffer, index) => (buffer.length < spareInputs[best]!.length ? index : best), 0);
    if (spareInputs[smallest]!.length < whole.length) spareInputs[smallest] = whole;
  }
}

/** How a pass resamples: the image region it covers and the method (config.detector.resampling). */
export interface PassResampling {
  readonly region: Box;
  readonly method: DetectorResampling;
}

/**
 * Input tensor for one pass, in a kept buffer when one is free: 'exact' (or no resampling given)
 * is cv2.resize(INTER_LINEAR) in JavaScript; a libvips kernel resizes natively (it anti-aliases
 * when shrinking). A region off the pixel grid resamples exactly.
 */
export async function scrfdInput(image: RgbImage, box: Letterbox, resampling?: PassResampling): Promise<Float32Array> {
  const length = 3 * box.input.width * box.input.height;
  const kept = takeInput(length);
  const region = resampling?.region;
  const onGrid = region !== undefined && [region.x, region.y, region.width, region.height].every(Number.isInteger);
  if (!resampling || resampling.method === 'exact' || !onGrid) return scrfdInputTensor(image, box, kept);
  const resized = await resizeRegion(image, region, box.scaled.width, box.scaled.height, resampling.method);
  const tensor = kept ? kept.subarray(0, length) : new Float32Array(length);
  packedToTensor(resized, box.input.width, box.input.height, SCRFD_NORMALISATION, tensor);
  return tensor;
}

/** One stride's raw outputs, flat: scores [cells·A], boxes [cells·A·4], keypoints [cells·A·10]. */
export interface StrideOutput {
  readonly stride: number;
  readonly scores: ArrayLike<number>;
  readonly boxes: ArrayLike<number>;
  readonly keypoints: ArrayLike<number>;
}

/**
 * Decodes anchors above `scoreThreshold` into image-space candidates: anchor centres at
 * (column·stride, row·stride) without +0.5, each repeated per anchor; distances × stride;
 * divided by detScale; region offset added.
 */
export function decodeStrides(outputs: readonly StrideOutput[], box: Letterbox, scoreThreshold: number): Candidate[] {
  const candidates: Candidate[] = [];
  for (const { stride, scores, boxes, keypoints } of outputs) {
    const columns = Math.floor(box.input.width / stride);
    const rows = Math.floor(box.input.height / stride);
    const anchorCount = rows * columns * SCRFD_ANCHORS_PER_CELL;
    if (scores.length < anchorCount) throw new Error(`SCRFD stride ${stride}: ${scores.length} scores for ${anchorCount} anchors`);
    for (let anchor = 0; anchor < anchorCount; anchor++) {
      const score = scores[anchor];
      if (score < scoreThreshold) continue;
      const cell = Math.floor(anchor / SCRFD_ANCHORS_PER_CELL);
      const centreX = (cell % columns) * stride;
      const centreY = Math.floor(cell / columns) * stride;
      const toImageX = (inputX: number): number => inputX / box.detScale + box.offsetX;
      const toImageY = (inputY: number): number => inputY / box.detScale + box.offsetY;
      const points: Point[] = [];
      for (let k = 0; k < 5; k++) {
        points.push({
          x: toImageX(centreX + keypoints[anchor * 10 + 2 * k] * stride),
          y: toImageY(centreY + keypoints[anchor * 10 + 2 * k + 1] * stride),
        });
      }
      candidates.push({
        x1: toImageX(centreX - boxes[anchor * 4] * stride),
        y1: toImageY(centreY - boxes[anchor * 4 + 1] * stride),
        x2: toImageX(centreX + boxes[anchor * 4 + 2] * stride),
        y2: toImageY(centreY + boxes[anchor * 4 + 3] * stride),
        score,
        keypoints: points,
      });
    }
  }
  return candidates;
}

/** The `limit` highest-scored candidates, best first. */
export function topK(candidates: readonly Candidate[], limit: number): Candidate[] {
  return [...candidates].sort((a, b) => b.score - a.score).slice(0, limit);
}

/** IoU with InsightFace's +1 pixel convention (areas (x2−x1+1)·(y2−y1+1)). */
export function iou(a: Candidate, b: Candidate): number {
  const overlapWidth = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) + 1);
  const overlapHeight = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) + 1);
  const overlap = overlapWidth * overlapHeight;
  const areaA = (a.x2 - a.x1 + 1) * (a.y2 - a.y1 + 1);
  const areaB = (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1);
  return overlap / (areaA + areaB - overlap);
}

/** Greedy NMS: highest score first, drop candidates overlapping a kept one by more than `threshold`. */
export function nms(candidates: readonly Candidate[], threshold: number): Candidate[] {
  const ordered = topK(candidates, candidates.length);
  const kept: Candidate[] = [];
  const suppressed = new Uint8Array(ordered.length);
  for (let i = 0; i < ordered.length; i++) {
    if (suppressed[i]) continue;
    kept.push(ordered[i]);
    for (let j = i + 1; j < ordered.length; j++) {
      if (!suppressed[j] && iou(ordered[i], ordered[j]) > threshold) suppressed[j] = 1;
    }
  }
  return kept;
}

/**
 * Splits the session's outputs by stride. Output order (MODELS.md): 0-2 scores, 3-5 boxes,
 * 6-8 keypoints, strides 8/16/32.
 */
export function groupOutputs(session: ort.InferenceSession, outputs: Record<string, ort.Tensor>): StrideOutput[] {
  const names = session.outputNames;
  const count = SCRFD_STRIDES.length;
  return SCRFD_STRIDES.map((stride, index) => ({
    stride,
    scores: outputs[names[index]].data as Float32Array,
    boxes: outputs[names[index + count]].data as Float32Array,
    keypoints: outputs[names[index + 2 * count]].data as Float32Array,
  }));
}

/** Runs one pass of the detector and returns its candidates (before NMS). */
export async function runScrfd(
  session: ort.InferenceSession,
  image: RgbImage,
  box: Letterbox,
  scoreThreshold: number,
  preNmsTopK: number,
  resampling?: PassResampling,
): Promise<Candidate[]> {
  const tensor = await scrfdInput(image, box, resampling);
  let outputs: Record<string, ort.Tensor>;
  try {
    outputs = await runFloat32(session, tensor, [1, 3, box.input.height, box.input.width]);
  } finally {
    giveBack(tensor);
  }
  try {
    return topK(decodeStrides(groupOutputs(session, outputs), box, scoreThreshold), preNmsTopK);
  } finally {
    for (const output of Object.values(outputs)) output.dispose?.();
  }
}
