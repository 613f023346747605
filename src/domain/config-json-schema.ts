// day2.yaml as JSON Schema (zod's own export), for editors (`day2 config schema`) and for
// docs/config.md. `io: 'input'`: what a person may write, so keys with defaults are optional.
import { z } from 'zod';
import { day2ConfigSchema } from './config-schema';

export type JsonSchema = { [key: string]: any };

export function configJsonSchema(): JsonSchema {
  return {
    ...z.toJSONSchema(day2ConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'day2.yaml',
    description: 'Configuration of day2: the Temporal connection and the deployments it operates (docs/config.md).',
  };
}
