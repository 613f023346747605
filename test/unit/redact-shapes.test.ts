// The support bundle's shape-based masking: secrets a service printed that the env file
// does not hold (so the exact-value pass cannot know them) are masked by what they look
// like. Only the value goes; the words around it stay, so the line still says what failed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scrubSecrets } from '../../src/activities/shared/redact';

const scrub = (text: string) => scrubSecrets(text, []);

describe('secret shapes in text the env file does not explain', () => {
  const cases: Array<[string, string, string]> = [
    [
      'a quoted password (PostgreSQL)',
      `FATAL: password authentication failed for user "x" (connection: password 'hunter2-not-in-env')`,
      `FATAL: password authentication failed for user "x" (connection: password '[REDACTED]')`,
    ],
    ['a double-quoted password', `ALTER ROLE app PASSWORD "p@ss w0rd";`, `ALTER ROLE app PASSWORD "[REDACTED]";`],
    ['password=', 'connect host=db password=hunter2 dbname=x', 'connect host=db password=[REDACTED] dbname=x'],
    ['a prefixed name, spaces around =', 'DB_PASSWORD = hunter2', 'DB_PASSWORD = [REDACTED]'],
    ['passwd:', 'passwd: hunter2', 'passwd: [REDACTED]'],
    ['secret=', 'client_secret=abc123def&grant=x', 'client_secret=[REDACTED]&grant=x'],
    ['token=', 'GET /cb?state=1&token=tok_9f8e7d6c HTTP/1.1', 'GET /cb?state=1&token=[REDACTED] HTTP/1.1'],
    [
      'a JSON field',
      '{"level":"info","access_token":"eyJhbGciOi.x.y","user":"bob"}',
      '{"level":"info","access_token":"[REDACTED]","user":"bob"}',
    ],
    ['a JSON field with an escaped quote', '{"password":"a\\"b","ok":1}', '{"password":"[REDACTED]","ok":1}'],
    [
      'JSON logged inside a JSON string',
      '{"msg":"config {\\"token\\":\\"abc123\\"} and PASSWORD \\"x y\\""}',
      '{"msg":"config {\\"token\\":\\"[REDACTED]\\"} and PASSWORD \\"[REDACTED]\\""}',
    ],
    ['api_key=', 'calling with api_key=AbC123xyz', 'calling with api_key=[REDACTED]'],
    ['apikey:', 'apikey: 0f0f0f0f', 'apikey: [REDACTED]'],
    ['X-Api-Key header', 'X-Api-Key: 0f0f0f0f0f', 'X-Api-Key: [REDACTED]'],
    ['Authorization: Bearer', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc', 'Authorization: Bearer [REDACTED]'],
    ['Authorization: Basic', 'header authorization: Basic dXNlcjpodW50ZXIy', 'header authorization: Basic [REDACTED]'],
    ['a bare bearer token', 'retrying with Bearer 9a8b7c6d5e4f3a2b1c0d', 'retrying with Bearer [REDACTED]'],
    ['user:password@ in a URL', 'dialing postgres://app:hunter2@db:5432/ledger', 'dialing postgres://[REDACTED]@db:5432/ledger'],
    ['an AWS access key id', 'using key AKIAIOSFODNN7EXAMPLE for s3', 'using key [REDACTED] for s3'],
    [
      'a PEM private key block',
      'loaded:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq8Xo1fQ==\n-----END RSA PRIVATE KEY-----\nready',
      'loaded:\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\nready',
    ],
    [
      'a PEM block cut off by the log tail',
      'key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF',
      'key:\n-----BEGIN PRIVATE KEY-----\n[REDACTED]',
    ],
    [
      'a PEM block inside JSON',
      '{"key":"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----\\n"}',
      '{"key":"-----BEGIN EC PRIVATE KEY-----\\n[REDACTED]\\n-----END EC PRIVATE KEY-----\\n"}',
    ],
  ];
  for (const [what, input, expected] of cases) test(what, () => assert.equal(scrub(input), expected));

  test('masking twice changes nothing more', () => {
    for (const [, input, expected] of cases) assert.equal(scrub(scrub(input)), expected);
  });

  test('ordinary lines are left alone', () => {
    const lines = [
      'password reset email sent to bob@example.com',
      'FATAL: password authentication failed for user "x"',
      'Enter password:',
      'max_tokens=100 token_count=7 secrets=3',
      'rotating the API key secret (fingerprint 0123456789ab)',
      'a public key: -----BEGIN PUBLIC KEY-----',
      'Basic checks passed; Bearer authentication enabled',
      'AKIA is how AWS key ids begin',
      'CREATE TABLE public.sessions (token text NOT NULL, secret_hash bytea);',
      'GET https://example.com/path?page=2 200',
    ];
    for (const line of lines) assert.equal(scrub(line), line);
  });

  test('after the exact pass: a known value is masked wherever it is, shapes catch the rest', () => {
    assert.equal(
      scrubSecrets('known s3cret-value-1 here; password=unknown-one', ['s3cret-value-1']),
      'known [REDACTED] here; password=[REDACTED]',
    );
  });
});
