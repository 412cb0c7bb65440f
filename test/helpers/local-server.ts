/**
 * Starts the built local server (`dist/server/server.mjs`, what `npm start` runs) in a child
 * process on a free loopback port, so HTTP tests hit the real thing over real HTTP.
 * `npm test` builds dist/ first (pretest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EVAL_DIR = resolve(REPO_ROOT, '..', 'shared', 'eval', 'dev');
const SERVER_BUNDLE = join(REPO_ROOT, 'dist', 'server', 'server.mjs');
const START_TIMEOUT_MS = 60_000;

export interface LocalServer {
  readonly url: string;
  /** Everything the server printed (request log lines included). */
  readonly output: () => string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** `env` is added to the parent's environment (e.g. FACEKIT_TEST_ALLOW_LOOPBACK=1, FACEKIT_S3_ENDPOINT). */
export async function startLocalServer(env: Record<string, string> = {}): Promise<LocalServer> {
  if (!existsSync(SERVER_BUNDLE)) throw new Error(`${SERVER_BUNDLE} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [SERVER_BUNDLE], {
    cwd: REPO_ROOT,
    env: { ...process.env, FACEKIT_THREADS: '1', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (): void => {
      const match = /"message":"listening".*?"url":"([^"]+)"/.exec(output);
      if (match) { clearTimeout(timer); child.stdout!.off('data', onData); resolveUrl(match[1]); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code} before listening:\n${output}`)); });
  });

  return {
    url,
    output: () => output,
    process: child,
    stop: () => new Promise<void>((resolveStop) => {
      if (child.exitCode !== null) return resolveStop();
      child.once('exit', () => resolveStop());
      child.kill('SIGTERM');
    }),
  };
}

/** POST a JSON body and return status, content type and the parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; contentType: string; json: any; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', json, text };
}
