/**
 * Gender/age heads: FaceRes's landmark-aligned crop and output decoding, the feature vector, the
 * linear heads and their age range, the committed weights file, and the solvers that fit them
 * (scripts/fit-heads.ts). Pure functions, no models.
 */
import { loadConfig } from '../../lambda/config.js';
import {
  agesFromLogAge, applyHeads, checkHeads, DESCRIPTOR_FEATURE_NAME, FACERES_SUMMARY_FEATURE_NAMES, featureWidth, fusedFeatures, FUSED_SCALAR_FEATURE_NAMES,
  GENDER_AGE_FEATURE_NAMES, genderAgeFeatures, MID_FEATURES_FEATURE_NAME, type FittedHeads, type HeadSet,
} from '../../lambda/vision/age-gender-features.js';
import { FITTED_HEADS } from '../../lambda/vision/age-gender-heads.js';
import { ARCFACE_TEMPLATE } from '../../lambda/vision/alignment.js';
import { decodeFaceRes, FACERES_AGE_BINS, FACERES_DESCRIPTOR_SIZE, FACERES_INPUT_SIZE, FACERES_MID_FEATURES_SIZE, faceResAlignment, probabilityLogit } from '../../lambda/vision/faceres.js';
import { decodeGenderAge, GENDER_AGE_OUTPUT_WIDTH } from '../../lambda/vision/genderage.js';
import { applyAffine } from '../../lambda/vision/geometry.js';
import { genderAgeReport } from '../../scripts/evaluation.js';
import {
  choleskyFactor, choleskySolve, classBalancedWeights, fitLogisticRegression, fitWideLogisticRegression, logisticScore, solveLinear, weightedGram,
} from '../../scripts/logistic-regression.js';
import { fitRidge, fitRidgeFromGram, principalComponents, project, targetMoment } from '../../scripts/ridge-regression.js';

describe('FaceRes crop and outputs', () => {
  it('maps the 5 points onto the ArcFace template scaled to 224² and shrunk by the margin about the centre', () => {
    // A face whose points are the template itself, shifted and enlarged 3×: the transform undoes that.
    const landmarks = ARCFACE_TEMPLATE.map((point) => ({ x: 100 + 3 * point.x, y: 50 + 3 * point.y }));
    for (const margin of [1, 1.2]) {
      const transform = faceResAlignment(landmarks, margin);
      landmarks.forEach((point, k) => {
        const mapped = applyAffine(transform, point);
        const scale = FACERES_INPUT_SIZE / (112 * margin);
        expect(mapped.x).toBeCloseTo((ARCFACE_TEMPLATE[k].x - 56) * scale + 112, 6);
        expect(mapped.y).toBeCloseTo((ARCFACE_TEMPLATE[k].y - 56) * scale + 112, 6);
      });
    }
    // margin 1 is ArcFace's framing at twice the size: the eye distance doubles.
    const eyes = [0, 1].map((k) => applyAffine(faceResAlignment(landmarks, 1), landmarks[k]));
    expect(eyes[1].x - eyes[0].x).toBeCloseTo(2 * (ARCFACE_TEMPLATE[1].x - ARCFACE_TEMPLATE[0].x), 6);
  });

  it('splits a batch into per-crop logit, age distribution, descriptor and mid features, and refuses wrong sizes', () => {
    const age = new Float32Array(2 * FACERES_AGE_BINS).map((_, i) => i);
    const descriptor = new Float32Array(2 * FACERES_DESCRIPTOR_SIZE).map((_, i) => i);
    const midFeatures = new Float32Array(2 * FACERES_MID_FEATURES_SIZE).map((_, i) => -i);
    const [first, second] = decodeFaceRes([0.5, 0.8], age, descriptor, midFeatures, 2);
    expect(first.maleLogit).toBeCloseTo(0, 12);
    expect(second.maleLogit).toBeCloseTo(Math.log(4), 6);
    expect(second.ageDistribution[0]).toBe(FACERES_AGE_BINS);
    expect(second.descriptor[0]).toBe(FACERES_DESCRIPTOR_SIZE);
    expect(second.midFeatures[0]).toBe(-FACERES_MID_FEATURES_SIZE);
    expect(first.midFeatures).toHaveLength(FACERES_MID_FEATURES_SIZE);
    expect(Number.isFinite(probabilityLogit(1))).toBe(true);
    expect(Number.isFinite(probabilityLogit(0))).toBe(true);
    expect(() => decodeFaceRes([0.5], age, descriptor, midFeatures, 2)).toThrow(/expected 2 crops/);
    expect(() => decodeFaceRes([0.5, 0.8], age, descriptor, midFeatures.subarray(1), 2)).toThrow(/expected 2 crops/);
  });

  it('decodes genderage: hard age counts pairs, the soft age sums their probabilities', () => {
    const row = new Float32Array(GENDER_AGE_OUTPUT_WIDTH);
    row[0] = 0; row[1] = 2; // male logit 2
    for (let k = 0; k < 100; k++) { row[2 + 2 * k] = 0; row[3 + 2 * k] = k < 30 ? 5 : -5; }
    const decoded = decodeGenderAge(row, 0);
    expect(decoded.gender).toBe('male');
    expect(decoded.maleLogit).toBeCloseTo(2, 6);
    expect(decoded.age).toBe(30);
    expect(decoded.ageExpectation).toBeCloseTo(30 / (1 + Math.exp(-5)) + 70 / (1 + Math.exp(5)), 5);
  });
});

describe('features and heads', () => {
  const genderAge = { gender: 'male' as const, maleProbability: 0.7, maleLogit: 0.8, age: 30, ageExpectation: 29.5 };
  const view = (logit: number, year: number, fill: number) => {
    const ageDistribution = new Float32Array(FACERES_AGE_BINS);
    ageDistribution[year] = 1;
    return {
      maleLogit: logit, ageDistribution,
      descriptor: new Float32Array(FACERES_DESCRIPTOR_SIZE).fill(fill), midFeatures: new Float32Array(FACERES_MID_FEATURES_SIZE).fill(10 * fill),
    };
  };
  const descriptorOnly = [...FUSED_SCALAR_FEATURE_NAMES, DESCRIPTOR_FEATURE_NAME];

  it('builds genderage features, then FaceRes averaged over crops, then the mean descriptor', () => {
    expect(genderAgeFeatures(genderAge)).toEqual([0.8, 29.5, Math.log1p(29.5)]);
    const features = fusedFeatures(genderAge, [view(1, 2, 1), view(3, 50, 3)], descriptorOnly);
    const scalars = GENDER_AGE_FEATURE_NAMES.length + FACERES_SUMMARY_FEATURE_NAMES.length;
    expect(features).toHaveLength(scalars + FACERES_DESCRIPTOR_SIZE);
    // faceResMaleLogit, faceResAge, faceResLogAge, faceResAgeSpread, under 3/13/20/40/60
    expect(Array.from(features.subarray(3, scalars))).toEqual([2, 26, Math.log1p(26), 24, 0.5, 0.5, 0.5, 0.5, 1]);
    expect(features[scalars]).toBe(2);
    expect(features[features.length - 1]).toBe(2);
    expect(() => fusedFeatures(genderAge, [], descriptorOnly)).toThrow();
  });

  it('appends the mean mid features after the descriptor when the feature list names them, and refuses unknown lists', () => {
    const scalars = FUSED_SCALAR_FEATURE_NAMES.length;
    const withMid = fusedFeatures(genderAge, [view(1, 2, 1), view(3, 50, 3)], [...descriptorOnly, MID_FEATURES_FEATURE_NAME]);
    expect(withMid).toHaveLength(scalars + FACERES_DESCRIPTOR_SIZE + FACERES_MID_FEATURES_SIZE);
    expect(withMid[scalars + FACERES_DESCRIPTOR_SIZE - 1]).toBe(2);
    expect(withMid[scalars + FACERES_DESCRIPTOR_SIZE]).toBe(20);
    expect(withMid[withMid.length - 1]).toBe(20);
    expect(Array.from(withMid.subarray(0, scalars + FACERES_DESCRIPTOR_SIZE))).toEqual(Array.from(fusedFeatures(genderAge, [view(1, 2, 1), view(3, 50, 3)], descriptorOnly)));
    expect(() => fusedFeatures(genderAge, [view(1, 2, 1)], [...FUSED_SCALAR_FEATURE_NAMES, MID_FEATURES_FEATURE_NAME, DESCRIPTOR_FEATURE_NAME])).toThrow(/unknown fused feature list/);
    expect(() => fusedFeatures(genderAge, [view(1, 2, 1)], ['x', DESCRIPTOR_FEATURE_NAME])).toThrow(/unknown fused feature list/);
    expect(featureWidth({ ...heads, features: [...descriptorOnly, MID_FEATURES_FEATURE_NAME] })).toBe(scalars + FACERES_DESCRIPTOR_SIZE + FACERES_MID_FEATURES_SIZE);
  });

  const heads: HeadSet = {
    features: ['a', 'b'],
    gender: { weights: [1, -1], bias: 0.5 },
    age: { weights: [0.5, 0], bias: Math.log(31), interval: { low: -0.5, high: 0.4 } },
  };

  it('applies σ(w·x + b) for gender and expm1 for age, with a range around the age', () => {
    const estimate = applyHeads(heads, [0, 1]);
    expect(estimate.maleProbability).toBeCloseTo(1 / (1 + Math.exp(0.5)), 12);
    expect(estimate.gender).toBe('female');
    expect(estimate.age).toBe(30);
    expect(estimate.ageRange).toEqual({ low: Math.round(31 * Math.exp(-0.5) - 1), high: Math.round(31 * Math.exp(0.4) - 1) });
    expect(applyHeads(heads, [1, 0]).gender).toBe('male');
    expect(() => applyHeads(heads, [1])).toThrow(/expects 2 features/);
  });

  it('never gives a negative age or a range that misses its own age', () => {
    for (const logAge of [-3, -0.2, 0, 0.1, 1, 2, 3, 4.6]) {
      const { age, ageRange } = agesFromLogAge(logAge, { low: -0.3, high: 0.3 });
      expect(age).toBeGreaterThanOrEqual(0);
      expect(ageRange.low).toBeGreaterThanOrEqual(0);
      expect(ageRange.low).toBeLessThanOrEqual(age);
      expect(ageRange.high).toBeGreaterThanOrEqual(age);
    }
  });

  it('rejects a malformed heads file', () => {
    const scalarHead = { weights: FUSED_SCALAR_FEATURE_NAMES.map(() => 0.1), bias: 0 };
    const fused: HeadSet = { features: FUSED_SCALAR_FEATURE_NAMES, faceResMargins: [1], gender: scalarHead, age: { ...scalarHead, interval: { low: -0.2, high: 0.2 } } };
    const good: FittedHeads = { about: {}, fused, genderage: heads };
    expect(checkHeads(good)).toBe(good);
    expect(() => checkHeads({ ...good, fused: { ...fused, features: [...FUSED_SCALAR_FEATURE_NAMES.slice(1), 'x'] } })).toThrow(/unknown fused feature list/);
    expect(() => checkHeads({ ...good, genderage: { ...heads, gender: { weights: [1], bias: 0 } } })).toThrow(/genderage heads do not match/);
    expect(() => checkHeads({ ...good, fused: { ...good.fused, faceResMargins: [] } })).toThrow(/no FaceRes crop margin/);
    expect(() => checkHeads({ ...good, genderage: { ...heads, age: { ...heads.age, interval: { low: 0.1, high: 0.2 } } } })).toThrow(/contain 0/);
  });

  it('ships fitted weights with their provenance and licence, for both gender models', () => {
    const blockWidth = (FITTED_HEADS.fused.features.includes(MID_FEATURES_FEATURE_NAME) ? FACERES_MID_FEATURES_SIZE : 0) + FACERES_DESCRIPTOR_SIZE;
    expect(featureWidth(FITTED_HEADS.fused)).toBe(GENDER_AGE_FEATURE_NAMES.length + FACERES_SUMMARY_FEATURE_NAMES.length + blockWidth);
    expect(FITTED_HEADS.fused.features).toContain(DESCRIPTOR_FEATURE_NAME);
    expect(FITTED_HEADS.fused.faceResMargins!.length).toBeLessThanOrEqual(2); // no more FaceRes crops per face than before
    expect(FITTED_HEADS.genderage.features).toEqual([...GENDER_AGE_FEATURE_NAMES]);
    expect(FITTED_HEADS.about.trainingDataSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(String(FITTED_HEADS.about.licence)).toMatch(/non-commercial research/);
    expect(String(FITTED_HEADS.about.featureExtractor)).toMatch(/faceres/);
  });

  it('keeps FACEKIT_GENDER_MODEL: fused by default, genderage alone on request, anything else refused', () => {
    expect(loadConfig({}).genderModel).toBe('fused');
    expect(loadConfig({}).faceModelVersion).toMatch(/faceres/);
    expect(loadConfig({ FACEKIT_GENDER_MODEL: 'genderage' }).genderModel).toBe('genderage');
    expect(loadConfig({ FACEKIT_GENDER_MODEL: 'genderage' }).faceModelVersion).not.toMatch(/faceres/);
    expect(() => loadConfig({ FACEKIT_GENDER_MODEL: 'faceres' })).toThrow(/FACEKIT_GENDER_MODEL must be one of fused, genderage/);
  });
});

describe('per-band gender/age figures', () => {
  it('counts accuracy, MAE, range coverage and width per band, and faces not found apart', () => {
    const outcome = (age: number, gender: 'male' | 'female', said?: { gender: 'male' | 'female'; age: number; low: number; high: number }) => ({
      truth: { gender, age },
      predicted: said && { gender: { value: said.gender, maleProbability: 0.5 }, age: said.age, ageRange: { low: said.low, high: said.high } },
    });
    const report = genderAgeReport(5, [
      outcome(1, 'male', { gender: 'male', age: 2, low: 0, high: 4 }),
      outcome(8, 'female', { gender: 'male', age: 10, low: 9, high: 12 }),
      outcome(25, 'female', { gender: 'female', age: 30, low: 22, high: 38 }),
      outcome(70, 'male', { gender: 'male', age: 60, low: 55, high: 68 }),
      outcome(45, 'male'),
    ]);
    expect(report.noFace).toBe(1);
    expect(report.all).toEqual({ faces: 4, genderAccuracy: 0.75, ageMeanAbsoluteError: (1 + 2 + 5 + 10) / 4, ageRangeCoverage: 0.5, ageRangeMeanWidth: (4 + 3 + 16 + 13) / 4 });
    expect(report.children.genderAccuracy).toBe(0.5);
    expect(report.adults.faces).toBe(2);
    expect(report.bands['0-2']).toMatchObject({ faces: 1, genderAccuracy: 1, ageMeanAbsoluteError: 1 });
    expect(report.bands['60+']).toMatchObject({ faces: 1, ageRangeCoverage: 0 });
    expect(report.bands['40-59'].faces).toBe(0);
    expect(report.bands['40-59'].genderAccuracy).toBeNaN();
  });
});

describe('solvers (fit the heads)', () => {
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

  it('logistic regression reaches the optimum: the penalised gradient is zero', () => {
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

  it('logistic regression recovers the generating weights from many samples', () => {
    const features: number[][] = [];
    const labels: number[] = [];
    for (let i = -10; i <= 10; i++) for (let j = -10; j <= 10; j++) {
      const x = [i / 5, j / 5];
      features.push(x);
      labels.push(1 / (1 + Math.exp(-(2 * x[0] - x[1] + 0.5))));
    }
    const { weights } = fitLogisticRegression(features, labels, { l2: 0 });
    expect(weights[0]).toBeCloseTo(2, 6);
    expect(weights[1]).toBeCloseTo(-1, 6);
    expect(weights[2]).toBeCloseTo(0.5, 6);
    expect(() => fitLogisticRegression([[1]], [1, 0])).toThrow();
  });

  it('ridge regression: exact without penalty, and satisfies the penalised normal equations', () => {
    const features = [[0, 1], [1, 0], [2, 3], [3, 1], [4, 4], [5, 2]];
    const targets = features.map(([a, b]) => 3 * a - 2 * b + 7);
    const exact = fitRidge(features, targets, { l2: 0 });
    [3, -2, 7].forEach((value, k) => expect(exact[k]).toBeCloseTo(value, 9));
    const l2 = 2;
    const fitted = fitRidge(features, targets, { l2 });
    // Gradient of Σ (w·x + b − y)² + l2·|w|² vanishes.
    const residuals = features.map((row, i) => fitted[0] * row[0] + fitted[1] * row[1] + fitted[2] - targets[i]);
    expect(residuals.reduce((sum, value) => sum + value, 0)).toBeCloseTo(0, 9);
    for (let k = 0; k < 2; k++) expect(features.reduce((sum, row, i) => sum + residuals[i] * row[k], 0) + l2 * fitted[k]).toBeCloseTo(0, 9);
    expect(() => fitRidge([], [], { l2 })).toThrow();
  });

  // A fixed pseudo-random problem (Park-Miller generator): 300 samples, 12 features, noisy labels.
  let seed = 7;
  const uniform = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  const wideFeatures = Array.from({ length: 300 }, () => Array.from({ length: 12 }, uniform));
  const wideLabels = wideFeatures.map((x) => (4 * x[0] + 2 * x[1] - x[5] + uniform() > 0 ? 1 : 0));

  it('Cholesky factor and solve agree with Gaussian elimination; the Gram matrix carries the bias column', () => {
    const matrix = [[4, 2, 0.4], [2, 5, 1], [0.4, 1, 3]];
    const vector = [1, -2, 0.5];
    const solution = choleskySolve(choleskyFactor(Float64Array.from(matrix.flat()), 3), vector);
    solveLinear(matrix, vector).forEach((value, k) => expect(solution[k]).toBeCloseTo(value, 12));
    expect(() => choleskyFactor(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
    const gram = weightedGram([[1, 2], [3, 4]], [1, 0.5]);
    expect(Array.from(gram)).toEqual([1 + 4.5, 2 + 6, 1 + 1.5, 2 + 6, 4 + 8, 2 + 2, 1 + 1.5, 2 + 2, 1.5]);
  });

  it('wide logistic regression (fixed-curvature steps) reaches the Newton solution, warm start or not', () => {
    const sampleWeights = classBalancedWeights(wideLabels);
    const newton = fitLogisticRegression(wideFeatures, wideLabels, { l2: 2, sampleWeights });
    const wide = fitWideLogisticRegression(wideFeatures, wideLabels, { l2: 2, sampleWeights, tolerance: 1e-11 });
    newton.weights.forEach((value, k) => expect(wide.weights[k]).toBeCloseTo(value, 8));
    const warm = fitWideLogisticRegression(wideFeatures, wideLabels, { l2: 2, sampleWeights, tolerance: 1e-11, initial: newton.weights.map((w) => w * 0.9), gram: weightedGram(wideFeatures, sampleWeights) });
    newton.weights.forEach((value, k) => expect(warm.weights[k]).toBeCloseTo(value, 8));
    expect(warm.iterations).toBeLessThan(wide.iterations);
  });

  it('ridge from a Gram matrix equals the closed form with a centred, unpenalised intercept', () => {
    const targets = wideFeatures.map((x, i) => 3 * x[0] - x[3] + 0.1 * wideLabels[i] + 2);
    const direct = fitRidge(wideFeatures, targets, { l2: 5 });
    const fromGram = fitRidgeFromGram(weightedGram(wideFeatures, wideFeatures.map(() => 1)), targetMoment(wideFeatures, targets), 5);
    direct.forEach((value, k) => expect(fromGram[k]).toBeCloseTo(value, 6));
  });

  it('principal components: finds the axis of largest variance, in order, with a fixed sign', () => {
    // Points spread along (1, 1)/√2 (variance large) and slightly along (1, −1)/√2.
    const rows: number[][] = [];
    for (let i = -20; i <= 20; i++) for (const j of [-1, 1]) rows.push([5 + i + j * 0.3, -2 + i - j * 0.3]);
    const pca = principalComponents(rows, 2);
    expect(pca.components[0][0]).toBeCloseTo(Math.SQRT1_2, 9);
    expect(pca.components[0][1]).toBeCloseTo(Math.SQRT1_2, 9);
    expect(Math.abs(pca.components[1][0])).toBeCloseTo(Math.SQRT1_2, 9);
    expect(pca.variances[0]).toBeGreaterThan(pca.variances[1]);
    expect(project(pca, [5, -2])[0]).toBeCloseTo(0, 9);
    expect(project(pca, [6, -1])[0]).toBeCloseTo(Math.SQRT2, 9);
  });
});
