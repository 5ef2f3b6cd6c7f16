import { defineConfig } from 'vitest/config'

/**
 * Two projects (Hono's and Unkey's split): `unit` is pure and parallel; `integration` talks to
 * the real Postgres, Redis, nginx-rtmp, ffmpeg and Chromium that test/global-setup.ts and the
 * tests themselves start, one file at a time so the 2-core CI machine is not oversubscribed.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'src/**/*.int.test.ts',
            'scripts/**/*.int.test.ts',
            'test/**/*.int.test.ts',
            'test/e2e/**/*.e2e.test.ts',
          ],
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { concurrent: false },
        },
      },
    ],
  },
})
