/**
 * `npm run loadtest`: the built local server under concurrent load on 127.0.0.1 (autocannon), a
 * mix of valid requests (native base64, Face++ multipart) and invalid ones (bad base64, corrupt
 * image, forbidden URL, unknown route); then a sequential leak check. Prints the figures and exits
 * non-zero if a valid request got a non-2xx (or a 5xx), any request timed out, bad input got a 5xx,
 * or memory grew past the limits (test/helpers/load.ts, docs/reliability.md).
 *
 *   npm run loadtest -- [--connections 50] [--duration 60] [--timeout 60] [--leak-requests 200]
 *                       [--max-peak-rss-mib 2048] [--max-leak-growth-mib 16] [--max-settled-growth-mib 96]
 */
import { parseArgs } from 'node:util';

import { DEFAULT_LIMITS, formatReport, judge, runLoad } from '../test/helpers/load.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '60' },
    'leak-requests': { type: 'string', default: '200' },
    'max-peak-rss-mib': { type: 'string', default: String(DEFAULT_LIMITS.maxPeakRssMiB) },
    'max-leak-growth-mib': { type: 'string', default: String(DEFAULT_LIMITS.maxLeakGrowthMiB) },
    'max-settled-growth-mib': { type: 'string', default: String(DEFAULT_LIMITS.maxSettledGrowthMiB) },
  },
});

function positive(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`--${name} must be a number in (0, ${max}], got ${raw}`);
  return value;
}

// Bounded: at most 500 connections, 10 minutes, 5000 sequential requests.
const options = {
  connections: Math.round(positive('connections', values.connections, 500)),
  durationSeconds: positive('duration', values.duration, 600),
  timeoutSeconds: positive('timeout', values.timeout, 600),
  leakCheckRequests: Math.round(positive('leak-requests', values['leak-requests'], 5000)),
  log: (line: string) => console.log(line),
};
const limits = {
  maxPeakRssMiB: positive('max-peak-rss-mib', values['max-peak-rss-mib'], 1 << 20),
  maxLeakGrowthMiB: positive('max-leak-growth-mib', values['max-leak-growth-mib'], 1 << 20),
  maxSettledGrowthMiB: positive('max-settled-growth-mib', values['max-settled-growth-mib'], 1 << 20),
};

const report = await runLoad(options);
console.log(formatReport(report));
const problems = judge(report, limits);
if (problems.length > 0) {
  console.error(`FAIL:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`PASS (limits: peak RSS ${limits.maxPeakRssMiB} MiB, leak growth ${limits.maxLeakGrowthMiB} MiB, settled growth ${limits.maxSettledGrowthMiB} MiB)`);
