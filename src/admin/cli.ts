/**
 * @module admin/cli — operator commands (`npm run admin -- <command> <email>`; in the image:
 * `node dist/src/admin/cli.js …`), against DATABASE_URL (and REDIS_URL or REDIS_CLUSTER_NODES, REDIS_PREFIX for demote,
 * which also ends the user's sessions):
 *   promote <email>   make the account an admin (this is how the first admin is made)
 *   demote <email>    make an admin a normal user again and sign them out everywhere
 */

import { createDb } from '../db/client.js'
import { errText } from '../log.js'
import { createRedis } from '../redis/client.js'
import { createKeys, DEFAULT_PARTITIONS } from '../redis/keys.js'
import { demoteByEmail, promoteByEmail } from './commands.js'

const USAGE = 'usage: npm run admin -- promote <email> | demote <email>'
const [command, email, ...extra] = process.argv.slice(2)
if (!command || !email || extra.length > 0 || !['promote', 'demote'].includes(command)) {
  console.error(USAGE)
  process.exit(64) // EX_USAGE
}

const env = process.env
const { db, sql } = createDb(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:54329/live', { max: 1 })
let exitCode = 0
try {
  let result: Awaited<ReturnType<typeof promoteByEmail>>
  if (command === 'promote') {
    result = await promoteByEmail(db, email)
  } else {
    const { redis, redisSub } = createRedis({
      url: env.REDIS_URL ?? 'redis://127.0.0.1:63799',
      clusterNodes: env.REDIS_CLUSTER_NODES?.split(',').filter(Boolean),
    })
    redisSub.disconnect() // a role change publishes nothing
    try {
      const deps = {
        db,
        redis,
        keys: createKeys(env.REDIS_PREFIX ?? '', Number(env.REDIS_PARTITIONS ?? DEFAULT_PARTITIONS)),
        now: Date.now,
        config: { ACCESS_TOKEN_TTL_S: 900 },
      }
      result = await demoteByEmail(deps, email)
    } finally {
      redis.disconnect()
    }
  }
  if (!result) {
    console.error(`no account with the email ${email}`)
    exitCode = 1
  } else {
    const what = result.changed
      ? `is now ${result.role === 'admin' ? 'an admin' : 'a normal user'}`
      : `was already ${result.role}`
    console.log(`${result.username} <${result.email}> ${what}`)
  }
} catch (err) {
  console.error(`${command} failed: ${errText(err)}`)
  exitCode = 1
} finally {
  await sql.end({ timeout: 5 })
}
process.exit(exitCode)
