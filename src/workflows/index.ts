// Every workflow the worker registers.
export { backup } from './backup';
export { restore } from './restore';
export { rollback } from './rollback';
export { rotateApiKeySecret } from './rotate-api-key-secret';
export { rotateSigningKey } from './rotate-signing-key';
export { upgrade } from './upgrade';
export { listBackups } from './list-backups';
export { listOffsiteCopies } from './list-offsite-copies';
export { scheduledBackup } from './scheduled-backup';
export { scheduledDrill } from './scheduled-drill';
export { preflight } from './preflight';
export { drill } from './dr-drill';
export { supportBundle } from './support-bundle';
export { cleanup, listKeptCopies } from './cleanup';
export { pgbackrestBackup } from './pgbackrest-backup';
export { pitrRestore } from './pitr-restore';
export { pgbackrestDrill } from './pgbackrest-drill';
