import { averagePrecision, boxIou, largestBy, matchLabelled, normalisedMeanError } from '../../scripts/evaluation.js';

const box = (x: number, y: number, width: number, height: number, score = 1) => ({ x, y, width, height, score });
const truth = (x: number, y: number, width: number, height: number, ignore = false) => ({ x, y, width, height, ignore });

describe('evaluation metrics', () => {
  test('boxIou', () => {
    expect(boxIou(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(boxIou(box(0, 0, 10, 10), box(5, 0, 10, 10))).toBeCloseTo(50 / 150, 9);
  });

  test('perfect detections give AP 1; a false positive ranked first lowers it', () => {
    const truths = [[truth(0, 0, 10, 10), truth(50, 50, 10, 10)]];
    expect(averagePrecision([[box(0, 0, 10, 10, 0.9), box(50, 50, 10, 10, 0.8)]], truths).ap).toBeCloseTo(1, 9);
    const withFalsePositive = averagePrecision([[box(100, 100, 10, 10, 0.95), box(0, 0, 10, 10, 0.9), box(50, 50, 10, 10, 0.8)]], truths);
    // precision at recall 0.5 is 1/2, at recall 1 is 2/3 → envelope 2/3 over the whole recall range.
    expect(withFalsePositive.ap).toBeCloseTo(2 / 3, 9);
  });

  test('a missed face caps AP at the recall; duplicates are false positives; ignored faces count neither way', () => {
    const truths = [[truth(0, 0, 10, 10), truth(50, 50, 10, 10), truth(80, 80, 10, 10, true)]];
    const result = averagePrecision([[box(0, 0, 10, 10, 0.9), box(80, 80, 10, 10, 0.85), box(0, 0, 10, 10, 0.8)]], truths);
    expect(result.positives).toBe(2);
    expect(result.recall).toBeCloseTo(0.5, 9);
    expect(result.ap).toBeCloseTo(0.5, 9);
  });

  test('normalisedMeanError divides by the distance between the first two (eye) points', () => {
    const truthPoints = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 5, y: 5 }];
    const predicted = [{ x: 1, y: 0 }, { x: 10, y: 0 }, { x: 5, y: 7 }];
    expect(normalisedMeanError(predicted, truthPoints)).toBeCloseTo((1 + 0 + 2) / 3 / 10, 9);
  });
});

describe('largestBy and matchLabelled', () => {
  const detections = [
    { id: 'a', box: { x: 0, y: 0, width: 10, height: 10 } },
    { id: 'b', box: { x: 100, y: 100, width: 20, height: 20 } },
    { id: 'c', box: { x: 1, y: 1, width: 10, height: 10 } },
    { id: 'd', box: { x: 200, y: 200, width: 20, height: 20 } },
  ];
  const boxOf = (item: (typeof detections)[number]) => item.box;

  it('picks the largest box, the first of equals', () => {
    expect(largestBy(detections, boxOf)?.id).toBe('b');
    expect(largestBy([], boxOf)).toBeUndefined();
  });

  it('matches each labelled box once, in label order, to the best unused detection above the IoU', () => {
    const labels = [
      { name: 'first', box: [0, 0, 10, 10] as [number, number, number, number] },
      { name: 'second', box: [0, 0, 10, 10] as [number, number, number, number] }, // a is taken: falls to c
      { name: 'no box', box: null },
      { name: 'nothing near', box: [500, 500, 10, 10] as [number, number, number, number] },
    ];
    const matches = matchLabelled(labels, detections, boxOf, 0.5);
    expect(matches.map(({ label, detection }) => [label.name, detection.id])).toEqual([['first', 'a'], ['second', 'c']]);
  });
});
