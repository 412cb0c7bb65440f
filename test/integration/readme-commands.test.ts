/**
 * The README's "Two commands", run as written by a new user: a fresh `git clone` of this repository
 * with shared/ beside it and no FACEKIT_* variable set. `npm ci && npm start` must install
 * everything (models included: scripts/fetch-models.mjs finds ../shared/models by itself) and serve
 * real answers. The second command, `npm test`, is what .ci/run runs verbatim on a clean clone (a
 * test cannot run the suite it belongs to), which the last test checks.
 *
 * The clone holds what is committed: uncommitted changes are not part of this test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EVAL_DIR, REPO_ROOT } from '../helpers/local-server.js';

const SHARED = path.resolve(REPO_ROOT, '..', 'shared');
const INSTALL_AND_START_TIMEOUT_MS = 8 * 60_000;

/** The shell lines of the first ```sh block under "## Two commands", comments removed. */
function twoCommands(): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Two commands'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('the README names exactly two commands: install + start, and the tests', () => {
  expect(twoCommands()).toEqual(['npm ci && npm start', 'npm test']);
});

(existsSync(SHARED) ? test : test.skip)('`npm ci && npm start` verbatim in a fresh clone installs the models and serves faces', async () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'facekit-readme-'));
  const clone = path.join(work, 'main');
  execFileSync('git', ['clone', '-q', REPO_ROOT, clone]);
  symlinkSync(SHARED, path.join(work, 'shared'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  for (const name of Object.keys(env)) if (name.startsWith('FACEKIT_') || name === 'NODE_OPTIONS' || name.startsWith('npm_')) delete env[name];

  // The whole command line, exactly as printed in the README, in its own process group.
  const child = spawn('sh', ['-c', twoCommands()[0]!], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  try {
    const image = readFileSync(path.join(EVAL_DIR, 'landmarks68/helen/3181052163_1.jpg')).toString('base64');
    const deadline = Date.now() + INSTALL_AND_START_TIMEOUT_MS;
    let answer: { status: number; body: any } | undefined;
    while (!answer && Date.now() < deadline && child.exitCode === null) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/face_detection`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ img: image }),
        });
        answer = { status: response.status, body: await response.json() };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    if (!answer) throw new Error(`no answer from the README's npm start (exit ${child.exitCode}):\n${output.slice(-4000)}`);
    expect(answer.status).toBe(200);
    expect(answer.body.Faces).toHaveLength(1);
    expect(answer.body.Faces[0].landmark_106).toHaveLength(106);
    // The models came from ../shared/models without any variable set.
    expect(output).toContain(`model ok  scrfd_2.5g_kps_dynhw.onnx  (${path.join(work, 'shared', 'models')})`);
    expect(output).not.toMatch(/MISSING or CORRUPT/);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  }
}, INSTALL_AND_START_TIMEOUT_MS + 60_000);

test('.ci/run runs the README\'s `npm ci` and `npm test` with no model variable set', () => {
  const ci = readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8').split('\n').filter((line) => !line.trim().startsWith('#'));
  expect(ci).toContain('npm ci --no-audit --no-fund');
  expect(ci).toContain('npm test');
  expect(ci.join('\n')).not.toMatch(/export FACEKIT_MODEL_MIRROR/);
});
