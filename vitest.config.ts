import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // Builds the web console (dist/console) once, as npm start does.
    globalSetup: ['test/support/console-build.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: each test file starts real servers, so two files at a time.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
