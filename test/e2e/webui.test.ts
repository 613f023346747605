// The Temporal Web UI in a real browser (headless Chromium from Debian's `chromium`
// package) on a day2 restore waiting at its confirmation gate: the page must show the
// workflow, its current step and the gate with the command that approves it. Chromium
// missing is a failure with the install command, never a silent skip.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { captureWebUi } from '../../scripts/webui-screenshot';
import { findChromium } from '../harness/chromium';

const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-webui-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The text a person reads: tags dropped, entities decoded, whitespace collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');
}

test('Chromium is installed (apt-get install -y chromium)', async () => {
  await findChromium();
});

test('the Web UI shows a waiting restore: the workflow, its current step, the gate and how to approve it', async () => {
  const capture = await captureWebUi({ pngPath: path.join(dir, 'webui.png'), domPath: path.join(dir, 'dom.html') });
  assert.deepEqual(capture.missing, [], 'the page showed everything we waited for');
  const text = visibleText(readFileSync(path.join(dir, 'dom.html'), 'utf8'));
  assert.equal(capture.currentStep, 'Confirm restore');
  assert.equal(capture.gate, 'confirm-restore');
  for (const expected of [
    capture.workflowId,
    'Running',
    'day2 restore on ledger',
    '☑ Verify backup',
    '⚑ Confirm restore',
    '☐ Restore into staging database',
    'Waiting at gate confirm-restore',
    `day2 approve ${capture.workflowId} --gate confirm-restore --reason "<why>"`,
  ]) {
    assert.ok(text.includes(expected), `the page shows '${expected}'`);
  }
  assert.ok(statSync(capture.png).size > 20_000, 'a real screenshot, not a blank page');
});
