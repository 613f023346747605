// backup.compression → pg_dump's -Z. PostgreSQL 15's pg_dump takes a gzip level only
// (`-Z 0..9`); 16 added `-Z method[:level]` with lz4 and zstd. A method the worker's
// pg_dump lacks is refused before the dump starts, saying what would work.
import { BadInputError } from './errors';

export type CompressionMethod = 'none' | 'gzip' | 'lz4' | 'zstd';

export interface DumpCompression {
  method: CompressionMethod;
  /** Absent: the method's default level. */
  level?: number;
}

export const COMPRESSION_PATTERN = /^(?:[0-9]|none|gzip(?::[1-9])?|lz4(?::(?:[1-9]|1[0-2]))?|zstd(?::(?:[1-9]|1\d|2[0-2]))?)$/;
export const COMPRESSION_HINT = 'expected a gzip level 0..9, none, gzip[:1..9], lz4[:1..12] or zstd[:1..22]';

/** Pure: the config value (already matched against COMPRESSION_PATTERN) as method and level. */
export function parseCompression(value: number | string): DumpCompression {
  const text = String(value);
  if (!COMPRESSION_PATTERN.test(text)) throw new BadInputError(`backup.compression '${text}': ${COMPRESSION_HINT}`);
  if (/^\d$/.test(text)) return Number(text) === 0 ? { method: 'none' } : { method: 'gzip', level: Number(text) };
  const [method, level] = text.split(':') as [CompressionMethod, string | undefined];
  return level === undefined ? { method } : { method, level: Number(level) };
}

/** The pg_dump arguments for `compression` with a pg_dump of major version `pgDumpMajor`. */
export function compressionArgs(value: number | string | undefined, pgDumpMajor: number): string[] {
  if (value === undefined) return [];
  const { method, level } = parseCompression(value);
  if (pgDumpMajor >= 16) return [`--compress=${level === undefined ? method : `${method}:${level}`}`];
  if (method === 'none') return ['--compress=0'];
  // gzip's default level, as pg_dump picks it when -Z is not given.
  if (method === 'gzip') return [`--compress=${level ?? 6}`];
  throw new BadInputError(
    `backup.compression '${value}': this worker's pg_dump is version ${pgDumpMajor}, which compresses with gzip only (${method} needs pg_dump 16 or newer)`,
    `set backup.compression to a gzip level (0..9 or gzip:N), or install PostgreSQL 16+ client tools on the worker (or point PG_BIN_DIR at them)`,
  );
}
