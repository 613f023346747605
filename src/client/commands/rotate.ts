// `day2 rotate api-key-secret` and `day2 rotate vault-signing-key`: start the rotation
// workflow and follow it. Nothing secret passes through here — the activities generate
// and write the secrets; the CLI sees and prints fingerprints.
import type { Command } from 'commander';
import { GATES } from '../../domain/gate-names';
import { defaultDeployment } from '../../config';
import { type RotateApiKeySecretInput, type RotateSigningKeyInput } from '../../domain/rotation';
import type { CliContext } from '../context';
import { runOperation, type RunOptions } from '../run-operation';
import { parseCount } from './operations';

export function registerRotateCommands(program: Command, context: () => CliContext): void {
  const rotate = program
    .command('rotate')
    .description('rotate a secret of the deployment: api-key-secret (dual-secret window) or vault-signing-key');

  rotate
    .command('api-key-secret')
    .description(
      'save the current API key secret as the previous one, write a new one, restart with both accepted; ' +
        `gate ${GATES.verifyDualSecret}; re-hash every key; restart and verify; gate ${GATES.commitRotation}; ` +
        'remove the previous secret and restart',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option(
      '--gate-timeout <seconds>',
      "decide each gate within this time (default: the gate's timeoutSeconds in day2.yaml, else a week)",
      parseCount,
    )
    .option('--detach', 'return once started')
    .addHelpText(
      'after',
      '\nExample:\n  day2 rotate api-key-secret --deployment ledger\n' +
        `  day2 approve day2-ledger --gate ${GATES.verifyDualSecret} --reason "integrations checked"\n` +
        `  day2 approve day2-ledger --gate ${GATES.commitRotation} --reason "old secret no longer used"`,
    )
    .action(async (opts: RunOptions & { gateTimeout?: number }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const gates = ctx.config.deployments[deployment]!.gates;
      const timeoutOf = (gate: string) => opts.gateTimeout ?? gates[gate]?.timeoutSeconds;
      const input: RotateApiKeySecretInput = {
        deployment,
        gateTimeoutSeconds: {
          [GATES.verifyDualSecret]: timeoutOf(GATES.verifyDualSecret),
          [GATES.commitRotation]: timeoutOf(GATES.commitRotation),
        },
      };
      process.exitCode = await runOperation(
        ctx,
        { operation: 'rotate-api-key-secret', workflowType: 'rotateApiKeySecret', deployment, input },
        opts,
      );
    });

  rotate
    .command('vault-signing-key')
    .description(
      'generate a new Ed25519 signing key, keep the old public key in <backup.dir>/keyring.json, restart, verify the chain across both keys',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--detach', 'return once started')
    .addHelpText('after', '\nExample:\n  day2 rotate vault-signing-key --deployment ledger')
    .action(async (opts: RunOptions) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const input: RotateSigningKeyInput = { deployment };
      process.exitCode = await runOperation(
        ctx,
        { operation: 'rotate-signing-key', workflowType: 'rotateSigningKey', deployment, input },
        opts,
      );
    });
}
