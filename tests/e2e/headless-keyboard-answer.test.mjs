// @ts-check
// The `answer` keyboard command (docs/HEADLESS.md): a call with no auto-answer header rings; the
// person presses Alt+Shift+Y and Ferrophone answers it (sipp receives the 200 only after the key
// press). The key press is real: raw key events reach Chrome's accelerator handling, which fires
// chrome.commands.onCommand for the shortcut the manifest suggests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from './harness.mjs';
import { pressAltShift, recordCallEvents, registeredAlice, startSipp, waitCallEvent } from './fixtures/headless.mjs';

test('Alt+Shift+Y answers the ringing call', async (t) => {
  const { ext, page } = await registeredAlice('headless-keyboard-answer');
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);
  const tab = await ext.ctx.newPage();
  await tab.goto('about:blank');

  // Nothing rings yet: the command has nothing to answer.
  await pressAltShift(ext.ctx, tab, 'Y');
  await sleep(300);
  assert.ok(ext.lines.some((l) => l.includes('[ferrophone] keyboard command answer:') && !l.endsWith(': ok')), 'nothing to answer is logged');

  const running = startSipp({
    scenario: 'uac_autoanswer.xml', name: 'keyboard-answer', artifacts: ext.artifacts, note: ext.note, durationMs: 500,
    keys: { aa_header: 'X-Lab: no auto-answer', aa_header2: 'X-Lab2: none' },
  });
  const ringing = await waitCallEvent(callEvents, (e) => e.call.direction === 'incoming' && e.call.state === 'ringing', 'the ringing call');
  assert.equal(ringing.call.autoAnswer, false);
  await sleep(1500); // it keeps ringing: nobody answers by itself
  assert.ok(!(await callEvents()).some((e) => e.call.state === 'active'), 'still ringing after 1.5 s');

  const pressedAt = Date.now();
  await pressAltShift(ext.ctx, tab, 'Y');
  await waitCallEvent(callEvents, (e) => e.call.id === ringing.call.id && e.call.state === 'active', 'the answered call', 5000);
  const run = await running;
  assert.equal(run.code, 0, `sipp received the 200 and hung up (${run.stderr.slice(-500)})`);
  const ok = run.messages.find((m) => m.dir === 'received' && m.status === 200 && /INVITE$/.test(m.cseq));
  assert.ok(ok && ok.time >= pressedAt, 'the 200 came after the key press');
  assert.ok(ext.lines.some((l) => l.includes('[ferrophone] keyboard command answer: ok')));
  const ended = await waitCallEvent(callEvents, (e) => e.call.id === ringing.call.id && e.call.state === 'ended', 'the end', 5000);
  assert.equal(ended.call.endReason, 'remote-hangup');
});
