// A verify check for the rotation tests, run by day2 as a `command` check: uses an API key
// created before the rotation (read from a 0600 file, so day2.yaml holds no secret) to
//   whoami <baseUrl> <keyFile>   GET /whoami → exit 0 on 200
//   append <baseUrl> <keyFile>   POST /entries → exit 0 on 201, prints the signing key id
// It prints statuses and ids only, never the key: its last line lands in check details.
import { readFileSync } from 'node:fs';

const [command, baseUrl, keyFile] = process.argv.slice(2);
if (!command || !baseUrl || !keyFile) {
  console.error('usage: ledger-canary whoami|append <baseUrl> <keyFile>');
  process.exit(2);
}
const headers = { authorization: `Bearer ${readFileSync(keyFile, 'utf8').trim()}`, 'content-type': 'application/json' };

const res =
  command === 'append'
    ? await fetch(`${baseUrl}/entries`, { method: 'POST', headers, body: JSON.stringify({ canary: new Date().toISOString() }) })
    : await fetch(`${baseUrl}/whoami`, { headers });
const body = (await res.json().catch(() => ({}))) as { name?: string; seq?: number; keyId?: string };
const ok = res.status === (command === 'append' ? 201 : 200);
console.log(
  command === 'append'
    ? `${res.status}: entry ${body.seq ?? '?'} signed by ${body.keyId ?? '?'}`
    : `${res.status}: ${body.name ?? 'unauthenticated'}`,
);
process.exit(ok ? 0 : 1);
