// Connections and transactions. Every connection names itself (application_name) so an
// operator — or day2 before a restore — can see and terminate the ledger's sessions.
import pg from 'pg';

/** Anything that runs a query: a client, a pool client, or a pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Advisory lock keys (one bigint namespace per purpose). */
export const ADVISORY_LOCK = {
  migrate: 4_201_000_001,
  vaultAppend: 4_201_000_002,
} as const;

const CONNECT_TIMEOUT_MS = 5_000;

export async function connectClient(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  return client;
}

export function createPool(url: string, applicationName: string, opts: { max?: number; readOnly?: boolean } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: opts.max ?? 5,
    // Read-only sessions make "this process never writes" a property of the database,
    // not a promise of the code.
    options: opts.readOnly ? '-c default_transaction_read_only=on' : undefined,
  });
  // An idle client losing its server (restore, restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

export async function withTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Runs fn in a transaction on a client checked out of the pool. */
export async function withPooledTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await withTransaction(client, () => fn(client));
  } finally {
    client.release();
  }
}

export async function tableExists(db: Queryable, table: string): Promise<boolean> {
  const result = await db.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
  return result.rows[0]?.exists === true;
}
