/**
 * Ridge regression (closed form, unpenalised intercept) and principal components, the two other
 * pieces the gender/age head fit needs (scripts/fit-heads.ts) besides the logistic regression.
 * Small eigen-decompositions are ml-matrix's (a JAMA port: Householder tridiagonalisation + QL),
 * deterministic for a given input.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { choleskyFactor, choleskySolve, solveLinear } from './logistic-regression.js';

export interface RidgeOptions {
  /** L2 penalty on the weights (on the sum of squared errors). */
  readonly l2: number;
}

/** Weights (one per feature, then the intercept) minimising Σ (w·x + b − y)² + l2·|w|². */
export function fitRidge(features: readonly ArrayLike<number>[], targets: readonly number[], { l2 }: RidgeOptions): number[] {
  if (features.length !== targets.length || features.length === 0) throw new Error('features and targets must be non-empty and of one length');
  const dimension = features[0].length;
  const means = new Float64Array(dimension);
  for (const row of features) for (let k = 0; k < dimension; k++) means[k] += row[k] / features.length;
  const targetMean = targets.reduce((sum, value) => sum + value, 0) / targets.length;
  const gram = new Float64Array(dimension * dimension);
  const moment = new Array<number>(dimension).fill(0);
  const centred = new Float64Array(dimension);
  features.forEach((row, sample) => {
    for (let k = 0; k < dimension; k++) centred[k] = row[k] - means[k];
    const target = targets[sample] - targetMean;
    for (let i = 0; i < dimension; i++) {
      moment[i] += centred[i] * target;
      const offset = i * dimension;
      for (let j = i; j < dimension; j++) gram[offset + j] += centred[i] * centred[j];
    }
  });
  const system = Array.from({ length: dimension }, (_, i) => Array.from({ length: dimension }, (_, j) => (j >= i ? gram[i * dimension + j] : gram[j * dimension + i]) + (i === j ? l2 : 0)));
  const weights = solveLinear(system, moment);
  const intercept = targetMean - weights.reduce((sum, weight, k) => sum + weight * means[k], 0);
  return [...weights, intercept];
}

export interface PrincipalComponents {
  readonly mean: Float64Array;
  /** `count` unit vectors, largest variance first. */
  readonly components: Float64Array[];
  readonly variances: number[];
}

/**
 * The `count` leading principal components of the rows: covariance eigenvectors by subspace
 * iteration (Golub & Van Loan, "Matrix Computations", §8.2.4) with a Rayleigh-Ritz step, started
 * from a fixed pseudo-random basis (deterministic). A full 1024² eigen-decomposition took minutes
 * on a shared CPU; the leading 128 take seconds. Sign fixed so each component has a positive sum.
 */
export function principalComponents(rows: readonly ArrayLike<number>[], count: number, iterations = 10): PrincipalComponents {
  const dimension = rows[0].length;
  const mean = new Float64Array(dimension);
  for (const row of rows) for (let k = 0; k < dimension; k++) mean[k] += row[k] / rows.length;
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (const row of rows) {
    for (let k = 0; k < dimension; k++) centred[k] = row[k] - mean[k];
    for (let i = 0; i < dimension; i++) {
      const value = centred[i];
      const offset = i * dimension;
      for (let j = i; j < dimension; j++) covariance[offset + j] += value * centred[j];
    }
  }
  for (let i = 0; i < dimension; i++) for (let j = i; j < dimension; j++) {
    covariance[i * dimension + j] /= rows.length - 1;
    covariance[j * dimension + i] = covariance[i * dimension + j];
  }
  // Basis: `count` columns stored as rows (basis[c] is a dimension-long vector).
  let seed = 12345;
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  let basis: Float64Array[] = Array.from({ length: count }, () => Float64Array.from({ length: dimension }, next));
  const multiply = (vectors: Float64Array[]): Float64Array[] => vectors.map((vector) => {
    const product = new Float64Array(dimension);
    for (let i = 0; i < dimension; i++) {
      let sum = 0;
      const offset = i * dimension;
      for (let j = 0; j < dimension; j++) sum += covariance[offset + j] * vector[j];
      product[i] = sum;
    }
    return product;
  });
  const orthonormalise = (vectors: Float64Array[]): Float64Array[] => {
    // Modified Gram-Schmidt, twice for stability.
    for (let pass = 0; pass < 2; pass++) vectors.forEach((vector, c) => {
      for (let previous = 0; previous < c; previous++) {
        let dot = 0;
        for (let k = 0; k < dimension; k++) dot += vector[k] * vectors[previous][k];
        for (let k = 0; k < dimension; k++) vector[k] -= dot * vectors[previous][k];
      }
      let norm = 0;
      for (let k = 0; k < dimension; k++) norm += vector[k] * vector[k];
      norm = Math.sqrt(norm) || 1;
      for (let k = 0; k < dimension; k++) vector[k] /= norm;
    });
    return vectors;
  };
  basis = orthonormalise(basis);
  for (let iteration = 0; iteration < iterations; iteration++) basis = orthonormalise(multiply(basis));
  // Rayleigh-Ritz: eigenvectors of the small projected matrix order and rotate the basis.
  const images = multiply(basis);
  const small = new Matrix(count, count);
  for (let a = 0; a < count; a++) for (let b = 0; b < count; b++) {
    let dot = 0;
    for (let k = 0; k < dimension; k++) dot += basis[a][k] * images[b][k];
    small.set(a, b, dot);
  }
  const symmetric = small.add(small.transpose()).mul(0.5);
  const decomposition = new EigenvalueDecomposition(symmetric, { assumeSymmetric: true });
  const eigenvalues = decomposition.realEigenvalues;
  const vectors = decomposition.eigenvectorMatrix;
  const order = eigenvalues.map((value, index) => ({ value, index })).sort((a, b) => b.value - a.value || a.index - b.index);
  const components = order.map(({ index }) => {
    const weights = vectors.getColumn(index);
    const vector = new Float64Array(dimension);
    weights.forEach((weight, c) => { for (let k = 0; k < dimension; k++) vector[k] += weight * basis[c][k]; });
    const sign = vector.reduce((sum, value) => sum + value, 0) < 0 ? -1 : 1;
    return vector.map((value) => value * sign);
  });
  return { mean, components, variances: order.map(({ value }) => value) };
}

/** Coordinates of a row on the components. */
export function project(pca: PrincipalComponents, row: ArrayLike<number>): number[] {
  return pca.components.map((component) => {
    let sum = 0;
    for (let k = 0; k < component.length; k++) sum += component[k] * (row[k] - pca.mean[k]);
    return sum;
  });
}

/**
 * Ridge regression from a precomputed Gram matrix over rows augmented with 1 (logistic-regression.ts's
 * weightedGram): minimises Σ (w·x + b − y)² + l2·|w|², intercept unpenalised, by one Cholesky solve.
 * Used where many penalties and folds share one Gram (the heads' whole-descriptor age fit).
 */
export function fitRidgeFromGram(gram: Float64Array, moment: ArrayLike<number>, l2: number): number[] {
  const dimension = moment.length;
  const system = Float64Array.from(gram);
  for (let k = 0; k < dimension - 1; k++) system[k * dimension + k] += l2;
  system[dimension * dimension - 1] += 1e-9; // unpenalised intercept; keeps the factor defined
  return Array.from(choleskySolve(choleskyFactor(system, dimension), moment, dimension));
}

/** Σ_s target_s · (x_s, 1): the right-hand side fitRidgeFromGram pairs with a Gram. */
export function targetMoment(rows: readonly ArrayLike<number>[], targets: readonly number[]): Float64Array {
  const width = rows[0].length;
  const moment = new Float64Array(width + 1);
  rows.forEach((row, sample) => {
    for (let k = 0; k < width; k++) moment[k] += targets[sample] * row[k];
    moment[width] += targets[sample];
  });
  return moment;
}
