/**
 * FaceRes on the real model: faces are run in capped batches (FACERES_FACES_PER_RUN), and a face's
 * logit must not depend on which batch it lands in or on the other faces in it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../lambda/config.js';
import { decodeImage } from '../../lambda/image/decode.js';
import { estimateFaceResGender, FACERES_FACES_PER_RUN } from '../../lambda/vision/faceres.js';
import { getSession } from '../../lambda/vision/session.js';
import { EVAL_ROOT } from '../../scripts/evaluation.js';

test('chunked FaceRes logits equal one-face-at-a-time logits, for more faces than one run holds', async () => {
  const config = loadConfig({ ...process.env, FACEKIT_THREADS: '2' });
  const session = await getSession(config.faceResModelFile, { modelDir: config.modelDir, intraOpThreads: 2 });
  const image = await decodeImage(await readFile(path.join(EVAL_ROOT, 'landmarks68/helen/3181052163_1.jpg')), config.image);
  // Boxes over different parts of the real photo (distinct content), more than two runs' worth.
  const count = 2 * FACERES_FACES_PER_RUN + 1;
  const boxes = Array.from({ length: count }, (_, index) => ({ x: 200 + 30 * index, y: 150 + 10 * index, width: 300, height: 360 }));
  const together = await estimateFaceResGender(session, image, boxes);
  expect(together).toHaveLength(count);
  for (let index = 0; index < count; index++) {
    const [alone] = await estimateFaceResGender(session, image, [boxes[index]]);
    expect(together[index]).toBeCloseTo(alone, 4);
  }
  expect(new Set(together.map((logit) => logit.toFixed(3))).size).toBeGreaterThan(1);
}, 120_000);
