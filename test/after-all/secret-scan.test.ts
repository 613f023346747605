// Runs last (scripts/test.ts runs test/after-all/ once every other file has finished): every
// secret value the suite generated must be absent from every workflow history on the shared
// Temporal server, from the histories exported from private servers, and from every worker
// log and CLI output the suite kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { allHistories, filesUnder, logDir, needles, readRecordedSecrets } from '../harness/secret-scan';
import { startTemporal } from '../harness/temporal';

test('no secret the suite generated is in any workflow history or log', async (t) => {
  const secrets = readRecordedSecrets();
  if (!secrets.length) {
    // Alone (npx tsx scripts/test.ts test/after-all/secret-scan.test.ts) there is nothing to scan;
    // the whole suite must have recorded some.
    assert.ok(!process.env.DAY2_TEST_ALL_FILES, 'the whole suite ran but recorded no secret: recordTestSecrets is broken');
    t.skip('no secrets recorded: run it with the whole suite');
    return;
  }
  const hits: string[] = [];
  const search = (where: string, text: string) => {
    for (const [i, secret] of secrets.entries()) {
      if (needles(secret).some((n) => text.includes(n))) hits.push(`secret #${i} (${secret.length} chars) in ${where}`);
    }
  };

  const temporal = await startTemporal();
  const stats = { encryptedPayloads: 0, undecryptable: 0 };
  let histories = 0;
  try {
    for await (const h of allHistories(temporal.client, stats)) {
      search(`history of ${h.workflowId} (run ${h.runId})`, h.text);
      histories++;
    }
  } finally {
    await temporal.stop();
  }

  const dir = logDir();
  const files = dir ? filesUnder(dir) : [];
  let exported = 0;
  for (const file of files) {
    if (file.includes(`${path.sep}histories${path.sep}`)) exported++;
    search(path.relative(dir!, file), readFileSync(file, 'utf8'));
  }
  console.log(
    `secret scan: ${secrets.length} secrets × (${histories} histories on the shared server + ${exported} exported from private servers + ` +
      `${files.length - exported} log files); ${stats.encryptedPayloads} encrypted payloads (${stats.undecryptable} not decryptable with a test keyring); ` +
      `${hits.length} hits`,
  );
  assert.ok(histories > 0 || !process.env.DAY2_TEST_ALL_FILES, 'no workflow history to scan');
  assert.deepEqual(hits, [], 'secret values leaked');
});
