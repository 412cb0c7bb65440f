/**
 * `npm run bench:faceres`: FaceRes run time, the converted file against the served one with the
 * added `mid_features` output (scripts/onnx/derive-faceres-midfeatures.ts), in one process on the
 * same input batch, alternating rounds so machine load falls on both alike. Shows that the output
 * the gender head reads does not add to the cost per face (docs/performance.md).
 *
 * Options: --batch N (crops per run, default 1 and 4), --rounds N (default 12, two of them warm-up).
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FACERES_SOURCE_FILE } from './onnx/derive-faceres-midfeatures.js';
import { MODELS } from '../lambda/vision/models.js';
import { getSession, runFloat32 } from '../lambda/vision/session.js';
import { PROJECT_ROOT } from './evaluation.js';

const { values } = parseArgs({ options: { batch: { type: 'string', multiple: true }, rounds: { type: 'string', default: '12' }, threads: { type: 'string', default: '2' } } });
const batches = (values.batch ?? ['1', '4']).map(Number);
const rounds = Number(values.rounds);
const WARM_UP_ROUNDS = 2;
const RUNS_PER_ROUND = 10;
const size = MODELS.faceRes.input.size;
const files = [FACERES_SOURCE_FILE, MODELS.faceRes.file];
const settings = { modelDir: join(PROJECT_ROOT, 'models'), intraOpThreads: Number(values.threads) };
const sessions = await Promise.all(files.map((file) => getSession(file, settings)));
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

console.log(`FaceRes cost per face, ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${settings.intraOpThreads} intra-op threads`);
for (const batch of batches) {
  // Fixed pseudo-random pixels (the cost does not depend on them; fixed so runs compare).
  let seed = 1;
  const input = Float32Array.from({ length: batch * 3 * size * size }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 255);
  const times = files.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, session] of sessions.entries()) {
      const started = performance.now();
      for (let run = 0; run < RUNS_PER_ROUND; run++) {
        const outputs = await runFloat32(session, input, [batch, 3, size, size]);
        for (const output of Object.values(outputs)) output.dispose?.();
      }
      if (round >= WARM_UP_ROUNDS) times[index]!.push((performance.now() - started) / RUNS_PER_ROUND / batch);
    }
  }
  files.forEach((file, index) => console.log(`  batch ${batch}  ${file.padEnd(48)} ${median(times[index]!).toFixed(2)} ms per face (median of ${rounds - WARM_UP_ROUNDS} rounds)`));
}
