/**
 * FaceRes on the real model: crops are run in capped batches (FACERES_FACES_PER_RUN), and a crop's
 * outputs must not depend on which batch it lands in or on the other crops in it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../lambda/config.js';
import { decodeImage } from '../../lambda/image/decode.js';
import { faceResAlignment, FACERES_AGE_BINS, FACERES_DESCRIPTOR_SIZE, FACERES_FACES_PER_RUN, runFaceRes } from '../../lambda/vision/faceres.js';
import { getSession } from '../../lambda/vision/session.js';
import { EVAL_ROOT } from '../../scripts/evaluation.js';

test('chunked FaceRes outputs equal one-crop-at-a-time outputs, for more crops than one run holds', async () => {
  const config = loadConfig({ ...process.env, FACEKIT_THREADS: '2' });
  const session = await getSession(config.faceResModelFile, { modelDir: config.modelDir, intraOpThreads: 2 });
  const image = await decodeImage(await readFile(path.join(EVAL_ROOT, 'landmarks68/helen/3181052163_1.jpg')), config.image);
  // 5-point sets over different parts of the real photo (distinct content), more than two runs' worth.
  const count = 2 * FACERES_FACES_PER_RUN + 1;
  const transforms = Array.from({ length: count }, (_, index) => {
    const x = 300 + 30 * index, y = 300 + 10 * index;
    return faceResAlignment([{ x, y }, { x: x + 90, y }, { x: x + 45, y: y + 50 }, { x: x + 10, y: y + 95 }, { x: x + 80, y: y + 95 }], 1 + index / 20);
  });
  const together = await runFaceRes(session, image, transforms);
  expect(together).toHaveLength(count);
  for (let index = 0; index < count; index++) {
    const [alone] = await runFaceRes(session, image, [transforms[index]]);
    expect(together[index].maleLogit).toBeCloseTo(alone.maleLogit, 4);
    expect(together[index].ageDistribution).toHaveLength(FACERES_AGE_BINS);
    expect(together[index].descriptor).toHaveLength(FACERES_DESCRIPTOR_SIZE);
    together[index].descriptor.forEach((value, k) => expect(Math.abs(value - alone.descriptor[k])).toBeLessThan(1e-3));
    expect(together[index].ageDistribution.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 3);
  }
  expect(new Set(together.map((output) => output.maleLogit.toFixed(3))).size).toBeGreaterThan(1);
}, 120_000);
