import { FacekitError } from '../../lambda/errors.js';

/** Awaits a promise that must reject with a FacekitError, and returns that error. */
export async function expectFacekitError(promise: Promise<unknown>): Promise<FacekitError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FacekitError);
  return error as FacekitError;
}
