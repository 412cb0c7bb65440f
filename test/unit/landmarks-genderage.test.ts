import { applyAffine } from '../../lambda/vision/geometry.js';
import { cropAffine, decodeLandmarks, firstPassCrop, LANDMARK_COUNT, LANDMARK_INPUT_SIZE, secondPassCrop } from '../../lambda/vision/landmarks106.js';
import { decodeGenderAge } from '../../lambda/vision/genderage.js';

describe('106-point crop recipe', () => {
  test('pass 1: square around the box centre moved down 5 % of the height, side 1.1·max(w, h)', () => {
    expect(firstPassCrop({ x: 100, y: 200, width: 80, height: 100 })).toEqual({ centreX: 140, centreY: 255, side: 110.00000000000001 });
  });

  test('pass 2: square around the points, side 1.2·max extent', () => {
    const crop = secondPassCrop([{ x: 10, y: 20 }, { x: 110, y: 60 }, { x: 50, y: 100 }]);
    expect(crop).toEqual({ centreX: 60, centreY: 60, side: 120 });
  });

  test('cropAffine maps the crop square onto the 112×112 input', () => {
    const toCrop = cropAffine({ centreX: 60, centreY: 60, side: 120 });
    expect(applyAffine(toCrop, { x: 0, y: 0 })).toEqual({ x: 0, y: 0 });
    const far = applyAffine(toCrop, { x: 120, y: 120 });
    expect(far.x).toBeCloseTo(LANDMARK_INPUT_SIZE, 9);
    expect(far.y).toBeCloseTo(LANDMARK_INPUT_SIZE, 9);
  });

  test('decodeLandmarks maps 0..1 crop coordinates back through the inverse transform', () => {
    const toCrop = cropAffine({ centreX: 500, centreY: 300, side: 224 });
    const output = new Float32Array(2 * LANDMARK_COUNT * 2);
    output[LANDMARK_COUNT * 2 + 0] = 0.5; // face 1, point 0 at the crop centre
    output[LANDMARK_COUNT * 2 + 1] = 0.5;
    output[LANDMARK_COUNT * 2 + 2] = 0; // face 1, point 1 at the crop's top-left corner
    output[LANDMARK_COUNT * 2 + 3] = 0;
    const points = decodeLandmarks(output, 1, toCrop);
    expect(points).toHaveLength(LANDMARK_COUNT);
    expect(points[0].x).toBeCloseTo(500, 9);
    expect(points[0].y).toBeCloseTo(300, 9);
    expect(points[1].x).toBeCloseTo(388, 9);
    expect(points[1].y).toBeCloseTo(188, 9);
  });
});

describe('gender/age decoding (fc1: 2 gender logits, then 100 binary age pairs)', () => {
  function row(femaleLogit: number, maleLogit: number, olderPairs: number): number[] {
    const values = [femaleLogit, maleLogit];
    for (let k = 0; k < 100; k++) values.push(k < olderPairs ? 0 : 1, k < olderPairs ? 1 : 0);
    return values;
  }

  test('gender is the argmax (index 1 = male) and age counts the "older" pairs', () => {
    const output = new Float32Array([...row(2, -1, 31), ...row(-3, 4, 67)]);
    const female = decodeGenderAge(output, 0);
    expect(female.gender).toBe('female');
    expect(female.age).toBe(31);
    expect(female.maleProbability).toBeCloseTo(1 / (1 + Math.exp(3)), 9);
    expect(female.maleLogit).toBe(-3);
    const male = decodeGenderAge(output, 1);
    expect(male.gender).toBe('male');
    expect(male.age).toBe(67);
  });
});
