/** The cost table of `npm run bench -- --compare`: Lambda GB-second and request prices applied to measured times. */
import { costPerMillion } from '../../scripts/bench-compare.js';

test('1 s per image at 8 GB on x86_64 costs 8 GB-s × $0.0000166667 + $0.20 per million requests', () => {
  const rows = costPerMillion(2, 1);
  const eight = rows.find((row) => row.memoryMb === 8192)!;
  expect(eight.seconds).toBe(1);
  expect(eight.x86_64).toBeCloseTo(133.53, 2);
  expect(eight.arm64).toBeCloseTo(106.87, 2);
});

test('under two vCPUs (2 GB ≈ 1.16 vCPU) the 1-thread time applies, from 4 GB the 2-thread time', () => {
  const rows = costPerMillion(0.3, 0.2);
  expect(rows.map((row) => [row.memoryMb, row.seconds])).toEqual([[2048, 0.3], [4096, 0.2], [8192, 0.2], [10240, 0.2]]);
  expect(rows[0]!.x86_64).toBeCloseTo(1e6 * (2 * 0.3 * 0.0000166667) + 0.2, 2);
});
