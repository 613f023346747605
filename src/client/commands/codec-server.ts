// `day2 codec-server`: serves the Temporal codec-server protocol with day2's payload codec,
// so the Web UI can show decrypted inputs and results to whoever holds the key.
import type { Command } from 'commander';
import { createCodecServer, listen } from '../../codec/codec-server';
import { payloadCodecsOf } from '../../codec/data-converter';
import { ConfigError } from '../../config';
import { BadInputError } from '../../domain/errors';
import type { CliContext } from '../context';

interface CodecServerOptions {
  port: number;
  host: string;
  corsOrigin?: string[];
}

export function registerCodecServerCommand(program: Command, context: () => CliContext): void {
  program
    .command('codec-server')
    .description('decrypt payloads for the Web UI (Temporal codec-server protocol) with the key of temporal.codec')
    .option('--port <n>', 'port to listen on', parsePort, 8888)
    .option('--host <address>', 'address to listen on (it decrypts for anyone who reaches it)', '127.0.0.1')
    .option('--cors-origin <origin...>', 'Web UI origin(s) allowed to call it (default: the origin of temporal.uiUrl)')
    .addHelpText(
      'after',
      '\nExample:\n  day2 codec-server --port 8888 --cors-origin http://127.0.0.1:8233\n' +
        '  then in the Web UI: Settings (⚙) → Codec Server → http://127.0.0.1:8888',
    )
    .action(async (opts: CodecServerOptions) => {
      const ctx = context();
      const codecs = payloadCodecsOf(ctx.config);
      if (!codecs.length) throw new ConfigError('no payload codec is configured: add temporal.codec (keyFile or keyEnv) to day2.yaml');
      const corsOrigins = opts.corsOrigin ?? [new URL(ctx.config.temporal.uiUrl).origin];
      const server = createCodecServer({ codecs, corsOrigins, log: (line) => process.stderr.write(`codec-server: ${line}\n`) });
      const { url } = await listen(server, opts.port, opts.host);
      ctx.say(`codec server at ${url} (CORS: ${corsOrigins.join(', ')}); Ctrl-C stops it`);
      ctx.say(`  Web UI: Settings (⚙) → Codec Server → ${url}`);
      ctx.json({ url, corsOrigins });
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new BadInputError(`'${value}' is not a port number`);
  return n;
}
