import { applyAffine, invertAffine, warpAffineToTensor } from '../../lambda/vision/geometry.js';
import {
  softmax, squareAroundBox, squareCropTransform, toDistribution, warpGrayReplicate,
} from '../../lambda/vision/attributes/common.js';
import { EMOTION_INPUT_SIZE, normaliseEmotionGray, postprocessEmotion, preprocessEmotion } from '../../lambda/vision/attributes/emotion.js';
import { postprocessFaceAttributes, preprocessFaceAttributes } from '../../lambda/vision/attributes/faceAttributes5.js';
import { LIVENESS_INPUT_SIZE, postprocessLiveness, preprocessLiveness } from '../../lambda/vision/attributes/liveness.js';
import { EMOTIONS } from '../../lambda/vision/types.js';
import type { RgbImage } from '../../lambda/image/types.js';

function uniformImage(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

const face = {
  box: { x: 40, y: 30, width: 60, height: 80 },
  landmarks5: [{ x: 55, y: 60 }, { x: 85, y: 60 }, { x: 70, y: 75 }, { x: 58, y: 92 }, { x: 82, y: 92 }],
};

describe('square crops', () => {
  it('maps the square region edges onto the crop edges (pixel-edge convention)', () => {
    const region = squareAroundBox(face.box, 1);
    expect(region).toEqual({ centerX: 70, centerY: 70, side: 80 });
    const transform = squareCropTransform(region, 64);
    // Edge x = 30 (left of the square) ↦ edge 0 of the crop, i.e. sample coordinate −0.5.
    const topLeft = applyAffine(transform, { x: 30 - 0.5, y: 30 - 0.5 });
    expect(topLeft.x).toBeCloseTo(-0.5, 6);
    expect(topLeft.y).toBeCloseTo(-0.5, 6);
    const bottomRight = applyAffine(transform, { x: 110 - 0.5, y: 110 - 0.5 });
    expect(bottomRight.x).toBeCloseTo(63.5, 6);
    expect(bottomRight.y).toBeCloseTo(63.5, 6);
  });

  it('moves the centre down by a fraction of the box height and scales the side', () => {
    expect(squareAroundBox(face.box, 1.5, 0.1)).toEqual({ centerX: 70, centerY: 78, side: 120 });
  });

  it('mirrors left and right around the region centre', () => {
    const region = squareAroundBox(face.box, 1);
    const plain = squareCropTransform(region, 64);
    const mirrored = squareCropTransform(region, 64, true);
    const point = { x: 50, y: 40 };
    expect(applyAffine(mirrored, point).x).toBeCloseTo(63 - applyAffine(plain, point).x, 6);
    expect(applyAffine(mirrored, point).y).toBeCloseTo(applyAffine(plain, point).y, 6);
    expect(() => invertAffine(mirrored)).not.toThrow();
  });
});

describe('gray warps', () => {
  it('converts with the BT.601 weights used by the emotion model', () => {
    const output = new Float32Array(16);
    warpGrayReplicate(uniformImage(8, 8, [255, 0, 0]), [0.5, 0, 0, 0, 0.5, 0], 4, output, 0);
    expect(output[5]).toBeCloseTo(0.2989 * 255, 3);
  });

  it('replicates the border instead of reading black outside the image', () => {
    const image = uniformImage(10, 10, [100, 100, 100]);
    const output = new Float32Array(16 * 16);
    // A crop twice the image size, centred: half of it lies outside the image.
    warpGrayReplicate(image, squareCropTransform({ centerX: 5, centerY: 5, side: 20 }, 16), 16, output, 0);
    for (const value of output) expect(value).toBeCloseTo(100 * 0.9999, 3); // luma weights sum to 0.9999
    // The plain tensor warp reads black there.
    const black = new Float32Array(3 * 16 * 16);
    warpAffineToTensor(image, squareCropTransform({ centerX: 5, centerY: 5, side: 20 }, 16), 16, 16, { mean: 0, std: 1, order: 'rgb' }, black);
    expect(black[0]).toBe(0);
  });
});

describe('distributions', () => {
  it('softmax sums to 1 and keeps the order', () => {
    const probabilities = softmax([1, 2, 3]);
    expect(probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(probabilities[2]).toBeGreaterThan(probabilities[1]);
  });

  it('toDistribution names and renormalises, uniform when all zero', () => {
    expect(toDistribution(['a', 'b'] as const, [1, 3])).toEqual({ a: 0.25, b: 0.75 });
    expect(toDistribution(['a', 'b'] as const, [0, 0])).toEqual({ a: 0.5, b: 0.5 });
  });
});

describe('emotion pre/post-processing', () => {
  it('normalises gray to [-1, 1]', () => {
    expect(normaliseEmotionGray(0)).toBe(-1);
    expect(normaliseEmotionGray(255)).toBe(1);
    expect(normaliseEmotionGray(127.5)).toBeCloseTo(0, 12);
  });

  it('fills one 64×64 plane per face', () => {
    const image = uniformImage(160, 160, [255, 255, 255]);
    const batch = preprocessEmotion(image, [face, face]);
    expect(batch.length).toBe(2 * EMOTION_INPUT_SIZE * EMOTION_INPUT_SIZE);
    // White everywhere (border replicated) ⇒ 0.2989+0.587+0.114 = 0.9999 of 255 ⇒ ≈ 1.
    expect(Math.min(...batch)).toBeGreaterThan(0.999);
  });

  it('splits the [N,7] output in the EMOTIONS order', () => {
    const output = new Float32Array(14);
    output[3] = 1; // face 0: happy
    output[7 + 6] = 1; // face 1: neutral
    const [first, second] = postprocessEmotion(output, 2);
    expect(first.happy).toBe(1);
    expect(second.neutral).toBe(1);
    expect(Object.keys(first)).toEqual([...EMOTIONS]);
    expect(() => postprocessEmotion(output, 3)).toThrow();
  });
});

describe('5-head attribute model pre/post-processing', () => {
  it('aligns each face into a 3×112×112 RGB 0..255 slot', () => {
    const batch = preprocessFaceAttributes(uniformImage(160, 160, [10, 20, 30]), [face]);
    expect(batch.length).toBe(3 * 112 * 112);
    const centre = 56 * 112 + 56;
    expect(batch[centre]).toBeCloseTo(10, 3);
    expect(batch[112 * 112 + centre]).toBeCloseTo(20, 3);
    expect(batch[2 * 112 * 112 + centre]).toBeCloseTo(30, 3);
  });

  it('decodes the verified class indices', () => {
    const [result] = postprocessFaceAttributes({
      mask: Float32Array.from([0.2, 0.8]),
      glasses: Float32Array.from([0.1, 0.7, 0.2]),
      mouth: Float32Array.from([0.6, 0.3, 0.1]),
      eyes: Float32Array.from([0.9, 0.05, 0.05]),
    }, 1);
    expect(result.mask).toBeCloseTo(0.8);
    expect(result.glasses[1]).toBeCloseTo(0.7);
    expect(() => postprocessFaceAttributes({ mask: new Float32Array(3), glasses: new Float32Array(3), mouth: new Float32Array(3), eyes: new Float32Array(3) }, 1)).toThrow();
  });
});

describe('liveness pre/post-processing', () => {
  it('scales RGB to 0..1 in a 128×128 crop and clamps the score', () => {
    const batch = preprocessLiveness(uniformImage(160, 160, [255, 0, 51]), [face]);
    expect(batch.length).toBe(3 * LIVENESS_INPUT_SIZE * LIVENESS_INPUT_SIZE);
    const centre = 64 * 128 + 64;
    expect(batch[centre]).toBeCloseTo(1, 5);
    expect(batch[2 * 128 * 128 + centre]).toBeCloseTo(0.2, 5);
    expect(postprocessLiveness(Float32Array.from([1.2, 0.3]), 2)).toEqual([1, expect.closeTo(0.3, 6)]);
  });
});
