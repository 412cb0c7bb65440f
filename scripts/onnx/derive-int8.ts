/**
 * `npm run models:int8`: writes models/<name>.int8.onnx for every model in INT8_MODELS from the
 * float file and the committed calibration, and prints file, sha256 and bytes. `--all` derives
 * every calibrated model, adopted or not.
 */
import { INT8_CANDIDATES, INT8_MODELS, deriveInt8File } from './int8-models.js';

// --all: also the calibrated models not adopted (to measure them with scripts/int8-report.ts).
for (const model of process.argv.includes('--all') ? INT8_CANDIDATES : INT8_MODELS) {
  const { file, sha256, bytes } = await deriveInt8File(model);
  console.log(`${file} sha256 ${sha256} bytes ${bytes}`);
}
