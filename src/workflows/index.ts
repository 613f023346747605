// Every workflow the worker registers.
export { backup } from './backup';
export { restore } from './restore';
export { rollback } from './rollback';
export { rotateApiKeySecret } from './rotate-api-key-secret';
export { rotateSigningKey } from './rotate-signing-key';
export { upgrade } from './upgrade';
export { listBackups } from './list-backups';
