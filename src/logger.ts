// Structured JSON logs (pino). Anything that looks like a secret is redacted by key, and
// activities only ever log fingerprints of secret values.
import pino from 'pino';

const SECRET_KEYS = ['secret', 'password', 'token', 'apiKey', 'privateKey', 'signingKey', 'databaseUrl', 'url', 'env'];

export function createLogger(name: string, level = 'info'): pino.Logger {
  return pino({
    name,
    level,
    redact: {
      paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]),
      censor: '[REDACTED]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type Logger = pino.Logger;
