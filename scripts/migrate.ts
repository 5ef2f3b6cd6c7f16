/** `npm run migrate` from a checkout (tsx); the compiled image runs src/db/migrate-cli directly. */
import '../src/db/migrate-cli.js'
