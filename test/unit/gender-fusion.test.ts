/**
 * Gender fusion: FaceRes pre/post-processing, the fused score, and the logistic regression that
 * fits its weights (scripts/fit-gender-fusion.ts). Pure functions, no models.
 */
import { loadConfig } from '../../lambda/config.js';
import type { RgbImage } from '../../lambda/image/types.js';
import { FACERES_CROP_SCALES, FACERES_INPUT_SIZE, faceResCropTransform, faceResMaleLogits, preprocessFaceRes } from '../../lambda/vision/faceres.js';
import { applyAffine } from '../../lambda/vision/geometry.js';
import { fuseGender, GENDER_FUSION_WEIGHTS } from '../../lambda/vision/gender-fusion.js';
import { classBalancedWeights, fitLogisticRegression, logisticScore, solveLinear } from '../../scripts/logistic-regression.js';

const box = { x: 40, y: 30, width: 60, height: 80 };

describe('FaceRes crops', () => {
  it('maps a square of scale × the larger box side, centred on the box, onto 224×224', () => {
    for (const scale of [1, 1.3]) {
      const transform = faceResCropTransform(box, scale);
      const half = (scale * 80) / 2;
      // Pixel-edge corners of the square land on the crop's edges (−0.5 and 223.5 in pixel centres).
      const topLeft = applyAffine(transform, { x: 70 - half - 0.5, y: 70 - half - 0.5 });
      const bottomRight = applyAffine(transform, { x: 70 + half - 0.5, y: 70 + half - 0.5 });
      expect(topLeft.x).toBeCloseTo(-0.5, 9);
      expect(topLeft.y).toBeCloseTo(-0.5, 9);
      expect(bottomRight.x).toBeCloseTo(FACERES_INPUT_SIZE - 0.5, 9);
      expect(bottomRight.y).toBeCloseTo(FACERES_INPUT_SIZE - 0.5, 9);
    }
  });

  it('lays out every face at the first scale, then every face at the next; RGB 0..255, black outside', () => {
    const width = 200, height = 200;
    const data = Buffer.alloc(width * height * 3);
    for (let i = 0; i < width * height; i++) data.set([200, 100, 50], i * 3);
    const image: RgbImage = { data, width, height };
    const faces = [box, { x: 170, y: 170, width: 30, height: 30 }];
    const batch = preprocessFaceRes(image, faces);
    const plane = FACERES_INPUT_SIZE * FACERES_INPUT_SIZE;
    expect(batch.length).toBe(FACERES_CROP_SCALES.length * faces.length * 3 * plane);
    const centre = (slot: number, channel: number) => batch[slot * 3 * plane + channel * plane + (FACERES_INPUT_SIZE / 2) * FACERES_INPUT_SIZE + FACERES_INPUT_SIZE / 2];
    for (let slot = 0; slot < 4; slot++) {
      [200, 100, 50].forEach((value, channel) => expect(centre(slot, channel)).toBeCloseTo(value, 3));
    }
    // Slot 3 = second face at 1.3×: its crop runs past the image corner, which reads as zeros.
    expect(batch[3 * 3 * plane + plane - 1]).toBe(0);
  });

  it('turns sigmoid outputs into male logits averaged over the views', () => {
    // Two faces, two views: face 0 → p = 0.5 and 0.8; face 1 → p = 0.1 and 0.1.
    const logits = faceResMaleLogits(new Float32Array([0.5, 0.1, 0.8, 0.1]), 2, 2);
    expect(logits[0]).toBeCloseTo((0 + Math.log(4)) / 2, 6);
    expect(logits[1]).toBeCloseTo(Math.log(1 / 9), 6);
    expect(Number.isFinite(faceResMaleLogits([1], 1, 1)[0])).toBe(true);
    expect(Number.isFinite(faceResMaleLogits([0], 1, 1)[0])).toBe(true);
    expect(() => faceResMaleLogits([0.5, 0.5, 0.5], 2, 2)).toThrow(/expected 4/);
  });
});

describe('fused gender', () => {
  it('is σ(w·logits + b) with the fitted weights, male above 0', () => {
    const { genderAge, faceRes, bias } = GENDER_FUSION_WEIGHTS;
    const fused = fuseGender(1, 2);
    expect(fused.maleProbability).toBeCloseTo(1 / (1 + Math.exp(-(genderAge + 2 * faceRes + bias))), 12);
    expect(fused.gender).toBe(fused.maleProbability > 0.5 ? 'male' : 'female');
    expect(fuseGender(0, 0, { genderAge: 1, faceRes: 1, bias: 0.1 }).gender).toBe('male');
    expect(fuseGender(0, 0, { genderAge: 1, faceRes: 1, bias: -0.1 }).gender).toBe('female');
  });

  it('has fitted weights that agree in sign with both models (a sanity check on the fit)', () => {
    expect(GENDER_FUSION_WEIGHTS.genderAge).toBeGreaterThan(0);
    expect(GENDER_FUSION_WEIGHTS.faceRes).toBeGreaterThan(0);
    expect(Number.isFinite(GENDER_FUSION_WEIGHTS.bias)).toBe(true);
  });

  it('is the default, and FACEKIT_GENDER_MODEL chooses genderage alone or refuses an unknown value', () => {
    expect(loadConfig({}).genderModel).toBe('fused');
    expect(loadConfig({}).faceModelVersion).toMatch(/faceres/);
    expect(loadConfig({ FACEKIT_GENDER_MODEL: 'genderage' }).genderModel).toBe('genderage');
    expect(loadConfig({ FACEKIT_GENDER_MODEL: 'genderage' }).faceModelVersion).not.toMatch(/faceres/);
    expect(() => loadConfig({ FACEKIT_GENDER_MODEL: 'faceres' })).toThrow(/FACEKIT_GENDER_MODEL must be one of fused, genderage/);
  });
});

describe('logistic regression (fits the fusion)', () => {
  it('solves small linear systems', () => {
    const solution = solveLinear([[4, 1], [1, 3]], [1, 2]);
    expect(solution[0]).toBeCloseTo(1 / 11, 12);
    expect(solution[1]).toBeCloseTo(7 / 11, 12);
    expect(() => solveLinear([[1, 2], [2, 4]], [1, 2])).toThrow(/singular/);
  });

  it('balances classes so each class weighs half', () => {
    const weights = classBalancedWeights([1, 1, 1, 0]);
    expect(weights[0] * 3).toBeCloseTo(2, 12);
    expect(weights[3]).toBeCloseTo(2, 12);
    expect(() => classBalancedWeights([1, 1])).toThrow();
  });

  it('reaches the optimum: the penalised gradient is zero', () => {
    // Overlapping classes along x (not separable), so the unpenalised optimum is finite too.
    const features = [[-2], [-1], [-0.5], [0], [0.5], [1], [2], [-1.5], [1.5], [0.2]];
    const labels = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1];
    const sampleWeights = labels.map((label) => (label ? 1 : 2));
    const l2 = 0.5;
    const { weights } = fitLogisticRegression(features, labels, { l2, sampleWeights });
    let gradientWeight = l2 * weights[0], gradientBias = 0;
    features.forEach((row, i) => {
      const residual = sampleWeights[i] * (1 / (1 + Math.exp(-logisticScore(weights, row))) - labels[i]);
      gradientWeight += residual * row[0];
      gradientBias += residual;
    });
    expect(Math.abs(gradientWeight)).toBeLessThan(1e-9);
    expect(Math.abs(gradientBias)).toBeLessThan(1e-9);
    expect(weights[0]).toBeGreaterThan(0);
  });

  it('recovers the generating weights from many samples', () => {
    // Deterministic samples of P(y=1|x) = σ(2·x₁ − x₂ + 0.5): fractional labels are allowed by the loss.
    const features: number[][] = [];
    const labels: number[] = [];
    for (let i = -10; i <= 10; i++) {
      for (let j = -10; j <= 10; j++) {
        const x = [i / 5, j / 5];
        features.push(x);
        labels.push(1 / (1 + Math.exp(-(2 * x[0] - x[1] + 0.5))));
      }
    }
    const { weights } = fitLogisticRegression(features, labels, { l2: 0 });
    expect(weights[0]).toBeCloseTo(2, 6);
    expect(weights[1]).toBeCloseTo(-1, 6);
    expect(weights[2]).toBeCloseTo(0.5, 6);
  });

  it('refuses mismatched inputs', () => {
    expect(() => fitLogisticRegression([[1]], [1, 0])).toThrow();
    expect(() => fitLogisticRegression([], [])).toThrow();
  });
});
