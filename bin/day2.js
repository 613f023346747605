#!/usr/bin/env node
// Runs the TypeScript CLI in this very process (tsx registered as a loader here, not a
// second node): a supervisor's SIGTERM, systemd's stop or `kill -9` of this pid then reach
// the real worker / dev server, which drains and exits itself, and nothing is orphaned.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/client/main.ts');
process.exit(await main(process.argv));
