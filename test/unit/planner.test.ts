import { loadConfig } from '../../lambda/config.js';
import { clipRegion, largestIndices, planFor, SCRFD_RELIABLE_RANGE } from '../../lambda/vision/pipeline.js';
import { bucketSide, planDetection, SCRFD_INPUT_SIDES, type PlannerLimits } from '../../lambda/vision/planner.js';
import { placeRegion } from '../../lambda/vision/scrfd.js';
import { applyAffine } from '../../lambda/vision/geometry.js';

const detector = loadConfig({}).detector;
const limits: PlannerLimits = { range: { minFacePx: 16, maxFacePx: 400 }, maxUpscale: 1.5, maxInputSide: 1536 };
const whole = (width: number, height: number) => ({ x: 0, y: 0, width, height });

describe('bucketSide', () => {
  test('rounds up to the next allowed side and caps at the largest', () => {
    expect(bucketSide(1)).toBe(160);
    expect(bucketSide(640)).toBe(640);
    expect(bucketSide(641)).toBe(704);
    expect(bucketSide(5000)).toBe(1536);
  });

  test('every side is a multiple of SCRFD\'s stride 32 and the list is short', () => {
    for (const side of SCRFD_INPUT_SIDES) expect(side % 32).toBe(0);
    expect(SCRFD_INPUT_SIDES.length ** 2).toBeLessThanOrEqual(441);
  });
});

describe('planDetection', () => {
  test('default request on a WIDER-sized photo: a fine pass enlarged to the cap plus a coarse pass for the largest faces', () => {
    const plan = planDetection(1024, 678, { minFaceSize: 10, largestOnly: false }, limits);
    expect(plan.passes).toHaveLength(2);
    const [fine, coarse] = plan.passes;
    expect(fine!.scale).toBe(1.5);
    expect(fine!.input).toEqual({ width: 1536, height: 1024 });
    expect(coarse!.scale).toBeCloseTo(400 / 1024, 6);
    expect(coarse!.input).toEqual({ width: 448, height: 320 });
    // Together they cover every face from the smallest wanted to the image's long side.
    expect(fine!.covers.smallest).toBeLessThanOrEqual(plan.smallestFace * 1.1);
    expect(coarse!.covers.largest).toBeGreaterThanOrEqual(1024 - 1e-9);
    expect(coarse!.covers.smallest).toBeLessThanOrEqual(fine!.covers.largest);
    expect(plan.stopAtFirstHit).toBe(false);
  });

  test('Face++ on a close-up portrait (48 px or 1/48 of the short side): one small pass', () => {
    const plan = planDetection(930, 850, { minFaceSize: 48, minFaceShortSideFraction: 1 / 48, largestOnly: false }, limits);
    expect(plan.smallestFace).toBe(48);
    expect(plan.passes).toHaveLength(1);
    expect(plan.passes[0]!.scale).toBeCloseTo(16 / 48, 6);
    expect(plan.passes[0]!.input).toEqual({ width: 320, height: 320 });
    expect(plan.passes[0]!.covers.largest).toBeGreaterThanOrEqual(930);
  });

  test('Face++ on a 4096×3200 photo: the smallest face is 1/48 of the short side (66 px, its own example)', () => {
    const plan = planDetection(4096, 3200, { minFaceSize: 48, minFaceShortSideFraction: 1 / 48, largestOnly: false }, limits);
    expect(Math.round(plan.smallestFace)).toBe(67);
    expect(plan.passes[0]!.scale).toBeCloseTo(16 / (3200 / 48), 6);
  });

  test('largest face only: coarse pass first, stop at the first hit', () => {
    const plan = planDetection(1024, 678, { minFaceSize: 10, largestOnly: true }, limits);
    expect(plan.stopAtFirstHit).toBe(true);
    expect(plan.passes.map((pass) => pass.input)).toEqual([{ width: 448, height: 320 }, { width: 1536, height: 1024 }]);
  });

  test('a small image needs one pass, enlarged at most maxUpscale', () => {
    const plan = planDetection(200, 200, { minFaceSize: 10, largestOnly: true }, limits);
    expect(plan.passes).toHaveLength(1);
    expect(plan.passes[0]!.scale).toBe(1.5);
    expect(plan.passes[0]!.input).toEqual({ width: 320, height: 320 });
    expect(plan.stopAtFirstHit).toBe(false);
  });

  test('maxInputSide 640 is the fast option: no canvas above 640, the region still fits', () => {
    const plan = planDetection(4000, 3000, { minFaceSize: 10, largestOnly: false }, { ...limits, maxInputSide: 640 });
    for (const pass of plan.passes) {
      expect(Math.max(pass.input.width, pass.input.height)).toBeLessThanOrEqual(640);
      expect(4000 * pass.scale).toBeLessThanOrEqual(pass.input.width + 1e-9);
      expect(3000 * pass.scale).toBeLessThanOrEqual(pass.input.height + 1e-9);
    }
  });

  test('any image size maps to one of at most |sides|² canvases, and the scaled image always fits', () => {
    const shapes = new Set<string>();
    for (let width = 8; width <= 4096; width += 197) {
      for (let height = 8; height <= 4096; height += 173) {
        for (const request of [{ minFaceSize: 10, largestOnly: false }, { minFaceSize: 48, minFaceShortSideFraction: 1 / 48, largestOnly: false }]) {
          for (const pass of planDetection(width, height, request, limits).passes) {
            shapes.add(`${pass.input.width}x${pass.input.height}`);
            expect(Math.round(width * pass.scale)).toBeLessThanOrEqual(pass.input.width);
            expect(Math.round(height * pass.scale)).toBeLessThanOrEqual(pass.input.height);
          }
        }
      }
    }
    expect(shapes.size).toBeLessThanOrEqual(SCRFD_INPUT_SIDES.length ** 2);
  });
});

describe('planFor (the pipeline\'s use of the planner)', () => {
  test('uses the config default smallest face and the measured reliable range', () => {
    const plan = planFor(whole(1024, 683), {}, detector);
    expect(plan.smallestFace).toBe(detector.minFaceSize);
    expect(plan.passes[0]!.covers.smallest).toBeCloseTo(SCRFD_RELIABLE_RANGE.minFacePx / plan.passes[0]!.scale, 6);
  });

  test('maxFaces 1 asks for the largest face only', () => {
    expect(planFor(whole(1024, 683), { maxFaces: 1 }, detector).stopAtFirstHit).toBe(true);
    expect(planFor(whole(1024, 683), { maxFaces: 2 }, detector).stopAtFirstHit).toBe(false);
  });
});

describe('placeRegion', () => {
  test('scales the region by exactly the planned scale into the top-left corner', () => {
    const box = placeRegion({ x: 100, y: 50, width: 400, height: 300 }, { width: 640, height: 480 }, 1.5);
    const origin = applyAffine(box.toInput, { x: 100, y: 50 });
    const corner = applyAffine(box.toInput, { x: 500, y: 350 });
    // cv2.resize's pixel-centre convention shifts by < 1 px; the extent is exactly 1.5× the region.
    expect(Math.abs(origin.x)).toBeLessThan(1);
    expect(Math.abs(origin.y)).toBeLessThan(1);
    expect(corner.x - origin.x).toBeCloseTo(600, 6);
    expect(corner.y - origin.y).toBeCloseTo(450, 6);
    expect(box.detScale).toBeCloseTo(1.5, 6);
  });
});

describe('face selection helpers', () => {
  const face = (width: number) => ({ box: { x: 0, y: 0, width, height: width } });

  test('largestIndices picks by box area', () => {
    expect([...largestIndices([face(10), face(50), face(30), face(40)], 2)].sort()).toEqual([1, 3]);
  });

  test('clipRegion clips to the image and refuses an empty region', () => {
    expect(clipRegion(undefined, 100, 50)).toEqual({ x: 0, y: 0, width: 100, height: 50 });
    expect(clipRegion({ x: -10, y: 10, width: 50, height: 100 }, 100, 50)).toEqual({ x: 0, y: 10, width: 40, height: 40 });
    expect(clipRegion({ x: 200, y: 0, width: 10, height: 10 }, 100, 50)).toBeUndefined();
  });
});
