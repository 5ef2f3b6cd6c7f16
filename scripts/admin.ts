/** `npm run admin` from a checkout (tsx); the compiled image runs src/admin/cli directly. */
import '../src/admin/cli.js'
