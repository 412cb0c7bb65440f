import { FacekitError } from '../../lambda/errors.js';
import { WorkQueue } from '../../lambda/work-queue.js';

/** A task that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

describe('WorkQueue', () => {
  test('runs at most maxConcurrent at once, the rest in FIFO order', async () => {
    const queue = new WorkQueue(2, 10);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((item, index) => queue.run(async () => { started.push(index); await item.promise; return index; }));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(queue.depth).toEqual({ running: 2, queued: 2 });
    gates[1].open();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[0].open(); gates[2].open(); gates[3].open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(queue.depth).toEqual({ running: 0, queued: 0 });
  });

  test('refuses with OVERLOADED (503) once the queue is full, and frees slots after failures', async () => {
    const queue = new WorkQueue(1, 1);
    const first = gate();
    const running = queue.run(() => first.promise);
    const queued = queue.run(async () => 'queued');
    await expect(queue.run(async () => 'refused')).rejects.toMatchObject({ code: 'OVERLOADED', status: 503 });
    await expect(queue.run(async () => 'refused')).rejects.toBeInstanceOf(FacekitError);
    first.open();
    await running;
    expect(await queued).toBe('queued');
    await expect(queue.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await queue.run(async () => 'after a failure')).toBe('after a failure');
    expect(queue.depth).toEqual({ running: 0, queued: 0 });
  });

  test('validates its limits', () => {
    expect(() => new WorkQueue(0, 1)).toThrow('maxConcurrent');
    expect(() => new WorkQueue(1, -1)).toThrow('maxQueued');
  });
});
