/**
 * Worker-thread entry: one FacePipeline per worker, so onnxruntime's `session.run` (which runs on
 * the calling thread) never blocks the server's event loop. Messages in: `{id, image, options}`
 * (pixels transferred, not copied); out: `{id, result}` or `{id, error}`; `{ready}` / `{failed}` once
 * at start.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FacekitConfig } from '../config.js';
import type { RgbImage } from '../image/types.js';
import { FacePipeline } from './pipeline.js';
import type { DetectOptions } from './types.js';

export interface AnalyzeMessage {
  readonly id: number;
  readonly image: { readonly data: Uint8Array; readonly width: number; readonly height: number };
  readonly options: DetectOptions;
}

const port = parentPort;
if (port) {
  const config = workerData as FacekitConfig;
  FacePipeline.create(config).then(
    (pipeline) => {
      port.on('message', (message: AnalyzeMessage) => {
        const image: RgbImage = { data: Buffer.from(message.image.data.buffer, message.image.data.byteOffset, message.image.data.byteLength), width: message.image.width, height: message.image.height };
        pipeline.analyze(image, message.options).then(
          (result) => port.postMessage({ id: message.id, result }),
          (error: unknown) => port.postMessage({ id: message.id, error: { message: (error as Error)?.message ?? String(error) } }),
        );
      });
      port.postMessage({ ready: true });
    },
    (error: unknown) => port.postMessage({ failed: (error as Error)?.message ?? String(error) }),
  );
}
