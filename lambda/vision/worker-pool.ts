/**
 * A FaceAnalyzer backed by worker threads, each with its own FacePipeline (its own sessions,
 * intra-op threads split between them). Used by the local server so inference never holds the
 * event loop: cheap requests (bad input, routing) are answered while analyses run. Each worker takes
 * one analysis at a time (the WorkQueue in front bounds how many are in flight).
 */
import { Worker } from 'node:worker_threads';
import type { FacekitConfig } from '../config.js';
import type { RgbImage } from '../image/types.js';
import type { AnalysisResult, FaceAnalyzer } from './analyzer.js';
import type { DetectOptions } from './types.js';

interface Pending {
  readonly resolve: (result: AnalysisResult) => void;
  readonly reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  readonly pending: Map<number, Pending>;
}

type WorkerReply = { ready: true } | { failed: string } | { id: number; result: AnalysisResult } | { id: number; error: { message: string } };

/** Starts one worker and resolves once its models are loaded (rejects with the load error). */
function startWorker(file: URL, config: FacekitConfig): Promise<PoolWorker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, { workerData: config });
    const entry: PoolWorker = { worker, pending: new Map() };
    const onStartup = (reply: WorkerReply): void => {
      if ('ready' in reply) { worker.off('message', onStartup); resolve(entry); }
      if ('failed' in reply) {
        worker.off('message', onStartup);
        worker.terminate().then(() => reject(new Error(reply.failed)), () => reject(new Error(reply.failed)));
      }
    };
    worker.on('message', onStartup);
    worker.once('error', reject);
  });
}

export class WorkerPool implements FaceAnalyzer {
  private nextId = 1;
  private lastChosen = -1;
  private closed = false;

  private constructor(private readonly file: URL, private readonly config: FacekitConfig, private readonly workers: PoolWorker[]) {
    workers.forEach((entry) => this.attach(entry));
  }

  /**
   * `count` workers sharing the process's cores (each session gets cores / count intra-op threads).
   * Rejects, with the model's message, if any worker cannot load the models.
   */
  static async create(file: URL, config: FacekitConfig, count: number): Promise<WorkerPool> {
    const perWorker = { ...config, intraOpThreads: Math.max(1, Math.floor(config.intraOpThreads / count)) };
    // Wait for every worker to finish loading before judging: exiting while another thread is still
    // inside onnxruntime's model loading can abort the process instead of exiting cleanly.
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(file, perWorker)));
    const workers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map((entry) => entry.worker.terminate()));
      throw failure.reason;
    }
    return new WorkerPool(file, perWorker, workers);
  }

  private attach(entry: PoolWorker): void {
    entry.worker.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const pending = entry.pending.get(reply.id);
      if (!pending) return;
      entry.pending.delete(reply.id);
      if ('result' in reply) pending.resolve(reply.result);
      else pending.reject(new Error(`analysis failed in a worker: ${reply.error.message}`));
    });
    // A worker that dies fails its analyses and is replaced, so one crash does not take the pool down.
    entry.worker.once('exit', (code) => {
      for (const pending of entry.pending.values()) pending.reject(new Error(`inference worker exited with code ${code}`));
      entry.pending.clear();
      if (this.closed) return;
      startWorker(this.file, this.config).then(
        (replacement) => { entry.worker = replacement.worker; this.attach(entry); },
        (error: unknown) => console.error(JSON.stringify({ level: 'error', msg: 'worker restart failed', error: String(error) })),
      );
    });
  }

  /** The worker with the fewest analyses in flight; ties rotate, so every worker warms up and shares the load. */
  private leastBusyWorker(): PoolWorker {
    let chosen = -1;
    for (let step = 1; step <= this.workers.length; step++) {
      const index = (this.lastChosen + step) % this.workers.length;
      if (chosen < 0 || this.workers[index].pending.size < this.workers[chosen].pending.size) chosen = index;
    }
    this.lastChosen = chosen;
    return this.workers[chosen];
  }

  analyze(image: RgbImage, options: DetectOptions): Promise<AnalysisResult> {
    const entry = this.leastBusyWorker();
    const id = this.nextId++;
    // Copy into a buffer of its own, then transfer it: the caller's Buffer may share a pooled ArrayBuffer.
    const pixels = new Uint8Array(image.data);
    return new Promise((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.postMessage({ id, image: { data: pixels, width: image.width, height: image.height }, options }, [pixels.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }
}
