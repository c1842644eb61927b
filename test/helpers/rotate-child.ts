// A process that starts a master-secret rotation and stops inside its transaction, so a test can
// SIGKILL it there. Secrets arrive through the environment, never argv.
import { openDatabase } from '../../daemon/db/database.js';
import { rotateMasterSecret } from '../../daemon/crypto/rotation.js';
import { boxFromHex } from './secrets.js';

const { ROTATE_DB, ROTATE_OLD_HEX, ROTATE_NEW_HEX, ROTATE_STOP_AFTER } = process.env;
const db = await openDatabase(ROTATE_DB!);
await rotateMasterSecret(db, boxFromHex(ROTATE_OLD_HEX!), boxFromHex(ROTATE_NEW_HEX!), {
  async onProgress(done) {
    if (done === Number(ROTATE_STOP_AFTER)) {
      process.stdout.write('MIDWAY\n');
      await new Promise(() => {}); // hold the transaction open until killed
    }
  },
});
process.stdout.write('FINISHED\n');
await db.destroy();
