// What the client, the worker and the approver pass to Temporal: the AES-GCM payload
// codec when day2.yaml configures `temporal.codec`, nothing otherwise. Codecs run outside
// the workflow sandbox, so the workflow bundle is the same either way.
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { Day2Config } from '../config';
import { AesGcmPayloadCodec } from './aes-gcm-codec';
import { loadKeyring } from './keys';

export function payloadCodecsOf(config: Day2Config): PayloadCodec[] {
  const keyring = loadKeyring(config);
  return keyring ? [new AesGcmPayloadCodec(keyring)] : [];
}

/** `{ payloadCodecs: [codec] }`, or undefined when no codec is configured. */
export function dataConverterOf(config: Day2Config): DataConverter | undefined {
  const payloadCodecs = payloadCodecsOf(config);
  return payloadCodecs.length ? { payloadCodecs } : undefined;
}
