import type { Point } from '../../lambda/vision/types.js';
import {
  BLUR_SIZE, blurFromSharpness, exposureFactor, facePixelStats, faceQuality, laplacianSharpness, poseFactor, sizeFactor,
} from '../../lambda/vision/attributes/blurQuality.js';
import { mouthShape, smileIntensity, SMILE_THRESHOLD } from '../../lambda/vision/attributes/smile.js';
import { geometricHeadPose, postprocessHeadPose, rollFromEyes } from '../../lambda/vision/attributes/headPose.js';

/** Deterministic pseudo-random texture (a sharp image). */
function texture(size: number): Float32Array {
  const values = new Float32Array(size * size);
  let seed = 12345;
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    values[i] = (seed / 2147483648) * 255;
  }
  return values;
}

function boxBlur(values: Float32Array, size: number, radius: number): Float32Array {
  const output = new Float32Array(values.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0, count = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = Math.min(size - 1, Math.max(0, x + dx)), yy = Math.min(size - 1, Math.max(0, y + dy));
          sum += values[yy * size + xx]; count++;
        }
      }
      output[y * size + x] = sum / count;
    }
  }
  return output;
}

describe('blur', () => {
  const sharp = texture(BLUR_SIZE);
  it('is higher for a blurred copy of the same texture, and grows with the blur radius', () => {
    const blurs = [0, 1, 2, 4].map((radius) => facePixelStats(radius ? boxBlur(sharp, BLUR_SIZE, radius) : sharp).blur);
    for (let i = 1; i < blurs.length; i++) expect(blurs[i]).toBeGreaterThan(blurs[i - 1]);
    expect(blurs[0]).toBeLessThan(0.2);
    expect(blurs[3]).toBeGreaterThan(2 * blurs[0]);
  });

  it('does not depend on contrast (scaled gray levels give the same sharpness)', () => {
    const dim = sharp.map((v) => 0.25 * v + 40);
    expect(laplacianSharpness(dim, BLUR_SIZE, BLUR_SIZE)).toBeCloseTo(laplacianSharpness(sharp, BLUR_SIZE, BLUR_SIZE), 6);
  });

  it('a flat crop is fully blurred', () => {
    expect(facePixelStats(new Float32Array(BLUR_SIZE * BLUR_SIZE).fill(128)).blur).toBe(1);
    expect(blurFromSharpness(0)).toBe(1);
  });
});

describe('quality factors', () => {
  const frontal = { yaw: 0, pitch: 0, roll: 0 };
  it('pose factor falls with |yaw| and |pitch|, symmetric, ignores roll', () => {
    expect(poseFactor(frontal)).toBe(1);
    expect(poseFactor({ yaw: 30, pitch: 0, roll: 0 })).toBeLessThan(1);
    expect(poseFactor({ yaw: 60, pitch: 0, roll: 0 })).toBeLessThan(poseFactor({ yaw: 30, pitch: 0, roll: 0 }));
    expect(poseFactor({ yaw: -30, pitch: 10, roll: 0 })).toBeCloseTo(poseFactor({ yaw: 30, pitch: -10, roll: 45 }), 12);
  });

  it('size factor is 0 for tiny faces and 1 for large ones, increasing between', () => {
    const size = (side: number) => sizeFactor({ x: 0, y: 0, width: side, height: side * 1.3 });
    expect(size(10)).toBe(0);
    expect(size(40)).toBeGreaterThan(size(20));
    expect(size(200)).toBe(1);
  });

  it('exposure factor penalises dark, bright and clipped crops', () => {
    expect(exposureFactor({ meanGray: 120, clippedFraction: 0 })).toBe(1);
    expect(exposureFactor({ meanGray: 20, clippedFraction: 0 })).toBeLessThan(1);
    expect(exposureFactor({ meanGray: 240, clippedFraction: 0 })).toBeLessThan(1);
    expect(exposureFactor({ meanGray: 120, clippedFraction: 0.5 })).toBe(0.5);
  });

  it('quality is 0..100 and drops with blur', () => {
    const box = { x: 0, y: 0, width: 120, height: 150 };
    const good = faceQuality({ blur: 0.1, meanGray: 120, clippedFraction: 0 }, frontal, box);
    const blurry = faceQuality({ blur: 0.7, meanGray: 120, clippedFraction: 0 }, frontal, box);
    expect(good).toBeCloseTo(90, 6);
    expect(blurry).toBeLessThan(good);
  });
});

/** A minimal 106-point face: only the indices the smile and pose code read are placed. */
function syntheticFace(options: { cornerLift?: number; mouthHalfWidth?: number; noseShift?: number } = {}): Point[] {
  const { cornerLift = 0, mouthHalfWidth = 20, noseShift = 0 } = options;
  const points: Point[] = Array.from({ length: 106 }, () => ({ x: 100, y: 100 }));
  points[38] = { x: 75, y: 80 }; points[88] = { x: 125, y: 80 };
  points[86] = { x: 100 + noseShift, y: 105 };
  points[62] = { x: 100, y: 128 }; points[60] = { x: 100, y: 132 }; points[71] = { x: 100, y: 122 }; points[53] = { x: 100, y: 140 };
  points[52] = { x: 100 - mouthHalfWidth, y: 130 - cornerLift }; points[61] = { x: 100 + mouthHalfWidth, y: 130 - cornerLift };
  for (const [index, y] of [[9, 85], [10, 95], [11, 105], [12, 115]] as const) points[index] = { x: 50, y };
  for (const [index, y] of [[25, 85], [26, 95], [27, 105], [28, 115]] as const) points[index] = { x: 150, y };
  return points;
}

function rotate(points: Point[], degrees: number, centre: Point = { x: 100, y: 100 }): Point[] {
  const angle = (degrees * Math.PI) / 180, cos = Math.cos(angle), sin = Math.sin(angle);
  return points.map((p) => ({ x: centre.x + cos * (p.x - centre.x) - sin * (p.y - centre.y), y: centre.y + sin * (p.x - centre.x) + cos * (p.y - centre.y) }));
}

/** Mirror x → 200 − x and swap the left/right roles of the indices used here. */
function mirror(points: Point[]): Point[] {
  const flipped = points.map((p) => ({ x: 200 - p.x, y: p.y }));
  const swapped = [...flipped];
  for (const [a, b] of [[38, 88], [52, 61], [9, 25], [10, 26], [11, 27], [12, 28]]) {
    swapped[a] = flipped[b]; swapped[b] = flipped[a];
  }
  return swapped;
}

describe('smile', () => {
  it('mouth shape: corner lift and width ratio from the points, invariant to head roll', () => {
    const shape = mouthShape(syntheticFace({ cornerLift: 5, mouthHalfWidth: 25 }));
    expect(shape.widthRatio).toBeCloseTo(1, 6);
    expect(shape.cornerLift).toBeCloseTo(5 / 50, 6);
    expect(shape.opening).toBeCloseTo(4 / 50, 6);
    const rolled = mouthShape(rotate(syntheticFace({ cornerLift: 5, mouthHalfWidth: 25 }), 25));
    expect(rolled.cornerLift).toBeCloseTo(shape.cornerLift, 6);
    expect(rolled.widthRatio).toBeCloseTo(shape.widthRatio, 6);
  });

  it('intensity is monotonic in happy, corner lift and mouth width, and stays in 0..100', () => {
    const base = mouthShape(syntheticFace());
    let previous = -1;
    for (const happy of [0, 0.25, 0.5, 0.75, 1]) {
      const value = smileIntensity(happy, base);
      expect(value).toBeGreaterThan(previous);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(100);
      previous = value;
    }
    const lifts = [-4, 0, 4, 8].map((lift) => smileIntensity(0.3, mouthShape(syntheticFace({ cornerLift: lift }))));
    for (let i = 1; i < lifts.length; i++) expect(lifts[i]).toBeGreaterThan(lifts[i - 1]);
    const widths = [15, 20, 25, 30].map((half) => smileIntensity(0.3, mouthShape(syntheticFace({ mouthHalfWidth: half }))));
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThan(widths[i - 1]);
  });

  it('a broad happy smile passes the threshold, a neutral closed mouth does not', () => {
    expect(smileIntensity(0.95, mouthShape(syntheticFace({ cornerLift: 6, mouthHalfWidth: 26 })))).toBeGreaterThan(SMILE_THRESHOLD);
    expect(smileIntensity(0.02, mouthShape(syntheticFace({ cornerLift: -1, mouthHalfWidth: 18 })))).toBeLessThan(SMILE_THRESHOLD);
    expect(smileIntensity(0.95)).toBeGreaterThan(smileIntensity(0.05));
  });
});

describe('head pose maths', () => {
  it('roll is positive when the image-right eye is lower (clockwise)', () => {
    expect(rollFromEyes({ x: 0, y: 0 }, { x: 10, y: 0 })).toBe(0);
    expect(rollFromEyes({ x: 0, y: 0 }, { x: 10, y: 10 })).toBeCloseTo(45, 9);
  });

  it('FSA-Net outputs are averaged; roll comes from the 5-point eye line', () => {
    const pose = postprocessHeadPose([[10, -4, 99], [20, -6, 99]], [{ x: 0, y: 0 }, { x: 10, y: -10 }]);
    expect(pose.yaw).toBeCloseTo(15, 9);
    expect(pose.pitch).toBeCloseTo(-5, 9);
    expect(pose.roll).toBeCloseTo(-45, 9);
  });

  it('geometric estimate: nose towards the image left ⇒ yaw > 0; mirroring flips yaw and roll, keeps pitch', () => {
    const turned = rotate(syntheticFace({ noseShift: -12 }), 12);
    const pose = geometricHeadPose(turned);
    expect(pose.yaw).toBeGreaterThan(0);
    expect(pose.roll).toBeCloseTo(12, 6);
    const mirrored = geometricHeadPose(mirror(turned));
    expect(mirrored.yaw).toBeCloseTo(-pose.yaw, 6);
    expect(mirrored.roll).toBeCloseTo(-pose.roll, 6);
    expect(mirrored.pitch).toBeCloseTo(pose.pitch, 6);
  });
});
