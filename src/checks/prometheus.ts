// Prometheus text exposition, for metric checks: just enough of the format to find one
// sample, `name{label="value",…} value [timestamp]`.
import { shorten } from './shorten';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Selector {
  name: string;
  labels: Record<string, string>;
}

/** `name` or `name{a="b",c="d"}`. */
export function parseMetricSelector(text: string): Selector {
  const parsed = parseSeries(text.trim());
  if (!parsed || parsed.rest.trim() !== '') throw new Error(`not a metric name: ${shorten(text, 60)}`);
  return { name: parsed.name, labels: parsed.labels };
}

/** The one sample the selector names. A bare name means the unlabelled sample, or the only
 * sample of that name; given labels must all match (others may exist), and exactly one
 * sample may match — otherwise the check is ambiguous and says so. */
export function findSample(exposition: string, selector: Selector): { sample: Sample } | { problem: string } {
  const samples = parseExposition(exposition).filter((s) => s.name === selector.name);
  if (samples.length === 0) return { problem: `metric ${selector.name} not found` };
  const wanted = Object.entries(selector.labels);
  const matching = samples.filter((s) => wanted.every(([k, v]) => s.labels[k] === v));
  const exact = wanted.length === 0 ? matching.filter((s) => Object.keys(s.labels).length === 0) : [];
  const chosen = exact.length === 1 ? exact : matching;
  if (chosen.length === 1) return { sample: chosen[0]! };
  if (chosen.length === 0) return { problem: `no sample of ${selector.name} has labels ${formatLabels(selector.labels)}` };
  return { problem: `${chosen.length} samples of ${selector.name} match: add labels to pick one, e.g. ${formatSeries(chosen[0]!)}` };
}

export function formatSample(sample: Sample): string {
  return `${formatSeries(sample)} = ${sample.value}`;
}

function formatSeries(s: Selector): string {
  return Object.keys(s.labels).length ? `${s.name}${formatLabels(s.labels)}` : s.name;
}

function formatLabels(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const series = parseSeries(trimmed);
    const valueText = series?.rest.trim().split(/\s+/)[0];
    if (!series || !valueText) continue;
    samples.push({ name: series.name, labels: series.labels, value: parseValue(valueText) });
  }
  return samples;
}

function parseValue(text: string): number {
  if (/^\+?Inf$/i.test(text)) return Infinity;
  if (/^-Inf$/i.test(text)) return -Infinity;
  return Number(text); // NaN stays NaN: every comparison with it fails, as it should
}

/** Name and labels from the start of `text`; `rest` is what follows the series. */
function parseSeries(text: string): (Selector & { rest: string }) | null {
  const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(text)?.[0];
  if (!name) return null;
  const labels: Record<string, string> = {};
  let i = name.length;
  if (text[i] !== '{') return { name, labels, rest: text.slice(i) };
  i++;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { name, labels, rest: text.slice(i + 1) };
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
    if (!key) return null;
    i += key.length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=') return null;
    i++;
    while (text[i] === ' ') i++;
    if (text[i] !== '"') return null;
    let value = '';
    for (i++; i < text.length && text[i] !== '"'; i++) {
      const c = text[i]!;
      if (c === '\\') {
        const next = text[++i];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += c;
    }
    if (text[i] !== '"') return null;
    labels[key] = value;
    i++;
  }
}
