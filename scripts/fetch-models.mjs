#!/usr/bin/env node
/**
 * Fills models/ with the files listed in models/manifest.json, always checking sha256 and size.
 * Sources, in order: a file already in models/ with the right hash (kept), the folder named by
 * FACEKIT_MODEL_MIRROR, then the manifest's upstream url. Exits non-zero with a message naming
 * each missing or corrupt file and how to get it.
 *
 *   node scripts/fetch-models.mjs            fill models/
 *   node scripts/fetch-models.mjs --check    only verify; never copy or download
 *
 * FACEKIT_MODEL_DIR names another folder to fill or check instead of models/ (the runtime reads the
 * same variable); the manifest is always the project's models/manifest.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = process.env.FACEKIT_MODEL_DIR ? resolve(process.env.FACEKIT_MODEL_DIR) : join(projectRoot, 'models');
const manifest = JSON.parse(readFileSync(join(projectRoot, 'models', 'manifest.json'), 'utf8'));
/** How messages name a file in the model folder. */
const shown = (file) => (process.env.FACEKIT_MODEL_DIR ? join(modelDir, file) : `models/${file}`);
const checkOnly = process.argv.includes('--check');
const mirror = process.env.FACEKIT_MODEL_MIRROR ? resolve(process.env.FACEKIT_MODEL_MIRROR) : undefined;
const DOWNLOAD_TIMEOUT_MS = 120_000;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Why `bytes` is not the manifest's file, or undefined when it is. */
function mismatch(model, bytes) {
  if (bytes.length !== model.bytes) return `size ${bytes.length} bytes, expected ${model.bytes}`;
  const digest = sha256(bytes);
  if (digest !== model.sha256) return `sha256 ${digest}, expected ${model.sha256}`;
  return undefined;
}

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

async function materialise(model) {
  const target = join(modelDir, model.file);
  const problems = [];
  if (existsSync(target)) {
    const problem = mismatch(model, readFileSync(target));
    if (!problem) return { file: model.file, from: shown('') };
    problems.push(`${shown(model.file)}: ${problem}`);
  } else {
    problems.push(`${shown(model.file)}: missing`);
  }
  if (checkOnly) return { file: model.file, problems };

  if (mirror) {
    const mirrored = join(mirror, model.file);
    if (existsSync(mirrored)) {
      const bytes = readFileSync(mirrored);
      const problem = mismatch(model, bytes);
      if (!problem) { install(model, bytes); return { file: model.file, from: mirror }; }
      problems.push(`${mirrored}: ${problem}`);
    } else {
      problems.push(`${mirrored}: missing`);
    }
  }
  if (model.url) {
    try {
      const bytes = await download(model.url);
      const problem = mismatch(model, bytes);
      if (!problem) { install(model, bytes); return { file: model.file, from: model.url }; }
      problems.push(`${model.url}: ${problem}`);
    } catch (error) {
      problems.push(`${model.url}: ${error.message}`);
    }
  }
  return { file: model.file, problems };
}

const results = await Promise.all(manifest.models.map(materialise));
const failed = results.filter((result) => result.problems);
for (const result of results.filter((r) => !r.problems)) console.log(`model ok  ${result.file}  (${result.from})`);
if (failed.length > 0) {
  for (const result of failed) {
    console.error(`model MISSING or CORRUPT: ${result.file}`);
    for (const problem of result.problems) console.error(`    ${problem}`);
    if (!manifest.models.find((model) => model.file === result.file).url) {
      console.error('    no upstream url (derived/converted file, see models/manifest.json): only a mirror has it');
    }
  }
  console.error(
    '\nGet the models by setting FACEKIT_MODEL_MIRROR to a folder that holds them ' +
      '(e.g. FACEKIT_MODEL_MIRROR=../shared/models npm run models), or run `npm run models` with ' +
      'internet access to download them from the upstream urls in models/manifest.json.',
  );
  process.exit(1);
}
