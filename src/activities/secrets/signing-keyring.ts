// The keyring beside the backups: the public keys of retired vault signing keys, each with
// the time range it signed, so entries signed before a rotation stay verifiable
// (`ctl scan --keyring <backup.dir>/keyring.json`). Public data, but kept 0600 like
// everything else in the backup directory; rewritten atomically.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/atomic-file';
import { ensureBackupDir } from '../shared/backup-files';

export const KEYRING_FILE = 'keyring.json';

const entrySchema = z.looseObject({
  keyId: z.string(),
  publicKey: z.string(),
  fingerprint: z.string().optional(),
  /** When the key started signing, as far as day2 knows (null: before day2 kept a keyring). */
  from: z.string().nullable().optional(),
  /** When day2 replaced it. The service signs with it until its restart completes. */
  to: z.string().optional(),
  /** The rotation that retired it: what makes a retried rotation find its own work. */
  rotationId: z.string().optional(),
});
const keyringSchema = z.looseObject({ keys: z.array(entrySchema) });

export type KeyringEntry = z.infer<typeof entrySchema>;
export type Keyring = z.infer<typeof keyringSchema>;

export const keyringPath = (backupDir: string) => path.join(backupDir, KEYRING_FILE);

/** The keyring, or an empty one before the first rotation. One that does not parse is an
 * error: rewriting it would lose the keys that verify history. */
export async function readKeyring(file: string): Promise<Keyring> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw err;
  }
  try {
    return keyringSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new Error(`keyring ${file} is not valid (${(err as Error).message.split('\n')[0]}); fix or move it before rotating`, {
      cause: err,
    });
  }
}

export async function writeKeyring(file: string, keyring: Keyring): Promise<void> {
  await ensureBackupDir(path.dirname(file));
  await writeFileAtomic(file, `${JSON.stringify(keyring, null, 2)}\n`);
}
