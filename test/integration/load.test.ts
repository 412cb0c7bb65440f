/**
 * The short version of `npm run loadtest` (scripts/loadtest.ts): the built local server under 20
 * concurrent connections for 15 s on 127.0.0.1, mixing valid requests (native base64, Face++
 * multipart) and invalid ones (bad base64, corrupt image, forbidden URL, unknown route). Every valid
 * request must get a 2xx (no 5xx, no timeout), every invalid one a 4xx, and the server's memory
 * must stay bounded: peak RSS under the limit, no growth over sequential requests afterwards.
 */
import { VALID_KINDS, formatReport, judge, runLoad, type LoadReport, type RequestKind } from '../helpers/load.js';

let report: LoadReport;

beforeAll(async () => {
  report = await runLoad({ connections: 20, durationSeconds: 15, timeoutSeconds: 30, leakCheckRequests: 40 });
  console.log(formatReport(report));
}, 90_000);

test('valid requests under load: all 2xx, none 5xx, none timed out', () => {
  for (const kind of VALID_KINDS) expect(Object.values(report.statusByKind[kind]).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(report.valid5xx).toBe(0);
  expect(report.validNon2xx).toBe(0);
  expect(report.timeouts).toBe(0);
  expect(report.errors).toBe(0);
});

test('invalid requests under load: always their 4xx', () => {
  // Each connection cycles through the kinds in order, so on a slow machine the last kinds may not
  // be reached in 15 s: every answer that came must be the kind's 4xx, and some must have come.
  const expected: Partial<Record<RequestKind, string>> = { 'bad-base64': '400', 'corrupt-image': '400', 'forbidden-url': '400', 'unknown-route': '404' };
  let answered = 0;
  for (const [kind, status] of Object.entries(expected) as [RequestKind, string][]) {
    for (const [seen, count] of Object.entries(report.statusByKind[kind])) {
      expect([kind, seen]).toEqual([kind, status]);
      answered += count;
    }
  }
  expect(answered).toBeGreaterThan(0);
});

test('memory is bounded and does not keep growing afterwards', () => {
  expect(judge(report)).toEqual([]);
  expect(report.memory.leakCheck.failures).toBe(0);
});
