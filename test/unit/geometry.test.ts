import { applyAffine, composeAffine, estimateSimilarity, invertAffine, resizeAffine, warpAffineToTensor, type Affine } from '../../lambda/vision/geometry.js';
import { ARCFACE_TEMPLATE, arcfaceAlignment } from '../../lambda/vision/alignment.js';
import type { RgbImage } from '../../lambda/image/types.js';

const IDENTITY_NORMALISATION = { mean: 0, std: 1, order: 'rgb' as const };

/** A small image whose channels encode position: R = x, G = y, B = x + y. */
function gradientImage(width: number, height: number): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const index = (y * width + x) * 3;
      data[index] = x; data[index + 1] = y; data[index + 2] = x + y;
    }
  }
  return { data, width, height };
}

describe('affine helpers', () => {
  const matrix: Affine = [1.5, -0.4, 12, 0.4, 1.5, -7];

  test('invertAffine undoes the matrix', () => {
    const point = { x: 31.5, y: -4.25 };
    const back = applyAffine(invertAffine(matrix), applyAffine(matrix, point));
    expect(back.x).toBeCloseTo(point.x, 9);
    expect(back.y).toBeCloseTo(point.y, 9);
  });

  test('invertAffine refuses a singular matrix', () => {
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow('not invertible');
  });

  test('composeAffine applies the inner matrix first', () => {
    const inner: Affine = [2, 0, 1, 0, 2, 1];
    const outer: Affine = [1, 0, 10, 0, 1, 20];
    expect(applyAffine(composeAffine(outer, inner), { x: 3, y: 4 })).toEqual({ x: 17, y: 29 });
  });

  test('resizeAffine follows OpenCV pixel-centre alignment', () => {
    // cv2.resize samples destination x at source (x + 0.5) / scale − 0.5.
    const scale = 0.625;
    const toSource = invertAffine(resizeAffine(scale));
    for (const x of [0, 1, 17, 399]) expect(applyAffine(toSource, { x, y: x }).x).toBeCloseTo((x + 0.5) / scale - 0.5, 9);
  });
});

describe('estimateSimilarity (Umeyama, no reflection)', () => {
  test('recovers an exact similarity transform', () => {
    const angle = 0.3, scale = 1.7;
    const truth: Affine = [scale * Math.cos(angle), -scale * Math.sin(angle), 40, scale * Math.sin(angle), scale * Math.cos(angle), -15];
    const source = ARCFACE_TEMPLATE.map((point) => ({ x: point.x * 3 + 5, y: point.y * 2 - 9 }));
    const target = source.map((point) => applyAffine(truth, point));
    const estimated = estimateSimilarity(source, target);
    estimated.forEach((value, index) => expect(value).toBeCloseTo(truth[index], 9));
  });

  test('maps the template onto itself with the identity', () => {
    const estimated = arcfaceAlignment(ARCFACE_TEMPLATE);
    [1, 0, 0, 0, 1, 0].forEach((value, index) => expect(estimated[index]).toBeCloseTo(value, 9));
  });

  test('a face twice as large and shifted aligns to the template size', () => {
    const face = ARCFACE_TEMPLATE.map((point) => ({ x: point.x * 2 + 100, y: point.y * 2 + 50 }));
    const toCrop = arcfaceAlignment(face);
    const mapped = applyAffine(toCrop, face[2]);
    expect(mapped.x).toBeCloseTo(ARCFACE_TEMPLATE[2].x, 6);
    expect(mapped.y).toBeCloseTo(ARCFACE_TEMPLATE[2].y, 6);
  });

  test('refuses degenerate input', () => {
    const point = { x: 1, y: 1 };
    expect(() => estimateSimilarity([point, point], [point, { x: 2, y: 2 }])).toThrow('degenerate');
  });
});

describe('warpAffineToTensor (bilinear, cv2.warpAffine semantics)', () => {
  const image = gradientImage(20, 10);

  test('identity copies pixels into planar channels', () => {
    const output = new Float32Array(3 * 20 * 10);
    warpAffineToTensor(image, [1, 0, 0, 0, 1, 0], 20, 10, IDENTITY_NORMALISATION, output);
    expect(output[3 * 20 + 7]).toBe(7); // R plane at (7, 3)
    expect(output[200 + 3 * 20 + 7]).toBe(3); // G plane
    expect(output[400 + 3 * 20 + 7]).toBe(10); // B plane
  });

  test('interpolates linearly between pixels', () => {
    // Destination x samples source x + 0.5: halfway between two columns.
    const output = new Float32Array(3 * 4 * 4);
    warpAffineToTensor(image, [1, 0, -0.5, 0, 1, 0], 4, 4, IDENTITY_NORMALISATION, output);
    expect(output[0 * 4 + 2]).toBeCloseTo(2.5, 5);
  });

  test('pixels outside the source read as zero before normalisation', () => {
    const output = new Float32Array(3 * 4 * 4);
    warpAffineToTensor(image, [1, 0, 100, 0, 1, 100], 4, 4, { mean: 127.5, std: 128, order: 'rgb' }, output);
    for (const value of output) expect(value).toBeCloseTo(-127.5 / 128, 6);
  });

  test('bgr order swaps the first and third planes and normalises', () => {
    const output = new Float32Array(3 * 20 * 10);
    warpAffineToTensor(image, [1, 0, 0, 0, 1, 0], 20, 10, { mean: 1, std: 2, order: 'bgr' }, output);
    const offset = 3 * 20 + 7;
    expect(output[offset]).toBe((10 - 1) / 2); // B first
    expect(output[400 + offset]).toBe((7 - 1) / 2); // R last
  });

  test('writes into the slot at the given offset only', () => {
    const slot = 3 * 2 * 2;
    const output = new Float32Array(2 * slot).fill(-9);
    warpAffineToTensor(image, [1, 0, 0, 0, 1, 0], 2, 2, IDENTITY_NORMALISATION, output, slot);
    expect(output.subarray(0, slot).every((value) => value === -9)).toBe(true);
    expect(output[slot + 1]).toBe(1);
  });
});

describe('axis-aligned fast path', () => {
  /** Reference: cv2.warpAffine bilinear with zero border, written the plain way. */
  function reference(image: RgbImage, toDestination: Affine, width: number, height: number): Float32Array {
    const [a, b, tx, c, d, ty] = invertAffine(toDestination);
    const output = new Float32Array(3 * width * height);
    const pixel = (x: number, y: number, channel: number) =>
      x < 0 || y < 0 || x >= image.width || y >= image.height ? 0 : image.data[(y * image.width + x) * 3 + channel];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sx = a * x + b * y + tx, sy = c * x + d * y + ty;
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        for (let channel = 0; channel < 3; channel++) {
          output[channel * width * height + y * width + x] =
            (1 - fx) * (1 - fy) * pixel(x0, y0, channel) + fx * (1 - fy) * pixel(x0 + 1, y0, channel) +
            (1 - fx) * fy * pixel(x0, y0 + 1, channel) + fx * fy * pixel(x0 + 1, y0 + 1, channel);
        }
      }
    }
    return output;
  }

  test.each([
    ['downscale with padding', resizeAffine(0.37, 0.41), 16, 16],
    ['upscale', resizeAffine(2.3), 50, 30],
    ['shifted crop running off the image', [1.7, 0, -5.2, 0, 1.7, 3.9] as Affine, 40, 40],
  ])('%s matches the plain bilinear warp', (_name, matrix, width, height) => {
    const image = gradientImage(23, 17);
    const fast = new Float32Array(3 * width * height);
    warpAffineToTensor(image, matrix, width, height, IDENTITY_NORMALISATION, fast);
    const expected = reference(image, matrix, width, height);
    for (let i = 0; i < expected.length; i++) expect(fast[i]).toBeCloseTo(expected[i], 3);
  });
});
