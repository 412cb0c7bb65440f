/**
 * Bounds the CPU-heavy part of requests (decode + models): at most `maxConcurrent` run at once,
 * at most `maxQueued` wait in FIFO order, and anything beyond is refused at once (OVERLOADED, 503)
 * rather than piling up memory and latency. Cheap requests (bad input, downloads) never wait here.
 * In Lambda each instance serves one request at a time, so the queue is always empty there.
 */
import { FacekitError } from './errors.js';

export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly maxConcurrent: number, readonly maxQueued: number) {
    if (!(Number.isInteger(maxConcurrent) && maxConcurrent >= 1)) throw new Error('maxConcurrent must be an integer ≥ 1');
    if (!(Number.isInteger(maxQueued) && maxQueued >= 0)) throw new Error('maxQueued must be an integer ≥ 0');
  }

  get depth(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) {
        throw new FacekitError('OVERLOADED', `the server is busy (${this.running} analyses running, ${this.waiting.length} queued); retry shortly`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
