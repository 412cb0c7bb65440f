import { clipRegion, detectorPasses, largestIndices } from '../../lambda/vision/pipeline.js';
import { loadConfig } from '../../lambda/config.js';

const detector = loadConfig({}).detector;

describe('detector passes', () => {
  test('a large image: main pass at the max side plus a shrink-only 640² close-up pass', () => {
    expect(detectorPasses({ x: 0, y: 0, width: 4000, height: 3000 }, detector)).toEqual([
      { input: { width: 1536, height: 1152 }, maxScale: Infinity },
      { input: { width: 640, height: 640 }, maxScale: 1 },
    ]);
  });

  test('a WIDER-sized image is enlarged 1.5× for the main pass', () => {
    expect(detectorPasses({ x: 0, y: 0, width: 1024, height: 768 }, detector)[0].input).toEqual({ width: 1536, height: 1152 });
  });

  test('a small image is enlarged for the main pass but never for the close-up pass', () => {
    const [main, closeUp] = detectorPasses({ x: 0, y: 0, width: 200, height: 200 }, detector);
    expect(main.input).toEqual({ width: 640, height: 640 });
    expect(closeUp).toEqual({ input: { width: 640, height: 640 }, maxScale: 1 });
  });

  test('closeUpPassSide 0 disables the close-up pass; maxInputSide 640 is the fast option', () => {
    const passes = detectorPasses({ x: 0, y: 0, width: 1024, height: 768 }, { ...detector, maxInputSide: 640, closeUpPassSide: 0 });
    expect(passes).toEqual([{ input: { width: 640, height: 480 }, maxScale: Infinity }]);
  });
});

describe('face selection helpers', () => {
  const face = (width: number) => ({ box: { x: 0, y: 0, width, height: width } });

  test('largestIndices picks by box area', () => {
    expect([...largestIndices([face(10), face(50), face(30), face(40)], 2)].sort()).toEqual([1, 3]);
  });

  test('clipRegion clips to the image and refuses an empty region', () => {
    expect(clipRegion(undefined, 100, 50)).toEqual({ x: 0, y: 0, width: 100, height: 50 });
    expect(clipRegion({ x: -10, y: 10, width: 50, height: 100 }, 100, 50)).toEqual({ x: 0, y: 10, width: 40, height: 40 });
    expect(clipRegion({ x: 200, y: 0, width: 10, height: 10 }, 100, 50)).toBeUndefined();
  });
});
