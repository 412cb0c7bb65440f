/**
 * Memory stays flat under a mix of image sizes (the shorter version of `npm run soak`): every request
 * is a real dev photo resized to a size no earlier request had, analysed in-process as the CLI and
 * the Lambda run it (detection, 106 points, gender and age). Before the fixed detector canvases,
 * the batch sizes and the memory-pattern/arena settings, RSS rose with every new size (issue 8:
 * 2.2 GB after 300 images); docs/reliability.md has the 500-request figures.
 */
import { soakInProcess } from '../../scripts/soak.js';

/** The Lambda / CLI target (docs/reliability.md). */
const IN_PROCESS_PEAK_LIMIT_MB = 700;
/** Growth allowed over the second half of the run, once every code path has been taken. */
const PLATEAU_GROWTH_LIMIT_PERCENT = 5;

test('in-process RSS plateaus: 80 distinct image sizes, peak ≤ 700 MB, second half grows < 5 %', async () => {
  const report = await soakInProcess({ requests: 80, every: 20, env: { FACEKIT_THREADS: '2' } });
  expect(report.failures).toBe(0);
  expect(report.distinctSizes).toBe(80);
  expect(report.peakRssMb).toBeLessThanOrEqual(IN_PROCESS_PEAK_LIMIT_MB);
  const half = report.samples.find((sample) => sample.requests === 40)!;
  const last = report.samples[report.samples.length - 1]!;
  expect(((last.rssMb - half.rssMb) / half.rssMb) * 100).toBeLessThan(PLATEAU_GROWTH_LIMIT_PERCENT);
}, 15 * 60_000);

test('npm start and the Lambda image run with the glibc malloc settings the soak measured', async () => {
  const { readFileSync } = await import('node:fs');
  const { GLIBC_MALLOC_TUNING } = await import('../../scripts/soak.js');
  const root = new URL('../../', import.meta.url);
  const start = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const dockerfile = readFileSync(new URL('lambda/Dockerfile', root), 'utf8');
  for (const [name, value] of Object.entries(GLIBC_MALLOC_TUNING)) {
    expect(start).toContain(`${name}=${value} `);
    expect(dockerfile).toMatch(new RegExp(`\\b${name}=${value}\\b`));
  }
});
