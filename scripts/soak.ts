/**
 * `npm run soak`: resident memory under a mix of image sizes, the case that makes onnxruntime keep
 * buffers per input shape. Every request is a real dev photo resized to a size no earlier request
 * had (JPEG, made in memory at run time: nothing is written or committed). RSS is sampled after every
 * `--every` requests:
 *   - server: the local server bundle (`dist/server/server.mjs`, default inference workers) over
 *     real HTTP on 127.0.0.1, POST /face_detection (native: 106 points, gender and age);
 *   - in-process: the same requests through `createRuntime` + `detect` in one process, as the CLI
 *     and the Lambda run them.
 * Options: --requests N (500) --every N (100) --target server|in-process|both (both) --json,
 * --no-malloc-tuning (without GLIBC_MALLOC_TUNING, to compare).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { EVAL_ROOT, PROJECT_ROOT } from './evaluation.js';

/** Dev folders the photos come from: crowds, portraits and close-ups, so every detector pass runs. */
const SOURCE_FOLDERS = ['detection/wider_val', 'detection/dlib_faces', 'landmarks68/helen', 'landmarks68/afw', 'attributes'];
/**
 * glibc malloc settings `npm start` and the Lambda image (lambda/Dockerfile) run with: few arenas and
 * large blocks mmapped (returned to the system when freed) instead of fragmenting the heap. Measured
 * by this script: the server's RSS after 50 requests fell from 742 to 394 MB (docs/reliability.md).
 * A test keeps package.json and the Dockerfile in step with this table.
 */
export const GLIBC_MALLOC_TUNING: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

const MIN_LONG_SIDE = 160;
const MAX_LONG_SIDE = 2600;

export interface SoakSample {
  readonly requests: number;
  readonly rssMb: number;
}

export interface SoakReport {
  readonly target: 'server' | 'in-process';
  readonly requests: number;
  readonly distinctSizes: number;
  readonly samples: readonly SoakSample[];
  readonly peakRssMb: number;
  /** RSS growth over the last `lastWindow` requests, in % of the RSS before them. */
  readonly lastWindowGrowthPercent: number;
  readonly lastWindow: number;
  readonly failures: number;
  readonly seconds: number;
}

/** The dev photos, in a fixed order. */
export function soakSources(): string[] {
  const files: string[] = [];
  for (const folder of SOURCE_FOLDERS) {
    let names: string[];
    try {
      names = readdirSync(join(EVAL_ROOT, folder), { recursive: true }) as string[];
    } catch {
      continue;
    }
    files.push(...names.filter((name) => /\.(jpe?g|png)$/i.test(name)).sort().map((name) => join(EVAL_ROOT, folder, name)));
  }
  return files;
}

/**
 * Request `index`'s image: source photo `index mod n`, long side stepping through
 * [MIN_LONG_SIDE, MAX_LONG_SIDE] with a stride coprime to the count so no (width, height) repeats.
 */
export async function soakImage(sources: readonly string[], index: number, count: number): Promise<Buffer> {
  const source = sources[index % sources.length];
  const span = MAX_LONG_SIDE - MIN_LONG_SIDE;
  const longSide = MIN_LONG_SIDE + Math.round(((index * 7919) % count) * (span / count)) + (index % 3);
  return sharp(readFileSync(source)).rotate().resize({ width: longSide, height: longSide, fit: 'inside' }).jpeg({ quality: 90 }).toBuffer();
}

function rssMbOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

function summarise(target: SoakReport['target'], samples: SoakSample[], sizes: Set<string>, failures: number, started: number, lastWindow: number, peakRssMb: number): SoakReport {
  const last = samples[samples.length - 1]!;
  const before = [...samples].reverse().find((sample) => sample.requests <= last.requests - lastWindow) ?? samples[0]!;
  return {
    target,
    requests: last.requests,
    distinctSizes: sizes.size,
    samples,
    peakRssMb,
    lastWindowGrowthPercent: Math.round(((last.rssMb - before.rssMb) / before.rssMb) * 1000) / 10,
    lastWindow: last.requests - before.requests,
    failures,
    seconds: Math.round((performance.now() - started) / 1000),
  };
}

export interface SoakOptions {
  readonly requests: number;
  readonly every: number;
  /** Extra environment for the measured process (e.g. FACEKIT_THREADS). */
  readonly env?: Record<string, string>;
  /** Run the measured process with GLIBC_MALLOC_TUNING, as `npm start` and the Lambda do. @default true */
  readonly mallocTuning?: boolean;
}

async function imageSize(bytes: Buffer): Promise<string> {
  const { width, height } = await sharp(bytes).metadata();
  return `${width}x${height}`;
}

/** Starts the local server bundle on a free loopback port; resolves with the process and its URL. */
export async function startServerBundle(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist/server/server.mjs')], {
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http[^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

/**
 * The soak loop: request `index` sends the index-th image through `analyse` (false = failed), and
 * the RSS of process `pid` is read after each request.
 */
async function soakLoop(target: SoakReport['target'], pid: number, options: SoakOptions, analyse: (bytes: Buffer) => Promise<boolean>): Promise<SoakReport> {
  const sources = soakSources();
  const started = performance.now();
  const samples: SoakSample[] = [{ requests: 0, rssMb: rssMbOf(pid) }];
  const sizes = new Set<string>();
  let failures = 0;
  let peak = samples[0]!.rssMb;
  for (let index = 0; index < options.requests; index++) {
    const bytes = await soakImage(sources, index, options.requests);
    sizes.add(await imageSize(bytes));
    if (!(await analyse(bytes))) failures++;
    const rss = rssMbOf(pid);
    peak = Math.max(peak, rss);
    if ((index + 1) % options.every === 0) {
      samples.push({ requests: index + 1, rssMb: rss });
      process.stderr.write(`soak ${target}: ${index + 1} requests, RSS ${rss} MB\n`);
    }
  }
  return summarise(target, samples, sizes, failures, started, Math.min(200, options.requests / 2), peak);
}

/** The local server bundle under `requests` sequential native requests. */
export async function soakServer(options: SoakOptions): Promise<SoakReport> {
  const { child, url } = await startServerBundle({ ...(options.mallocTuning === false ? {} : GLIBC_MALLOC_TUNING), ...options.env });
  try {
    return await soakLoop('server', child.pid!, options, async (bytes) => {
      const response = await fetch(`${url}/face_detection`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ img: bytes.toString('base64') }),
      });
      await response.arrayBuffer();
      return response.status === 200;
    });
  } finally {
    child.kill('SIGTERM');
  }
}

/** The same requests in a fresh child process that runs the runtime in-process (CLI and Lambda). */
export async function soakInProcess(options: SoakOptions): Promise<SoakReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--requests', String(options.requests), '--every', String(options.every)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...(options.mallocTuning === false ? {} : GLIBC_MALLOC_TUNING), ...options.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`in-process soak exited with ${code}:\n${output.slice(-2000)}`);
  return JSON.parse(output.trim().split('\n').pop()!) as SoakReport;
}

/** Child side of soakInProcess: the runtime in this very process, RSS of this process. */
async function runChild(options: SoakOptions): Promise<void> {
  const { loadConfig } = await import('../lambda/config.js');
  const { createRuntime, detect } = await import('../lambda/runtime.js');
  const runtime = await createRuntime(loadConfig());
  const report = await soakLoop('in-process', process.pid, options, async (bytes) => {
    try {
      await detect(runtime, { image: { kind: 'bytes', bytes, field: 'img' }, options: { landmarks106: true, genderAge: true, attributes: new Set() } });
      return true;
    } catch {
      return false;
    }
  });
  console.log(JSON.stringify(report));
}

export function formatSoak(report: SoakReport): string {
  const trace = report.samples.map((sample) => `${sample.requests}: ${sample.rssMb}`).join(' · ');
  return `| ${report.target} | ${report.requests} | ${report.distinctSizes} | ${trace} | ${report.peakRssMb} | ${report.lastWindowGrowthPercent} % | ${report.failures} | ${report.seconds} s |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '500' },
      every: { type: 'string', default: '100' },
      target: { type: 'string', default: 'both' },
      child: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'no-malloc-tuning': { type: 'boolean', default: false },
    },
  });
  const options: SoakOptions = { requests: Number(values.requests), every: Number(values.every), mallocTuning: !values['no-malloc-tuning'] };
  if (values.child) return runChild(options);
  const reports: SoakReport[] = [];
  if (values.target !== 'in-process') reports.push(await soakServer(options));
  if (values.target !== 'server') reports.push(await soakInProcess(options));
  if (values.json) { console.log(JSON.stringify(reports, null, 2)); return; }
  console.log(`facekit soak ${new Date().toISOString()}\n${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);
  console.log('| target | requests | distinct sizes | RSS MB after n requests | peak RSS MB | growth over the last window | failures | time |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const report of reports) console.log(formatSoak(report));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
