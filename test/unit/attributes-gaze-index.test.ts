import { applyAffine } from '../../lambda/vision/geometry.js';
import {
  EYE_CROP_SCALE, IRIS_INPUT_SIZE, decodeEye, eyeCropTransform, eyeRegions, gazeVectorInEyeFrame, postprocessGaze, rotateToImage,
  type EyeRegion,
} from '../../lambda/vision/attributes/gaze.js';
import {
  attributeModelFiles, attributesNeedingLandmarks106, computeAttributes, eyeStateDistribution, glassesDistribution, modelsNeeded,
  mouthDistribution,
} from '../../lambda/vision/attributes/index.js';
import type { RgbImage } from '../../lambda/image/types.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { warmAttributeModels } from '../../lambda/vision/attributes/index.js';

const EYE_WIDTH_IN_CROP = IRIS_INPUT_SIZE / EYE_CROP_SCALE;

/** 76×3 model output: a lid ellipse centred in the crop and the iris offset by (dx, dy). */
function modelOutput(dx: number, dy = 0): Float32Array {
  const values = new Float32Array(76 * 3);
  const half = EYE_WIDTH_IN_CROP / 2, centre = IRIS_INPUT_SIZE / 2;
  for (let i = 0; i <= 8; i++) { // lower lid, corner 0 → corner 8
    const t = Math.PI - (i / 8) * Math.PI;
    values[i * 3] = centre + half * Math.cos(t); values[i * 3 + 1] = centre + 0.35 * half * Math.sin(t);
  }
  for (let i = 9; i <= 15; i++) { // upper lid
    const t = Math.PI + ((i - 8) / 8) * Math.PI;
    values[i * 3] = centre + half * Math.cos(t); values[i * 3 + 1] = centre + 0.35 * half * Math.sin(t);
  }
  values[71 * 3] = centre + dx; values[71 * 3 + 1] = centre + dy;
  return values;
}

const leftEye: EyeRegion = { center: { x: 80, y: 100 }, width: 30, angle: 0, mirror: false };
const rightEye: EyeRegion = { center: { x: 140, y: 100 }, width: 30, angle: 0, mirror: true };

describe('eye crops', () => {
  it('centres the eye, scales 2.3× the eye width to 64 px, levels the eye line', () => {
    const eye: EyeRegion = { center: { x: 50, y: 40 }, width: 20, angle: Math.PI / 6, mirror: false };
    const transform = eyeCropTransform(eye);
    const centre = applyAffine(transform, { x: 49.5, y: 39.5 });
    expect(centre.x).toBeCloseTo(31.5, 6);
    expect(centre.y).toBeCloseTo(31.5, 6);
    // A point along the eye line stays on the crop's horizontal centre line.
    const along = applyAffine(transform, { x: 49.5 + 10 * Math.cos(Math.PI / 6), y: 39.5 + 10 * Math.sin(Math.PI / 6) });
    expect(along.y).toBeCloseTo(31.5, 6);
    expect(along.x - 31.5).toBeCloseTo((10 * 64) / (2.3 * 20), 6);
  });

  it('mirrors the image-right eye', () => {
    const transform = eyeCropTransform(rightEye);
    expect(applyAffine(transform, { x: 149.5, y: 99.5 }).x).toBeLessThan(31.5);
  });

  it('takes corners from the 106 points when present, else estimates from the 5 points', () => {
    const landmarks5 = [{ x: 80, y: 100 }, { x: 140, y: 100 }, { x: 110, y: 130 }, { x: 90, y: 150 }, { x: 130, y: 150 }];
    const [left, right] = eyeRegions({ box: { x: 50, y: 50, width: 120, height: 140 }, landmarks5 });
    expect(left.width).toBeCloseTo(0.47 * 60, 6);
    expect(right.mirror).toBe(true);
    const points = Array.from({ length: 106 }, () => ({ x: 0, y: 0 }));
    points[35] = { x: 66, y: 101 }; points[39] = { x: 94, y: 99 }; points[89] = { x: 126, y: 99 }; points[93] = { x: 154, y: 101 };
    const [left106] = eyeRegions({ box: { x: 50, y: 50, width: 120, height: 140 }, landmarks5, landmarks106: points });
    expect(left106.center).toEqual({ x: 80, y: 100 });
    expect(left106.width).toBeCloseTo(Math.hypot(28, 2), 6);
  });
});

describe('gaze vector', () => {
  it('is (0, 0, 1) for a centred iris and unit length otherwise', () => {
    const lid = [{ x: -10, y: 0 }, { x: 10, y: 0 }, { x: 0, y: -3 }, { x: 0, y: 3 }];
    expect(gazeVectorInEyeFrame({ x: 0, y: 0 }, lid, 20)).toEqual({ x: 0, y: 0, z: 1 });
    const vector = gazeVectorInEyeFrame({ x: 3, y: -2 }, lid, 20);
    expect(vector.x).toBeGreaterThan(0);
    expect(vector.y).toBeLessThan(0);
    expect(Math.hypot(vector.x, vector.y, vector.z)).toBeCloseTo(1, 12);
    const extreme = gazeVectorInEyeFrame({ x: 50, y: 0 }, lid, 20);
    expect(extreme.z).toBeGreaterThan(0);
  });

  it('rotates back into image axes by the eye-line angle', () => {
    const rotated = rotateToImage({ x: 0.5, y: 0, z: Math.sqrt(0.75) }, Math.PI / 2);
    expect(rotated.x).toBeCloseTo(0, 12);
    expect(rotated.y).toBeCloseTo(0.5, 12);
  });

  it('decodes the iris position in image pixels, un-mirroring the right eye', () => {
    const output = modelOutput(4);
    const left = decodeEye(output, leftEye);
    const right = decodeEye(output, rightEye);
    const pixelsPerCropUnit = (EYE_CROP_SCALE * 30) / IRIS_INPUT_SIZE;
    expect(left.position.x).toBeCloseTo(80 + 4 * pixelsPerCropUnit, 4);
    expect(left.position.y).toBeCloseTo(100, 4);
    expect(right.position.x).toBeCloseTo(140 - 4 * pixelsPerCropUnit, 4);
    // Same crop output, mirrored eye ⇒ mirrored direction.
    expect(left.vector.x).toBeGreaterThan(0);
    expect(right.vector.x).toBeCloseTo(-left.vector.x, 9);
    expect(right.vector.y).toBeCloseTo(left.vector.y, 9);
  });

  it('pairs eyes per face and checks the output size', () => {
    const output = new Float32Array(2 * 228);
    output.set(modelOutput(0), 0); output.set(modelOutput(0), 228);
    const [face] = postprocessGaze(output, [leftEye, rightEye]);
    expect(face.left.vector.z).toBeCloseTo(1, 6);
    expect(() => postprocessGaze(new Float32Array(228), [leftEye, rightEye])).toThrow();
  });
});

describe('attribute selection', () => {
  it('runs no model for blur alone, and each model only for the attributes needing it', () => {
    expect(modelsNeeded(new Set(['blur']))).toEqual(new Set());
    expect(modelsNeeded(new Set(['smile', 'emotion']))).toEqual(new Set(['emotion']));
    expect(modelsNeeded(new Set(['mask', 'glasses', 'eyeStatus', 'mouthStatus']))).toEqual(new Set(['faceAttributes']));
    expect(modelsNeeded(new Set(['quality']))).toEqual(new Set(['headPoseFsanet1x1', 'headPoseFsanetVar']));
    expect(attributeModelFiles(new Set(['headPose']))).toEqual(['headpose_fsanet_1x1.onnx', 'headpose_fsanet_var.onnx']);
    expect(attributeModelFiles()).toHaveLength(6);
  });

  it('asks for the 106 points only for smile and eye gaze', () => {
    expect(attributesNeedingLandmarks106(new Set(['smile']))).toBe(true);
    expect(attributesNeedingLandmarks106(new Set(['eyeGaze', 'blur']))).toBe(true);
    expect(attributesNeedingLandmarks106(new Set(['emotion', 'headPose', 'mask']))).toBe(false);
  });

  it('computes blur from pixels without touching any model file', async () => {
    const data = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
    const image: RgbImage = { data, width: 64, height: 64 };
    const face = { box: { x: 8, y: 8, width: 48, height: 48 }, landmarks5: [] };
    const [attributes] = await computeAttributes(image, [face], new Set(['blur']), { modelDir: '/nonexistent', intraOpThreads: 1 });
    expect(Object.keys(attributes)).toEqual(['blur', 'brightness']);
    expect(attributes.blur!.value).toBeGreaterThanOrEqual(0);
    expect(attributes.blur!.value).toBeLessThanOrEqual(1);
    expect(attributes.brightness).toBeGreaterThanOrEqual(0);
    expect(attributes.brightness).toBeLessThanOrEqual(100);
    await expect(computeAttributes(image, [face], new Set(['emotion']), { modelDir: '/nonexistent', intraOpThreads: 1 })).rejects.toThrow(/cannot be read/);
    expect(await computeAttributes(image, [], new Set(['emotion']), { modelDir: '/nonexistent', intraOpThreads: 1 })).toEqual([]);
  });
});

describe('5-head mapping', () => {
  const result = { mask: 0.2, glasses: [0.1, 0.8, 0.1], mouth: [0.5, 0.25, 0.25], eyes: [0.9, 0.06, 0.04] };
  it('mouth status gives the mask its share and splits the rest by the mouth head', () => {
    const mouth = mouthDistribution(result);
    expect(mouth.mask).toBeCloseTo(0.2);
    expect(mouth.closed).toBeCloseTo(0.4);
    expect(mouth.open).toBeCloseTo(0.2);
    expect(mouth.occluded).toBeCloseTo(0.2);
    expect(mouth.mask + mouth.open + mouth.closed + mouth.occluded).toBeCloseTo(1, 12);
  });

  it('eye state and glasses distributions follow the verified indices', () => {
    expect(eyeStateDistribution(result).open).toBeCloseTo(0.9);
    expect(glassesDistribution(result).eyeglasses).toBeCloseTo(0.8);
  });
});

describe('start-up warming', () => {
  it('rejects a missing or corrupt model file', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'facekit-attributes-'));
    writeFileSync(path.join(folder, 'human_emotion_fer7.onnx'), 'not a model');
    await expect(warmAttributeModels({ modelDir: folder, intraOpThreads: 1 }, new Set(['emotion']))).rejects.toThrow(/not a valid ONNX model/);
    await expect(warmAttributeModels({ modelDir: folder, intraOpThreads: 1 }, new Set(['liveness']))).rejects.toThrow(/cannot be read/);
    await expect(warmAttributeModels({ modelDir: folder, intraOpThreads: 1 }, new Set(['blur']))).resolves.toBeUndefined();
  });
});
