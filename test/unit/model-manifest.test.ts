/**
 * models/manifest.json: every entry complete and well-typed, consistent with the mirror's SHA256SUMS
 * and with the files the runtime loads; the materialised models/ folder matches it (this test runs
 * after `npm run models`); and scripts/fetch-models.mjs verifies it and fails clearly on a corrupt
 * or missing file (exercised on a temporary copy through FACEKIT_MODEL_DIR).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lambda/config.js';
import { attributeModelFiles } from '../../lambda/vision/attributes/index.js';
import { allModelFiles } from '../../lambda/vision/models.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(repoRoot, 'models');
const fetchScript = path.join(repoRoot, 'scripts', 'fetch-models.mjs');
const sumsPath = path.resolve(repoRoot, '../shared/models/SHA256SUMS');

interface DerivedFrom {
  readonly file: string;
  readonly upstream: string;
  readonly sha256?: string;
  readonly bytes?: number;
}

/** How a stranger without a mirror gets the file (docs/models.md). */
type Obtain =
  | { readonly method: 'upstream'; readonly url: string; readonly why?: string }
  | { readonly method: 'derived'; readonly script: string; readonly from: readonly string[]; readonly args: readonly string[] }
  | { readonly method: 'bundle'; readonly why: string };

interface ManifestEntry {
  readonly file: string;
  readonly role: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly licence: string;
  readonly commercialUse: boolean;
  readonly source: string;
  readonly obtain: Obtain;
  readonly derivedFrom?: DerivedFrom;
  readonly derivation?: string;
  readonly npmPackage?: string;
  readonly npmVersion?: string;
  readonly npmPath?: string;
  readonly input: string;
  readonly output: string;
}

const manifest = JSON.parse(readFileSync(path.join(modelDir, 'manifest.json'), 'utf8')) as {
  description: string;
  bundle: { name: string; version: string; filesSha256: string };
  models: ManifestEntry[];
};
const entries = manifest.models;

/** A filled-in text field: a non-empty string that is not a placeholder. */
function isText(value: unknown): boolean {
  return typeof value === 'string' && value.trim().length > 0 && !/^(todo|tbd|null|n\/a)$/i.test(value.trim());
}

/** `file  sha256` pairs of a `sha256sum` listing. */
function readSums(file: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([0-9a-f]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (match) sums.set(match[2], match[1]);
  }
  return sums;
}

function runFetch(args: string[], env: Record<string, string | undefined>): SpawnSyncReturns<string> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.FACEKIT_MODEL_DIR;
  delete childEnv.FACEKIT_MODEL_MIRROR;
  delete childEnv.NODE_OPTIONS;
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return spawnSync(process.execPath, [fetchScript, ...args], { cwd: repoRoot, env: childEnv, encoding: 'utf8', timeout: 60_000 });
}

describe('models/manifest.json', () => {
  it('has a description and at least one model', () => {
    expect(isText(manifest.description)).toBe(true);
    expect(Array.isArray(entries)).toBe(true);
    expect(entries.length).toBeGreaterThan(0);
  });

  it.each(entries.map((entry) => [entry.file, entry] as const))('%s has every required field with the right type', (_file, entry) => {
    expect(entry.file).toMatch(/^[A-Za-z0-9._-]+\.onnx$/);
    expect(isText(entry.role)).toBe(true);
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isInteger(entry.bytes) && entry.bytes > 0).toBe(true);
    expect(isText(entry.licence)).toBe(true);
    expect(typeof entry.commercialUse).toBe('boolean');
    expect(isText(entry.source)).toBe(true);
    expect(isText(entry.input)).toBe(true);
    expect(isText(entry.output)).toBe(true);

    // obtain: the exact bytes' https URL, a committed derivation from other manifest files, or the
    // model bundle with the reason no script here can redo the conversion.
    const { obtain } = entry;
    expect(['upstream', 'derived', 'bundle']).toContain(obtain.method);
    if (obtain.method === 'upstream') {
      expect(new URL(obtain.url).protocol).toBe('https:');
      expect(obtain.url).not.toMatch(/\.tgz$/);
    }
    if (obtain.method === 'bundle') expect(isText(obtain.why)).toBe(true);
    if (obtain.method === 'derived') {
      expect(existsSync(path.join(repoRoot, obtain.script))).toBe(true);
      for (const source of obtain.from) expect(entries.some((other) => other.file === source && other.obtain.method !== 'derived')).toBe(true);
    }

    // derivedFrom records provenance: what the file came from and what was changed.
    if (entry.derivedFrom !== undefined) {
      expect(isText(entry.derivedFrom.file)).toBe(true);
      expect(isText(entry.derivedFrom.upstream)).toBe(true);
      if (entry.derivedFrom.sha256 !== undefined) expect(entry.derivedFrom.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (entry.derivedFrom.bytes !== undefined) expect(Number.isInteger(entry.derivedFrom.bytes)).toBe(true);
      expect(isText(entry.derivation)).toBe(true);
    }

    // Files shipped only inside an npm package: all three fields or none.
    const npm = [entry.npmPackage, entry.npmVersion, entry.npmPath];
    if (npm.some((value) => value !== undefined)) for (const value of npm) expect(isText(value)).toBe(true);
  });

  it('marks every non-commercial licence as not for commercial use', () => {
    for (const entry of entries) {
      if (/non-commercial/i.test(entry.licence)) expect({ file: entry.file, commercialUse: entry.commercialUse }).toEqual({ file: entry.file, commercialUse: false });
    }
  });

  it('records the model set the bundle version stands for (bump bundle.version when a file changes)', async () => {
    const { modelSetSha256 } = await import('../../scripts/model-files.mjs' as string);
    expect({ version: manifest.bundle.version, filesSha256: manifest.bundle.filesSha256 })
      .toEqual({ version: manifest.bundle.version, filesSha256: modelSetSha256(manifest) });
  });

  it('names each file once', () => {
    const files = entries.map((entry) => entry.file);
    expect(files.filter((file, index) => files.indexOf(file) !== index)).toEqual([]);
  });

  it('lists exactly the model files of the model table (vision/models.ts), which the config and attributes read, and the files they are derived from', () => {
    const sources = entries.flatMap((entry) => (entry.obtain.method === 'derived' ? entry.obtain.from : []));
    expect([...new Set(entries.map((entry) => entry.file))].sort()).toEqual([...new Set([...allModelFiles(), ...sources])].sort());
    // A source file is not loaded itself: only what the table names is.
    for (const source of sources) expect(allModelFiles()).not.toContain(source);
    const config = loadConfig({});
    const configured = [config.detector.modelFile, config.landmarkModelFile, config.genderAgeModelFile, config.faceResModelFile, ...attributeModelFiles()];
    expect(configured.filter((file) => !allModelFiles().includes(file))).toEqual([]);
  });

  (existsSync(sumsPath) ? it : it.skip)('agrees with ../shared/models/SHA256SUMS', () => {
    const sums = readSums(sumsPath);
    const mismatches: string[] = [];
    // Derived files are made here, not shipped in ../shared: their sources are checked instead.
    for (const entry of entries.filter((candidate) => candidate.obtain.method !== 'derived')) {
      const listed = sums.get(entry.file);
      if (listed !== entry.sha256) mismatches.push(`${entry.file}: manifest ${entry.sha256}, SHA256SUMS ${listed ?? 'not listed'}`);
      const original = entry.derivedFrom;
      if (original?.sha256 !== undefined && sums.has(original.file) && sums.get(original.file) !== original.sha256) {
        mismatches.push(`${entry.file} derivedFrom ${original.file}: manifest ${original.sha256}, SHA256SUMS ${sums.get(original.file)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('models/ folder (materialised by `npm run models`)', () => {
  it('holds every manifest file with the manifest size', () => {
    const problems: string[] = [];
    for (const entry of entries) {
      const file = path.join(modelDir, entry.file);
      if (!existsSync(file)) problems.push(`${entry.file}: missing (run \`npm run models\`)`);
      else if (statSync(file).size !== entry.bytes) problems.push(`${entry.file}: ${statSync(file).size} bytes, manifest ${entry.bytes}`);
    }
    expect(problems).toEqual([]);
  });

  it('passes `node scripts/fetch-models.mjs --check` (sha256 and size of every file)', () => {
    const result = runFetch(['--check'], {});
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    for (const entry of entries) expect(result.stdout).toContain(`model ok  ${entry.file}`);
  });
});

describe('derived models (obtain: derived)', () => {
  const derived = entries.filter((entry) => entry.obtain.method === 'derived');

  it.each(derived.map((entry) => [entry.file, entry] as const))('%s: fetch-models derives it with its committed script, byte for byte', (_file, entry) => {
    // Every other file in place and an empty mirror: the derivation script is the one way left.
    const workDir = mkdtempSync(path.join(tmpdir(), 'facekit-derive-'));
    try {
      const dir = path.join(workDir, 'models');
      const empty = path.join(workDir, 'empty-mirror');
      for (const folder of [dir, empty]) mkdirSync(folder, { recursive: true });
      for (const other of entries) if (other.file !== entry.file) copyFileSync(path.join(modelDir, other.file), path.join(dir, other.file));
      const result = runFetch([], { FACEKIT_MODEL_DIR: dir, FACEKIT_MODEL_MIRROR: empty, FACEKIT_MODEL_BASE_URL: undefined });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      expect(result.stdout).toContain(`model ok  ${entry.file}  (${(entry.obtain as { script: string }).script}`);
      const bytes = readFileSync(path.join(dir, entry.file));
      expect({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }).toEqual({ sha256: entry.sha256, bytes: entry.bytes });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('scripts/fetch-models.mjs on a corrupt or missing model (temporary copy via FACEKIT_MODEL_DIR)', () => {
  // The smallest model is corrupted, the next smallest removed; everything else stays intact.
  // Preferably files without an upstream url, so no case below can reach the network.
  const mirrorOnly = entries.filter((entry) => entry.obtain.method === 'bundle');
  const bySize = [...(mirrorOnly.length >= 2 ? mirrorOnly : entries)].sort((a, b) => a.bytes - b.bytes);
  const corrupt = bySize[0];
  const missing = bySize[1];
  const offline = corrupt.obtain.method === 'bundle' && missing.obtain.method === 'bundle';
  let workDir = '';
  let copyDir = '';

  beforeAll(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'facekit-models-'));
    copyDir = path.join(workDir, 'models');
    const empty = path.join(workDir, 'empty-mirror');
    for (const dir of [copyDir, empty]) mkdirSync(dir, { recursive: true });
    for (const entry of entries) copyFileSync(path.join(modelDir, entry.file), path.join(copyDir, entry.file));
    const bytes = readFileSync(path.join(copyDir, corrupt.file));
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(path.join(copyDir, corrupt.file), bytes);
    unlinkSync(path.join(copyDir, missing.file));
  });

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('uses two distinct files for the corrupt and the missing case', () => {
    expect(corrupt.file).not.toBe(missing.file);
  });

  it('--check exits non-zero, naming the corrupt file, its hash mismatch and how to get the models', () => {
    const result = runFetch(['--check'], { FACEKIT_MODEL_DIR: copyDir });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`model MISSING or CORRUPT: ${corrupt.file}`);
    expect(result.stderr).toContain(`${path.join(copyDir, corrupt.file)}: sha256 `);
    expect(result.stderr).toContain(`expected ${corrupt.sha256}`);
    expect(result.stderr).toContain(`model MISSING or CORRUPT: ${missing.file}`);
    expect(result.stderr).toContain(`${path.join(copyDir, missing.file)}: missing`);
    expect(result.stderr).toContain('FACEKIT_MODEL_MIRROR');
    expect(result.stderr).toContain('FACEKIT_MODEL_BASE_URL');
    expect(result.stderr).toContain('npm run models:pack');
    for (const entry of entries.filter((e) => e !== corrupt && e !== missing)) {
      expect(result.stdout).toContain(`model ok  ${entry.file}`);
      expect(result.stderr).not.toContain(entry.file);
    }
    // --check never repairs: the corrupt file is still there and still wrong.
    expect(readFileSync(path.join(copyDir, corrupt.file)).equals(readFileSync(path.join(modelDir, corrupt.file)))).toBe(false);
  });

  (offline ? it : it.skip)('a fill from a mirror without the files fails, naming the mirror path tried', () => {
    const emptyMirror = path.join(workDir, 'empty-mirror');
    const result = runFetch([], { FACEKIT_MODEL_DIR: copyDir, FACEKIT_MODEL_MIRROR: emptyMirror });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`${path.join(emptyMirror, corrupt.file)}: missing`);
    expect(result.stderr).toContain(`${path.join(emptyMirror, missing.file)}: missing`);
    // The advice tells the truth for a converted file: no public URL has it, the bundle does.
    expect(result.stderr).toContain('a converted file no public URL serves');
    expect(result.stderr).toContain('facekit-models-');
  });

  it('a fill from a mirror that has them restores both files and then --check passes', () => {
    const filled = runFetch([], { FACEKIT_MODEL_DIR: copyDir, FACEKIT_MODEL_MIRROR: modelDir });
    expect({ status: filled.status, stderr: filled.stderr }).toEqual({ status: 0, stderr: '' });
    expect(filled.stdout).toContain(`model ok  ${corrupt.file}  (${modelDir})`);
    expect(filled.stdout).toContain(`model ok  ${missing.file}  (${modelDir})`);
    for (const entry of [corrupt, missing]) {
      expect(readFileSync(path.join(copyDir, entry.file)).equals(readFileSync(path.join(modelDir, entry.file)))).toBe(true);
      expect(existsSync(path.join(copyDir, `${entry.file}.partial`))).toBe(false);
    }
    expect(runFetch(['--check'], { FACEKIT_MODEL_DIR: copyDir }).status).toBe(0);
  });
});
