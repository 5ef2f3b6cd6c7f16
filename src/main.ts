/** @module main — process entry: load config from the environment, start, and shut down cleanly on signals. */
import { ConfigError, loadConfig } from './config.js'
import { createLogger } from './log.js'
import { startServer } from './server.js'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig(process.env)
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(78) // EX_CONFIG
  }
  throw err
}

const log = createLogger({ level: config.LOG_LEVEL })
const running = await startServer(config, { log })

let signalled = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return
    signalled = true
    log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      log.error('shutdown timed out; exiting')
      process.exit(1)
    }, 10_000)
    force.unref()
    running.shutdown().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  })
}
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'))
