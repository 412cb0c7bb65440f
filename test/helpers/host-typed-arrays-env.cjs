/**
 * Jest runs each test file in its own vm realm. onnxruntime-node checks tensor data with
 * `instanceof` against the host realm's typed-array constructors, so arrays made inside the test
 * realm are rejected ("A float32 tensor's data must be type of function Float32Array").
 * This environment hands the host's constructors (and Buffer) to the test globals.
 */
const { TestEnvironment } = require('jest-environment-node');

const HOST_CONSTRUCTORS = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Buffer', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array',
  'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
  'BigInt64Array', 'BigUint64Array',
];

class HostTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of HOST_CONSTRUCTORS) {
      if (globalThis[name] !== undefined) this.global[name] = globalThis[name];
    }
  }
}

module.exports = HostTypedArraysEnvironment;
