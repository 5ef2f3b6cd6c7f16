/** Types for the values test/global-setup.ts hands to every test file through inject(). */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    redisUrl: string
  }
}

export {}
