import { chooseInputSize, decodeStrides, iou, letterbox, nms, SCRFD_ANCHORS_PER_CELL, topK, type Candidate, type StrideOutput } from '../../lambda/vision/scrfd.js';
import { applyAffine } from '../../lambda/vision/geometry.js';

const candidate = (x1: number, y1: number, x2: number, y2: number, score: number): Candidate => ({ x1, y1, x2, y2, score, keypoints: [] });

describe('chooseInputSize', () => {
  test('keeps aspect, clamps the long side and rounds to multiples of 32', () => {
    expect(chooseInputSize(1024, 768, 640, 1280)).toEqual({ width: 1024, height: 768 });
    expect(chooseInputSize(4000, 3000, 640, 1280)).toEqual({ width: 1280, height: 960 });
    expect(chooseInputSize(200, 300, 640, 1280)).toEqual({ width: 448, height: 640 });
    expect(chooseInputSize(1000, 10, 640, 1280)).toEqual({ width: 1024, height: 32 });
  });
});

describe('letterbox (InsightFace keep-aspect, pad bottom/right)', () => {
  test('a wide image fills the width; detScale is new_height / height', () => {
    const box = letterbox({ x: 0, y: 0, width: 1000, height: 500 }, { width: 640, height: 640 });
    expect(box.detScale).toBeCloseTo(320 / 500, 9);
    // The image's bottom-right pixel centre lands inside the top-left 640×320 area.
    const corner = applyAffine(box.toInput, { x: 999, y: 499 });
    expect(corner.x).toBeLessThan(640);
    expect(corner.y).toBeLessThan(320);
  });

  test('maxScale 1 never enlarges (close-up pass)', () => {
    const box = letterbox({ x: 0, y: 0, width: 200, height: 200 }, { width: 640, height: 640 }, 1);
    expect(box.detScale).toBe(1);
  });

  test('a region is offset back into image coordinates', () => {
    const box = letterbox({ x: 100, y: 50, width: 320, height: 320 }, { width: 640, height: 640 });
    expect(box.offsetX).toBe(100);
    expect(box.offsetY).toBe(50);
    expect(applyAffine(box.toInput, { x: 100, y: 50 }).x).toBeCloseTo(0.5, 9); // pixel-centre alignment at scale 2
  });
});

describe('decodeStrides', () => {
  /** Outputs for a 64×64 input with one anchor above threshold at stride 32, cell (1, 0), anchor 1. */
  function outputs(): StrideOutput[] {
    return [8, 16, 32].map((stride) => {
      const cells = (64 / stride) ** 2;
      const anchors = cells * SCRFD_ANCHORS_PER_CELL;
      const scores = new Float32Array(anchors).fill(0.1);
      const boxes = new Float32Array(anchors * 4);
      const keypoints = new Float32Array(anchors * 10);
      if (stride === 32) {
        const anchor = 1 * SCRFD_ANCHORS_PER_CELL + 1; // cell index 1 = column 1, row 0
        scores[anchor] = 0.9;
        boxes.set([0.5, 0.25, 0.5, 1], anchor * 4);
        keypoints.set([0.1, 0.2, 0, 0, 0, 0, 0, 0, 0, 0], anchor * 10);
      }
      return { stride, scores, boxes, keypoints };
    });
  }

  test('anchor centre (column·stride, row·stride), distances × stride, ÷ detScale, + offset', () => {
    const box = { input: { width: 64, height: 64 }, scaled: { width: 64, height: 64 }, toInput: [2, 0, 0, 0, 2, 0] as const, detScale: 2, offsetX: 10, offsetY: 20 };
    const [found, ...rest] = decodeStrides(outputs(), box, 0.5);
    expect(rest).toHaveLength(0);
    expect(found.score).toBeCloseTo(0.9, 6);
    // centre (32, 0): x1 = 32 − 16, y1 = 0 − 8, x2 = 32 + 16, y2 = 0 + 32, then /2 and offset.
    expect([found.x1, found.y1, found.x2, found.y2]).toEqual([18, 16, 34, 36]);
    expect(found.keypoints[0].x).toBeCloseTo((32 + 3.2) / 2 + 10, 5);
    expect(found.keypoints[0].y).toBeCloseTo(6.4 / 2 + 20, 5);
  });

  test('refuses outputs shorter than the anchor grid', () => {
    const box = { input: { width: 128, height: 128 }, scaled: { width: 128, height: 128 }, toInput: [1, 0, 0, 0, 1, 0] as const, detScale: 1, offsetX: 0, offsetY: 0 };
    expect(() => decodeStrides(outputs(), box, 0.5)).toThrow('anchors');
  });
});

describe('iou, topK and nms', () => {
  test('iou uses the +1 pixel convention', () => {
    expect(iou(candidate(0, 0, 9, 9, 1), candidate(0, 0, 9, 9, 1))).toBe(1);
    expect(iou(candidate(0, 0, 9, 9, 1), candidate(10, 10, 19, 19, 1))).toBe(0);
    expect(iou(candidate(0, 0, 9, 9, 1), candidate(5, 0, 14, 9, 1))).toBeCloseTo(50 / 150, 9);
  });

  test('topK keeps the best scores in order', () => {
    const kept = topK([candidate(0, 0, 1, 1, 0.2), candidate(0, 0, 1, 1, 0.9), candidate(0, 0, 1, 1, 0.5)], 2);
    expect(kept.map((item) => item.score)).toEqual([0.9, 0.5]);
  });

  test('nms drops lower-scored overlaps above the threshold and keeps the rest', () => {
    const kept = nms([
      candidate(0, 0, 99, 99, 0.8),
      candidate(5, 5, 104, 104, 0.9), // overlaps the first strongly
      candidate(200, 200, 299, 299, 0.7),
      candidate(50, 0, 149, 99, 0.6), // IoU with the best ≈ 0.27: kept at 0.4
    ], 0.4);
    expect(kept.map((item) => item.score)).toEqual([0.9, 0.7, 0.6]);
  });
});
