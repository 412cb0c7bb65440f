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
