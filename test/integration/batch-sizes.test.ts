/**
 * Per-face models run only with batch sizes from BATCH_SIZES (a fixed set of shapes keeps
 * onnxruntime's memory bounded): a batch of another size runs in pieces, and on the real genderage
 * model a face's output must not depend on how its batch was split.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../lambda/config.js';
import { decodeImage } from '../../lambda/image/decode.js';
import { estimateGenderAge } from '../../lambda/vision/genderage.js';
import { batchRuns, BATCH_SIZES, getSession } from '../../lambda/vision/session.js';
import { EVAL_ROOT } from '../../scripts/evaluation.js';

test('batchRuns splits any count into allowed sizes, largest first, with nothing padded', () => {
  expect(batchRuns(1)).toEqual([1]);
  expect(batchRuns(11)).toEqual([8, 2, 1]);
  expect(batchRuns(16)).toEqual([16]);
  expect(batchRuns(40)).toEqual([16, 16, 8]);
  for (let count = 1; count <= 200; count++) {
    const runs = batchRuns(count);
    expect(runs.reduce((sum, size) => sum + size, 0)).toBe(count);
    for (const size of runs) expect(BATCH_SIZES).toContain(size);
  }
});

test('genderage on 11 real crops (runs of 8 + 2 + 1) equals one face at a time', async () => {
  const config = loadConfig({ ...process.env, FACEKIT_THREADS: '2' });
  const session = await getSession(config.genderAgeModelFile, { modelDir: config.modelDir, intraOpThreads: 2 });
  const image = await decodeImage(await readFile(path.join(EVAL_ROOT, 'landmarks68/helen/3181052163_1.jpg')), config.image);
  // Five-point sets over different parts of the real photo, so every crop has distinct content.
  const faces = Array.from({ length: 11 }, (_, index) => {
    const x = 300 + 25 * index, y = 300 + 12 * index;
    return [{ x, y }, { x: x + 120, y }, { x: x + 60, y: y + 70 }, { x: x + 15, y: y + 130 }, { x: x + 105, y: y + 130 }];
  });
  const together = await estimateGenderAge(session, image, faces);
  expect(together).toHaveLength(11);
  for (let index = 0; index < faces.length; index++) {
    const [alone] = await estimateGenderAge(session, image, [faces[index]!]);
    expect(together[index]!.maleLogit).toBeCloseTo(alone!.maleLogit, 4);
    expect(together[index]!.age).toBe(alone!.age);
  }
  expect(new Set(together.map((face) => face.maleLogit.toFixed(3))).size).toBeGreaterThan(1);
}, 120_000);
