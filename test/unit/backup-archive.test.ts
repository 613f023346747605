// What `pg_restore --list` says an archive creates: the in-place restore drops exactly the
// relations the archive does not have, so tables and views must be told from their data
// entries. The listing is one PostgreSQL 15 printed for a small database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArchiveListing } from '../../src/activities/database/backup-archive';

const LISTING = `;
; Archive created at 2026-11-22 15:30:00 UTC
;     dbname: lst
;     TOC Entries: 12
;
6; 2615 16401 SCHEMA - s postgres
215; 1259 16388 TABLE public t postgres
217; 1259 16397 MATERIALIZED VIEW public mv postgres
216; 1259 16393 VIEW public v postgres
218; 1259 16402 TABLE s u postgres
3355; 0 16388 TABLE DATA public t postgres
3357; 0 16402 TABLE DATA s u postgres
3210; 2606 16392 CONSTRAINT public t t_pkey postgres
3356; 0 16397 MATERIALIZED VIEW DATA public mv postgres
`;

test('pg_restore --list: tables and views, never their data entries', () => {
  const contents = parseArchiveListing(LISTING);
  assert.equal(contents.dbname, 'lst');
  assert.equal(contents.tocEntries, 9);
  assert.deepEqual(contents.tables, ['public.t', 's.u']);
  assert.deepEqual(contents.views, ['public.mv', 'public.v']);
});
