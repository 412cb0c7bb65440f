#!/usr/bin/env node
/**
 * Fills models/ with the files listed in models/manifest.json, always checking sha256 and size.
 * A file already in models/ with the right bytes is kept. Otherwise, in order:
 *   1. FACEKIT_MODEL_MIRROR (a folder) when set, else ../shared/models beside the project when it
 *      exists (how this project's own machines keep the models);
 *   2. FACEKIT_MODEL_BASE_URL (a folder URL: a release, the team's S3 bucket): `<url>/<file>`, then
 *      the model bundle `<url>/facekit-models-<version>.tar.gz` that `npm run models:pack` writes;
 *   3. the entry's own `obtain`: `upstream` downloads the exact bytes' public URL; `derived` runs the
 *      committed script named there on files already in place.
 * Exits non-zero with one block per missing or corrupt file that says how that file can be had.
 *
 *   node scripts/fetch-models.mjs            fill models/
 *   node scripts/fetch-models.mjs --check    only verify; never copy or download
 *   node scripts/fetch-models.mjs --check --brief   the same, in one line (npm run deploy's guard)
 *
 * FACEKIT_MODEL_DIR names another folder to fill or check instead of models/ (the runtime reads the
 * same variable); the manifest is always the project's models/manifest.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleFileName, mismatch, projectRoot, readManifest, readTarGz } from './model-files.mjs';

const modelDir = process.env.FACEKIT_MODEL_DIR ? resolve(process.env.FACEKIT_MODEL_DIR) : join(projectRoot, 'models');
const manifest = readManifest();
/** How messages name a file in the model folder. */
const shown = (file) => (process.env.FACEKIT_MODEL_DIR ? join(modelDir, file) : `models/${file}`);
const checkOnly = process.argv.includes('--check');
const brief = process.argv.includes('--brief');
const SIBLING_SHARED_MODELS = resolve(projectRoot, '..', 'shared', 'models');
const mirror = process.env.FACEKIT_MODEL_MIRROR
  ? resolve(process.env.FACEKIT_MODEL_MIRROR)
  : existsSync(SIBLING_SHARED_MODELS) ? SIBLING_SHARED_MODELS : undefined;
const baseUrl = process.env.FACEKIT_MODEL_BASE_URL?.replace(/\/+$/, '');
const DOWNLOAD_TIMEOUT_MS = 300_000;

async function download(url) {
  const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Writes through a temporary name so an interrupted copy never leaves a half file behind. */
function install(model, bytes) {
  const target = join(modelDir, model.file);
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(`${target}.partial`, bytes);
  renameSync(`${target}.partial`, target);
}

/** The bundle, downloaded at most once per run and only when some file needs it. */
let bundleFiles;
function bundle() {
  bundleFiles ??= download(`${baseUrl}/${bundleFileName(manifest)}`).then(readTarGz);
  return bundleFiles;
}

/**
 * Each way to get a file, in order: where it looked (named in problems), the source named when it
 * worked (a mirror folder is named once for all its files) and a function giving the bytes.
 */
function sourcesOf(model) {
  const sources = [];
  if (mirror) {
    sources.push([join(mirror, model.file), mirror, async () => {
      if (!existsSync(join(mirror, model.file))) throw new Error('missing');
      return readFileSync(join(mirror, model.file));
    }]);
  }
  if (baseUrl) {
    sources.push([`${baseUrl}/${model.file}`, `${baseUrl}/${model.file}`, () => download(`${baseUrl}/${model.file}`)]);
    const bundleUrl = `${baseUrl}/${bundleFileName(manifest)}`;
    sources.push([bundleUrl, bundleUrl, async () => {
      const bytes = (await bundle()).get(model.file);
      if (!bytes) throw new Error('not in the bundle');
      return bytes;
    }]);
  }
  const { obtain } = model;
  if (obtain.method === 'upstream') sources.push([obtain.url, obtain.url, () => download(obtain.url)]);
  if (obtain.method === 'derived') {
    const script = `${obtain.script} (from ${obtain.from.join(', ')})`;
    sources.push([script, script, () => derive(model)]);
  }
  return sources;
}

/** Runs the entry's committed derivation script, which writes `<file>.partial`; its bytes are checked like any other. */
async function derive(model) {
  const inputs = model.obtain.from.map((file) => manifest.models.find((entry) => entry.file === file));
  for (const input of inputs) {
    const path = join(modelDir, input.file);
    if (!existsSync(path) || mismatch(input, readFileSync(path))) throw new Error(`needs ${shown(input.file)} first`);
  }
  const output = join(modelDir, `${model.file}.partial`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, model.obtain.script), ...model.obtain.args, '--model-dir', modelDir, '--out', output], {
    cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.status !== 0) throw new Error(`exit ${run.status}: ${(run.stderr || run.error?.message || '').trim().split('\n').slice(-3).join(' / ')}`);
  return readFileSync(output);
}

async function materialise(model) {
  const target = join(modelDir, model.file);
  const problems = [];
  if (existsSync(target)) {
    const problem = mismatch(model, readFileSync(target));
    if (!problem) return { model, from: shown('') };
    problems.push(`${shown(model.file)}: ${problem}`);
  } else {
    problems.push(`${shown(model.file)}: missing`);
  }
  if (checkOnly) return { model, problems };
  for (const [place, source, read] of sourcesOf(model)) {
    try {
      const bytes = await read();
      const problem = mismatch(model, bytes);
      if (!problem) { install(model, bytes); return { model, from: source }; }
      problems.push(`${place}: ${problem}`);
    } catch (error) {
      problems.push(`${place}: ${error.message}`);
    }
  }
  return { model, problems };
}

/** What a user without the file can do, true to how this file can be had. */
function advice(model) {
  const hosted = `set FACEKIT_MODEL_BASE_URL to the folder URL that holds ${bundleFileName(manifest)} ` +
    '(made by `npm run models:pack` on a machine that has the models), or FACEKIT_MODEL_MIRROR to a folder with the files';
  switch (model.obtain.method) {
    case 'upstream': return `download it with internet access (\`npm run models\` fetches ${model.obtain.url}), or ${hosted}`;
    case 'derived': return `made from ${model.obtain.from.join(', ')} by ${model.obtain.script} during \`npm run models\`: get those first`;
    default: return `a converted file no public URL serves (${model.obtain.why}): ${hosted}`;
  }
}

// Derived files come last, once the files they are made from are in place.
const direct = manifest.models.filter((model) => model.obtain.method !== 'derived');
const derived = manifest.models.filter((model) => model.obtain.method === 'derived');
const results = await Promise.all(direct.map(materialise));
for (const model of derived) results.push(await materialise(model));

const failed = results.filter((result) => result.problems);
if (brief) {
  if (failed.length > 0) {
    console.error(`facekit: ${failed.length} model file(s) missing or corrupt (${failed.map((r) => r.model.file).join(', ')}): run \`npm run models\` first (docs/models.md).`);
    process.exit(1);
  }
  process.exit(0);
}
for (const result of results.filter((r) => !r.problems)) console.log(`model ok  ${result.model.file}  (${result.from})`);
if (failed.length > 0) {
  for (const { model, problems } of failed) {
    console.error(`model MISSING or CORRUPT: ${model.file}`);
    for (const problem of problems) console.error(`    ${problem}`);
    console.error(`    how to get it: ${advice(model)}`);
  }
  console.error('\nSee docs/models.md ("Getting the models"); `npm run models` retries.');
  process.exit(1);
}
