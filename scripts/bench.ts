/**
 * `npm run bench`: speed of the default pipeline on this machine.
 *   - per-image latency p50/p95 and images/s on a one-face portrait and a crowded WIDER image,
 *     split into decode / detect / per-face models (landmarks, gender/age), in-process;
 *   - cold start: process start → first answer, for the local server bundle and the Lambda bundle;
 *   - peak RSS of the measuring process and of the cold-started server.
 * Options: --iterations N (default 20), --threads N (default: all cores), --json (machine-readable).
 * `--compare`: detection configurations side by side instead (scripts/bench-compare.ts).
 * Images come from ../shared/eval/dev and are read, never copied.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lambda/config.js';
import { createRuntime, detect } from '../lambda/runtime.js';
import type { DetectResult } from '../lambda/vision/types.js';
import { EVAL_ROOT, PROJECT_ROOT } from './evaluation.js';

if (process.argv.includes('--compare')) {
  await (await import('./bench-compare.js')).main();
  process.exit(0);
}
const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20' }, threads: { type: 'string' }, json: { type: 'boolean', default: false } } });
const iterations = Number(values.iterations);
const IMAGES = [
  { name: 'portrait (1 face, 930×850)', file: 'landmarks68/helen/3181052163_1.jpg' },
  { name: 'crowd (WIDER marchingband, 1024×678)', file: 'detection/wider_val/0--Parade__0_Parade_marchingband_1_465.jpg' },
];

const percentile = (sorted: readonly number[], fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
const round = (value: number): number => Math.round(value * 10) / 10;

function summarise(samples: readonly number[]): { p50: number; p95: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length) };
}

async function benchImage(runtime: Awaited<ReturnType<typeof createRuntime>>, file: string) {
  const bytes = readFileSync(join(EVAL_ROOT, file));
  const request = { image: { kind: 'bytes' as const, bytes, field: 'image' }, options: { landmarks106: true, genderAge: true, attributes: new Set<never>() } };
  await detect(runtime, request); // warm-up: first runs allocate arenas
  const totals: number[] = [], decode: number[] = [], detectMs: number[] = [], perFace: number[] = [];
  let result: DetectResult | undefined;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const iterationStarted = performance.now();
    result = await detect(runtime, request);
    totals.push(performance.now() - iterationStarted);
    decode.push(result.timings.decodeMs);
    detectMs.push(result.timings.detectMs);
    perFace.push(result.timings.landmarksMs + result.timings.genderAgeMs);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    faces: result!.faces.length,
    total: summarise(totals),
    decode: summarise(decode),
    detect: summarise(detectMs),
    perFaceModels: summarise(perFace),
    imagesPerSecond: round(iterations / seconds),
  };
}

/** Peak resident memory of a child process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

/** Local server bundle: spawn → listening → first answer on the portrait. */
async function coldStartServer(): Promise<{ listeningMs: number; firstAnswerMs: number; peakRssMb: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist/server/server.mjs')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"([^"]+)"/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const listeningMs = performance.now() - started;
  const img = readFileSync(join(EVAL_ROOT, IMAGES[0].file)).toString('base64');
  const response = await fetch(`${url}/face_detection`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ img }) });
  await response.text();
  const firstAnswerMs = performance.now() - started;
  const rss = peakRssMb(child.pid!);
  child.kill();
  return { listeningMs: round(listeningMs), firstAnswerMs: round(firstAnswerMs), peakRssMb: rss };
}

const config = loadConfig(values.threads ? { ...process.env, FACEKIT_THREADS: values.threads } : process.env);
const runtime = await createRuntime(config);
const report = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  threads: config.intraOpThreads,
  detector: `canvas ≤ ${config.detector.maxInputSide}px, enlargement ≤ ×${config.detector.maxUpscale}, smallest face ${config.detector.minFaceSize}px`,
  iterations,
  images: {} as Record<string, Awaited<ReturnType<typeof benchImage>>>,
  coldStart: undefined as Awaited<ReturnType<typeof coldStartServer>> | undefined,
  benchProcessPeakRssMb: 0,
};
for (const image of IMAGES) report.images[image.name] = await benchImage(runtime, image.file);
report.benchProcessPeakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
report.coldStart = await coldStartServer();

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`facekit bench ${report.date}\n${report.machine}; ${report.threads} intra-op threads; ${report.detector}; ${iterations} iterations\n`);
  console.log('| image | faces | total p50 / p95 ms | decode p50 | detect p50 | landmarks+gender/age p50 | images/s |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, row] of Object.entries(report.images)) {
    console.log(`| ${name} | ${row.faces} | ${row.total.p50} / ${row.total.p95} | ${row.decode.p50} | ${row.detect.p50} | ${row.perFaceModels.p50} | ${row.imagesPerSecond} |`);
  }
  const cold = report.coldStart!;
  console.log(`\ncold start (server bundle): listening after ${cold.listeningMs} ms, first answer after ${cold.firstAnswerMs} ms; server peak RSS ${cold.peakRssMb} MB`);
  console.log(`bench process peak RSS ${report.benchProcessPeakRssMb} MB`);
}
