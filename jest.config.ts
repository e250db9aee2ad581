import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^express-resurs-checkout$': '<rootDir>/src/index.ts',
  },
  testTimeout: 30_000,
  // Suites start real servers (the stand-in, redis-server, Chromium); two workers suit these 2-core machines.
  maxWorkers: 2,
};

export default config;
