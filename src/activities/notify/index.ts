// The runbooks' "notify a webhook on success and on failure": one JSON POST per ended
// operation. A POST cannot be taken back, so a retry (after a crash or a 5xx) sends the
// same Idempotency-Key and the receiver can drop the repeat. The URL may carry a token:
// it is read here, from day2.yaml or the env file, and only its host is ever logged.
import { failure } from '../../domain/failures';
import type { NotifyResult, OperationEvent } from '../../domain/types';
import type { ActivityDeps } from '../shared/deps';
import { readEnvFile } from '../../envfile';
import { fetchErrorText } from '../../checks/http-match';

const TIMEOUT_MS = 10_000;

export function notifyActivities(deps: ActivityDeps) {
  return {
    async notifyWebhook(event: OperationEvent): Promise<NotifyResult> {
      const d = deps.resolve(event.deployment);
      const { webhookUrl, webhookUrlVar, on } = d.notify;
      const url = webhookUrl ?? (webhookUrlVar ? (await readEnvFile(d.envFile)).get(webhookUrlVar) : undefined);
      if (!url) {
        return { sent: false, detail: webhookUrlVar ? `${webhookUrlVar} is not set in ${d.envFile}` : 'no webhook configured' };
      }
      if (!on.includes(event.outcome)) return { sent: false, detail: `notify.on leaves out '${event.outcome}'` };
      const host = hostOf(url);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${event.workflowId}/${event.runId}/${event.outcome}` },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        throw failure('WebhookFailed', `webhook at ${host} unreachable: ${fetchErrorText(err)}`);
      }
      await res.body?.cancel();
      if (!res.ok) throw failure('WebhookFailed', `webhook at ${host} answered ${res.status}`);
      deps.logger.info(
        { deployment: event.deployment, operation: event.operation, outcome: event.outcome, host, status: res.status },
        'webhook notified',
      );
      return { sent: true, detail: `${res.status} from ${host}` };
    },
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw failure('ConfigError', 'the webhook URL is not a URL (notify.webhookUrlVar in the env file)');
  }
}
