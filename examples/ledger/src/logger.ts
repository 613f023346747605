// One JSON object per line on stdout (`time`, `level`, `msg`, fields). Callers pass ids,
// counts and fingerprints; nothing here knows about secrets, so nothing secret is passed.
type Level = 'info' | 'warn' | 'error' | 'fatal';
type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  fatal(msg: string, fields?: Fields): void;
}

export function createLogger(base: Fields): Logger {
  const write =
    (level: Level) =>
    (msg: string, fields: Fields = {}) => {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields })}\n`);
    };
  return { info: write('info'), warn: write('warn'), error: write('error'), fatal: write('fatal') };
}
