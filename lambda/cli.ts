/**
 * `facekit detect <image files or folders...>`: the pipeline on local files, no server.
 *   --format native   (default) the native route's response per image
 *   --format full     {file, width, height, faces:[{box, score, landmarks5, landmarks106, gender, age}]}
 *   --jsonl           one JSON line per image (default: pretty JSON, file name on stderr)
 *   --min-confidence  detector score threshold (e.g. 0.02 for AP measurement)
 *   --max-faces N     keep the N largest faces
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatNativeBody } from './api/native.js';
import { loadConfig } from './config.js';
import { isFacekitError } from './errors.js';
import { createRuntime, detect, type Runtime } from './runtime.js';
import type { DetectResult, Point } from './vision/types.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.gif', '.tif', '.tiff']);
const USAGE = 'usage: facekit detect <image files or folders...> [--format native|full] [--jsonl] [--min-confidence X] [--max-faces N]';

/** Files named directly, plus image files found (recursively, sorted) in named folders. */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    if ((await stat(input)).isDirectory()) {
      const entries = (await readdir(input, { recursive: true })).map((entry) => join(input, entry)).sort();
      for (const entry of entries) {
        if (IMAGE_EXTENSIONS.has(extname(entry).toLowerCase()) && (await stat(entry)).isFile()) files.push(entry);
      }
    } else {
      files.push(input);
    }
  }
  return files;
}

const pair = (point: Point): [number, number] => [point.x, point.y];

export function formatFull(file: string, result: DetectResult): unknown {
  return {
    file,
    width: result.width,
    height: result.height,
    faces: result.faces.map((face) => ({
      box: [face.box.x, face.box.y, face.box.width, face.box.height],
      score: face.score,
      landmarks5: face.landmarks5.map(pair),
      landmarks106: face.landmarks106?.map(pair),
      gender: face.gender?.value,
      age: face.age,
    })),
  };
}

async function detectFile(runtime: Runtime, file: string, options: { minConfidence?: number; maxFaces?: number }): Promise<DetectResult> {
  const bytes = await readFile(file);
  return detect(runtime, {
    image: { kind: 'bytes', bytes, field: file },
    options: { landmarks106: true, genderAge: true, attributes: new Set(), ...options },
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'native' },
      jsonl: { type: 'boolean', default: false },
      'min-confidence': { type: 'string' },
      'max-faces': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...inputs] = positionals;
  if (values.help || command !== 'detect' || inputs.length === 0) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.format !== 'native' && values.format !== 'full') {
    console.error(`--format must be native or full\n${USAGE}`);
    return 2;
  }
  const minConfidence = values['min-confidence'] === undefined ? undefined : Number(values['min-confidence']);
  if (minConfidence !== undefined && !(minConfidence > 0 && minConfidence <= 1)) {
    console.error('--min-confidence must be a number in (0, 1]');
    return 2;
  }
  const maxFaces = values['max-faces'] === undefined ? undefined : Number(values['max-faces']);
  if (maxFaces !== undefined && !(Number.isInteger(maxFaces) && maxFaces >= 1)) {
    console.error('--max-faces must be an integer ≥ 1');
    return 2;
  }

  let files: string[];
  try {
    files = await expandInputs(inputs);
  } catch (error) {
    console.error(`facekit: ${(error as Error).message}`);
    return 2;
  }
  const config = loadConfig();
  const runtime = await createRuntime(config);
  let failures = 0;
  for (const file of files) {
    let output: unknown;
    try {
      const result = await detectFile(runtime, file, { ...(minConfidence !== undefined ? { minConfidence } : {}), ...(maxFaces !== undefined ? { maxFaces } : {}) });
      output = values.format === 'full' ? formatFull(file, result) : formatNativeBody(result, config.faceModelVersion);
    } catch (error) {
      if (!isFacekitError(error)) throw error;
      failures++;
      output = { file, error: { code: error.code, message: error.message } };
    }
    if (values.jsonl) {
      console.log(JSON.stringify(output));
    } else {
      console.error(`==> ${file}`);
      console.log(JSON.stringify(output, null, 2));
    }
  }
  return failures > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`facekit: ${(error as Error).message}`);
  return 1;
});
