/**
 * Small-dimension L2-regularised logistic regression by Newton's method, with per-sample weights
 * (for class balancing). Used to fit the gender heads (scripts/fit-heads.ts): ~150 features, a few
 * thousand samples, so a dense Newton step is exact and quick.
 */

export interface LogisticFit {
  /** One weight per feature, then the bias (never penalised). */
  readonly weights: number[];
  readonly iterations: number;
}

export interface LogisticOptions {
  /** L2 penalty on the feature weights. @default 0.1 */
  readonly l2?: number;
  /** One weight per sample. @default 1 each */
  readonly sampleWeights?: readonly number[];
  /** @default 100 */
  readonly maxIterations?: number;
  /** Stops when no weight moves more than this. @default 1e-10 */
  readonly tolerance?: number;
}

/** Weights that make both classes count equally, whatever their counts. */
export function classBalancedWeights(labels: readonly number[]): number[] {
  const positives = labels.filter((label) => label === 1).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('class balancing needs both classes');
  return labels.map((label) => (label === 1 ? labels.length / (2 * positives) : labels.length / (2 * negatives)));
}

/** Solves A·x = b for a small dense symmetric positive-definite A (Gaussian elimination, partial pivoting). */
export function solveLinear(matrix: readonly (readonly number[])[], vector: readonly number[]): number[] {
  const size = vector.length;
  const rows = matrix.map((row, index) => [...row, vector[index]]);
  for (let column = 0; column < size; column++) {
    let pivot = column;
    for (let row = column + 1; row < size; row++) if (Math.abs(rows[row][column]) > Math.abs(rows[pivot][column])) pivot = row;
    if (Math.abs(rows[pivot][column]) < 1e-12) throw new Error('singular system');
    [rows[column], rows[pivot]] = [rows[pivot], rows[column]];
    for (let row = column + 1; row < size; row++) {
      const factor = rows[row][column] / rows[column][column];
      for (let k = column; k <= size; k++) rows[row][k] -= factor * rows[column][k];
    }
  }
  const solution = new Array<number>(size).fill(0);
  for (let row = size - 1; row >= 0; row--) {
    let sum = rows[row][size];
    for (let k = row + 1; k < size; k++) sum -= rows[row][k] * solution[k];
    solution[row] = sum / rows[row][row];
  }
  return solution;
}

export function logisticScore(weights: readonly number[], features: readonly number[]): number {
  let score = weights[features.length];
  for (let k = 0; k < features.length; k++) score += weights[k] * features[k];
  return score;
}

/** Fits P(label = 1 | x) = σ(w·x + b) to 0/1 labels. */
export function fitLogisticRegression(features: readonly (readonly number[])[], labels: readonly number[], options: LogisticOptions = {}): LogisticFit {
  const { l2 = 0.1, maxIterations = 100, tolerance = 1e-10 } = options;
  const sampleWeights = options.sampleWeights ?? labels.map(() => 1);
  if (features.length !== labels.length || sampleWeights.length !== labels.length || labels.length === 0) {
    throw new Error('features, labels and sample weights must be non-empty and of one length');
  }
  const dimension = features[0].length + 1; // + bias
  const weights = new Array<number>(dimension).fill(0);
  // Flat buffers, upper triangle only: the heads' fits have ~150 features and 6,400 faces.
  const x = new Float64Array(dimension);
  const hessianFlat = new Float64Array(dimension * dimension);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const gradient = new Array<number>(dimension).fill(0);
    hessianFlat.fill(0);
    features.forEach((row, sample) => {
      for (let k = 0; k < dimension - 1; k++) x[k] = row[k];
      x[dimension - 1] = 1;
      const probability = 1 / (1 + Math.exp(-logisticScore(weights, row)));
      const residual = sampleWeights[sample] * (probability - labels[sample]);
      const curvature = sampleWeights[sample] * probability * (1 - probability);
      for (let i = 0; i < dimension; i++) {
        gradient[i] += residual * x[i];
        const scaled = curvature * x[i];
        const offset = i * dimension;
        for (let j = i; j < dimension; j++) hessianFlat[offset + j] += scaled * x[j];
      }
    });
    const hessian = Array.from({ length: dimension }, (_, i) => Array.from({ length: dimension }, (_, j) => (j >= i ? hessianFlat[i * dimension + j] : hessianFlat[j * dimension + i])));
    for (let i = 0; i < dimension - 1; i++) {
      gradient[i] += l2 * weights[i];
      hessian[i][i] += l2;
    }
    const step = solveLinear(hessian, gradient);
    for (let i = 0; i < dimension; i++) weights[i] -= step[i];
    if (Math.max(...step.map(Math.abs)) < tolerance) return { weights, iterations: iteration };
  }
  return { weights, iterations: maxIterations };
}

// ------------------------------------------------------------------------------------------------
// Wide problems (the heads' full 1,024-d descriptor): flat buffers, Cholesky, and a fixed-curvature
// logistic solver, so a penalty path over cross-validation folds costs one Gram matrix per fold.

/** Σ_s weight_s · x̃_s x̃_sᵀ over rows x̃ = (x, 1), as a flat row-major (p + 1)² matrix. */
export function weightedGram(rows: readonly ArrayLike<number>[], weights: readonly number[]): Float64Array {
  const dimension = rows[0].length + 1;
  const gram = new Float64Array(dimension * dimension);
  const x = new Float64Array(dimension);
  rows.forEach((row, sample) => {
    const weight = weights[sample];
    if (weight === 0) return;
    x.set(row);
    x[dimension - 1] = 1;
    for (let i = 0; i < dimension; i++) {
      const scaled = weight * x[i];
      const offset = i * dimension;
      for (let j = i; j < dimension; j++) gram[offset + j] += scaled * x[j];
    }
  });
  for (let i = 0; i < dimension; i++) for (let j = 0; j < i; j++) gram[i * dimension + j] = gram[j * dimension + i];
  return gram;
}

/** Lower-triangular L with L·Lᵀ = A, for a flat symmetric positive-definite A. */
export function choleskyFactor(matrix: Float64Array, dimension: number): Float64Array {
  const factor = Float64Array.from(matrix);
  for (let j = 0; j < dimension; j++) {
    const rowJ = j * dimension;
    let diagonal = factor[rowJ + j];
    for (let k = 0; k < j; k++) diagonal -= factor[rowJ + k] * factor[rowJ + k];
    if (!(diagonal > 0)) throw new Error('matrix is not positive definite');
    const pivot = Math.sqrt(diagonal);
    factor[rowJ + j] = pivot;
    for (let i = j + 1; i < dimension; i++) {
      const rowI = i * dimension;
      let sum = factor[rowI + j];
      for (let k = 0; k < j; k++) sum -= factor[rowI + k] * factor[rowJ + k];
      factor[rowI + j] = sum / pivot;
    }
  }
  for (let i = 0; i < dimension; i++) for (let j = i + 1; j < dimension; j++) factor[i * dimension + j] = 0;
  return factor;
}

/** Solves L·Lᵀ·x = b given choleskyFactor's L. */
export function choleskySolve(factor: Float64Array, vector: ArrayLike<number>, dimension = vector.length): Float64Array {
  const forward = new Float64Array(dimension);
  for (let i = 0; i < dimension; i++) {
    let sum = vector[i];
    const row = i * dimension;
    for (let k = 0; k < i; k++) sum -= factor[row + k] * forward[k];
    forward[i] = sum / factor[row + i];
  }
  const solution = new Float64Array(dimension);
  for (let i = dimension - 1; i >= 0; i--) {
    let sum = forward[i];
    for (let k = i + 1; k < dimension; k++) sum -= factor[k * dimension + i] * solution[k];
    solution[i] = sum / factor[i * dimension + i];
  }
  return solution;
}

export interface WideLogisticOptions {
  readonly l2: number;
  /** One weight per sample (class balancing). */
  readonly sampleWeights: readonly number[];
  /** weightedGram(features, sampleWeights), if already at hand (e.g. assembled from per-fold parts). */
  readonly gram?: Float64Array;
  /** Starting weights (a neighbouring penalty's solution: a warm start). */
  readonly initial?: ArrayLike<number>;
  /** @default 2000 */
  readonly maxIterations?: number;
  /** Stops when no weight moves more than this. @default 1e-7 */
  readonly tolerance?: number;
}

/**
 * L2 logistic regression for many features (about a thousand) by majorise-minimise with a fixed
 * curvature: since σ'(t) ≤ 1/4, Xᵀ·diag(sample weights)·X/4 + l2·I bounds the Hessian, so each step
 * solves against that one matrix, factored once (Böhning & Lindsay 1988, "Monotonicity of
 * quadratic-approximation algorithms", Ann. Inst. Stat. Math. 40; Böhning 1992, "Multinomial
 * logistic regression algorithm", same journal 44). The objective falls at every step; each step
 * costs one pass over the data instead of a new (p + 1)² Hessian. Same optimum as
 * fitLogisticRegression (bias unpenalised).
 */
export function fitWideLogisticRegression(features: readonly ArrayLike<number>[], labels: readonly number[], options: WideLogisticOptions): LogisticFit {
  const { l2, sampleWeights, maxIterations = 2000, tolerance = 1e-7 } = options;
  if (features.length !== labels.length || sampleWeights.length !== labels.length || labels.length === 0) {
    throw new Error('features, labels and sample weights must be non-empty and of one length');
  }
  const width = features[0].length;
  const dimension = width + 1;
  const bound = Float64Array.from(options.gram ?? weightedGram(features, sampleWeights), (value) => value / 4);
  for (let k = 0; k < width; k++) bound[k * dimension + k] += l2;
  bound[dimension * dimension - 1] += 1e-9; // the bias is unpenalised; keeps the factor defined
  const factor = choleskyFactor(bound, dimension);
  const weights = options.initial ? Float64Array.from(options.initial) : new Float64Array(dimension);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const gradient = new Float64Array(dimension);
    features.forEach((row, sample) => {
      let score = weights[width];
      for (let k = 0; k < width; k++) score += weights[k] * row[k];
      const residual = sampleWeights[sample] * (1 / (1 + Math.exp(-score)) - labels[sample]);
      for (let k = 0; k < width; k++) gradient[k] += residual * row[k];
      gradient[width] += residual;
    });
    for (let k = 0; k < width; k++) gradient[k] += l2 * weights[k];
    const step = choleskySolve(factor, gradient, dimension);
    let largest = 0;
    for (let k = 0; k < dimension; k++) { weights[k] -= step[k]; largest = Math.max(largest, Math.abs(step[k])); }
    if (largest < tolerance) return { weights: Array.from(weights), iterations: iteration };
  }
  return { weights: Array.from(weights), iterations: maxIterations };
}
