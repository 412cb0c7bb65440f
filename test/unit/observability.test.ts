/** The pieces of lambda/observability.ts the handler test does not reach: status class, the CLI's stderr Logger. */
import { jest } from '@jest/globals';
import { createStderrLogger, statusClass } from '../../lambda/observability.js';

test('status classes', () => {
  expect([200, 400, 413, 429, 502, 503].map(statusClass)).toEqual(['2xx', '4xx', '4xx', '4xx', '5xx', '5xx']);
});

test('the CLI logger writes its lines, INFO included, to stderr only', () => {
  const written: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
  const spies = (['stdout', 'stderr'] as const).map((name) =>
    jest.spyOn(process[name], 'write').mockImplementation((chunk: string | Uint8Array) => { written[name].push(String(chunk)); return true; }));
  try {
    const logger = createStderrLogger();
    logger.info('image', { file: 'a.jpg', faces: 2 });
    logger.error('failed', { file: 'b.jpg' });
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  expect(written.stdout).toEqual([]);
  const lines = written.stderr.join('').trim().split('\n').map((line) => JSON.parse(line));
  expect(lines).toMatchObject([{ level: 'INFO', message: 'image', service: 'facekit', file: 'a.jpg', faces: 2 }, { level: 'ERROR', message: 'failed' }]);
});
