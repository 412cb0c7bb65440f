/**
 * Where `npm run models` finds the models when nobody configured anything, and how a team without
 * ../shared gets them: the model bundle (`npm run models:pack`) or a folder of files served over
 * real HTTP on 127.0.0.1, installed into an empty folder with every sha256 checked. Also the one-line
 * guard `npm run deploy` runs before Docker starts.
 */
import { spawn, type SpawnSyncReturns } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(repoRoot, 'models');
const sharedModels = path.resolve(repoRoot, '../shared/models');
const manifest = JSON.parse(readFileSync(path.join(modelDir, 'manifest.json'), 'utf8')) as {
  bundle: { name: string; version: string };
  models: { file: string; sha256: string; obtain: { method: string; script?: string; from?: string[] } }[];
};
const bundleName = `${manifest.bundle.name}-${manifest.bundle.version}.tar.gz`;

function run(script: string, args: string[], env: Record<string, string | undefined>): Promise<SpawnSyncReturns<string>> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['FACEKIT_MODEL_DIR', 'FACEKIT_MODEL_MIRROR', 'FACEKIT_MODEL_BASE_URL', 'NODE_OPTIONS']) delete childEnv[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
  // Asynchronous: the HTTP server the fetch talks to runs in this process.
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', script), ...args], { cwd: repoRoot, env: childEnv });
    let stdout = '', stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => resolve({ status, stdout, stderr } as SpawnSyncReturns<string>));
  });
}

/** Serves a folder's files on 127.0.0.1 and counts the requests per path. */
async function serveFolder(folder: string): Promise<{ server: Server; url: string; requests: Map<string, number> }> {
  const requests = new Map<string, number>();
  const server = createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/files\//, '');
    requests.set(name, (requests.get(name) ?? 0) + 1);
    const file = path.join(folder, path.basename(name));
    if (!existsSync(file)) { response.writeHead(404).end(); return; }
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`, requests };
}

let work = '';
beforeAll(() => { work = mkdtempSync(path.join(tmpdir(), 'facekit-model-sources-')); });
afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

const installedFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.onnx')).sort();
const everyFile = manifest.models.map((model) => model.file).sort();

describe('npm run models:pack', () => {
  it('writes the bundle and its sha256, byte-identical when packed twice', async () => {
    for (const out of ['pack-a', 'pack-b']) {
      const packed = await run('pack-models.mjs', ['--out', path.join(work, out)], {});
      expect({ status: packed.status, stderr: packed.stderr }).toEqual({ status: 0, stderr: '' });
    }
    const first = readFileSync(path.join(work, 'pack-a', bundleName));
    expect(first.equals(readFileSync(path.join(work, 'pack-b', bundleName)))).toBe(true);
    const { sha256 } = await import('../../scripts/model-files.mjs' as string);
    expect(readFileSync(path.join(work, 'pack-a', `${bundleName}.sha256`), 'utf8')).toBe(`${sha256(first)}  ${bundleName}\n`);
  }, 120_000);
});

describe('scripts/fetch-models.mjs sources', () => {
  it('FACEKIT_MODEL_BASE_URL with the bundle fills an empty folder (no mirror, no ../shared), every file checked', async () => {
    const { server, url, requests } = await serveFolder(path.join(work, 'pack-a'));
    try {
      const target = path.join(work, 'from-bundle');
      const emptyMirror = path.join(work, 'empty-mirror');
      mkdirSync(emptyMirror, { recursive: true });
      const result = await run('fetch-models.mjs', [], { FACEKIT_MODEL_DIR: target, FACEKIT_MODEL_MIRROR: emptyMirror, FACEKIT_MODEL_BASE_URL: `${url}/` });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      for (const file of everyFile) expect(result.stdout).toContain(`model ok  ${file}  (${url}/${bundleName})`);
      expect(installedFiles(target)).toEqual(everyFile);
      expect(requests.get(bundleName)).toBe(1); // downloaded once, shared by every file
      const check = await run('fetch-models.mjs', ['--check'], { FACEKIT_MODEL_DIR: target });
      expect(check.status).toBe(0);
    } finally {
      server.close();
    }
  }, 120_000);

  it('FACEKIT_MODEL_BASE_URL may also be a folder holding the .onnx files themselves', async () => {
    const { server, url } = await serveFolder(modelDir);
    try {
      const target = path.join(work, 'from-files');
      const emptyMirror = path.join(work, 'empty-mirror');
      const result = await run('fetch-models.mjs', [], { FACEKIT_MODEL_DIR: target, FACEKIT_MODEL_MIRROR: emptyMirror, FACEKIT_MODEL_BASE_URL: url });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      for (const file of everyFile) expect(result.stdout).toContain(`model ok  ${file}  (${url}/${file})`);
      expect(installedFiles(target)).toEqual(everyFile);
    } finally {
      server.close();
    }
  }, 120_000);

  (existsSync(sharedModels) ? it : it.skip)('without any setting it takes ../shared/models beside the project', async () => {
    const target = path.join(work, 'from-sibling');
    const result = await run('fetch-models.mjs', [], { FACEKIT_MODEL_DIR: target });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    // ../shared holds the files as shipped; the derived ones are made from them by their committed script.
    for (const model of manifest.models) {
      const from = model.obtain.method === 'derived' ? `${model.obtain.script} (from ${(model.obtain.from ?? []).join(', ')})` : sharedModels;
      expect(result.stdout).toContain(`model ok  ${model.file}  (${from})`);
    }
    expect(installedFiles(target)).toEqual(everyFile);
  }, 120_000);

  it('a base URL that has neither the files nor the bundle fails for every bundled file, saying how to get it', async () => {
    const { server, url } = await serveFolder(path.join(work, 'empty-mirror'));
    try {
      const target = path.join(work, 'nothing');
      const result = await run('fetch-models.mjs', [], { FACEKIT_MODEL_DIR: target, FACEKIT_MODEL_MIRROR: path.join(work, 'empty-mirror'), FACEKIT_MODEL_BASE_URL: url });
      expect(result.status).toBe(1);
      const bundled = manifest.models.filter((model) => model.obtain.method === 'bundle');
      for (const model of bundled) {
        expect(result.stderr).toContain(`model MISSING or CORRUPT: ${model.file}`);
        expect(result.stderr).toContain(`${url}/${bundleName}: HTTP 404`);
      }
      expect(result.stderr).toContain('npm run models:pack');
      expect(existsSync(target) ? installedFiles(target).filter((f) => bundled.some((m) => m.file === f)) : []).toEqual([]);
    } finally {
      server.close();
    }
  }, 120_000);
});

describe('npm run deploy guard', () => {
  it('predeploy checks the models first, in one line, before the bundle and Docker', () => {
    const scripts = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.predeploy.startsWith('node scripts/fetch-models.mjs --check --brief && ')).toBe(true);
  });

  it('on a machine without the models it prints exactly one line naming them and exits 1', async () => {
    const empty = path.join(work, 'no-models');
    mkdirSync(empty, { recursive: true });
    const result = await run('fetch-models.mjs', ['--check', '--brief'], { FACEKIT_MODEL_DIR: empty });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^facekit: ${manifest.models.length} model file\\(s\\) missing or corrupt \\(.*\\): run \`npm run models\` first`));
  });

  it('passes silently when the models are in place', async () => {
    const result = await run('fetch-models.mjs', ['--check', '--brief'], {});
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});
