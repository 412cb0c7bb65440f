/**
 * `npm run models:int8`: writes models/<name>.int8.onnx for every model in INT8_MODELS from the
 * float file and the committed calibration, and prints file, sha256 and bytes.
 */
import { INT8_MODELS, deriveInt8File } from './int8-models.js';

for (const model of INT8_MODELS) {
  const { file, sha256, bytes } = await deriveInt8File(model);
  console.log(`${file} sha256 ${sha256} bytes ${bytes}`);
}
