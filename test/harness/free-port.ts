// The same free-port finder the scratch PostgreSQL cluster uses.
export { freeLoopbackPort as freePort } from '../../src/lib/scratch-cluster';
