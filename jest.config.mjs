/**
 * Jest in ESM mode (Middy is ESM-only). Type checking is done once by `tsc --noEmit` in `npm test`,
 * so ts-jest only transpiles (isolatedModules in tsconfig.json).
 */
export default {
  testEnvironment: '<rootDir>/test/helpers/host-typed-arrays-env.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  maxWorkers: 2,
};
