// @ts-check
// BroadSoft remote hold and resume (docs/HEADLESS.md): on an established call (sipp "trunk",
// auto-answered with Call-Info answer-after=0), an in-dialog NOTIFY `Event: hold` makes Ferrophone
// send a re-INVITE whose SDP says a=sendonly; sipp answers it (a=recvonly). A NOTIFY `Event: talk`
// then makes it send a re-INVITE with a=sendrecv. sipp itself checks the directions (the scenario
// fails otherwise); the spec checks them again in sipp's message trace and in the call events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordCallEvents, registeredAlice, sipp, waitCallEvent } from './fixtures/headless.mjs';

/** @param {string} sdp  the direction attribute of the audio stream */
const direction = (sdp) => (/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(sdp) || [])[1];

test('NOTIFY Event: hold holds an active call (a=sendonly), Event: talk resumes it (a=sendrecv)', async (t) => {
  const { ext, page } = await registeredAlice('headless-notify-hold', { settings: { autoAnswer: 'headers' } });
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);

  const run = await sipp('uac_notify_hold.xml', { name: 'notify-hold', artifacts: ext.artifacts, note: ext.note, durationMs: 500, timeoutS: 30 });
  assert.equal(run.code, 0, `sipp: hold → re-INVITE a=sendonly, talk → re-INVITE a=sendrecv (${run.stderr.slice(-500)})`);

  const notifies = run.messages.filter((m) => m.dir === 'sent' && m.method === 'NOTIFY');
  const reinvites = run.messages.filter((m) => m.dir === 'received' && m.method === 'INVITE');
  assert.deepEqual(notifies.map((m) => (/^Event:\s*(\S+)/m.exec(m.text) || [])[1]), ['hold', 'talk']);
  assert.equal(reinvites.length, 2, 'two re-INVITEs from Ferrophone');
  assert.equal(direction(reinvites[0].text), 'sendonly', 'the re-INVITE after "hold" offers a=sendonly');
  assert.equal(direction(reinvites[1].text), 'sendrecv', 'the re-INVITE after "talk" offers a=sendrecv');
  assert.ok(reinvites[0].time > notifies[0].time && reinvites[1].time > notifies[1].time, 'each re-INVITE follows its NOTIFY');
  for (const [i, n] of notifies.entries()) {
    const ok = run.messages.find((m) => m.dir === 'received' && m.status === 200 && m.cseq === n.cseq);
    assert.ok(ok, `200 to the NOTIFY ${n.cseq}`);
    ext.note(`NOTIFY ${n.cseq} → 200 in ${Math.round(ok.time - n.time)} ms, re-INVITE in ${Math.round(reinvites[i].time - n.time)} ms`);
  }

  const active = await waitCallEvent(callEvents, (e) => e.call.direction === 'incoming' && e.call.state === 'active', 'the auto-answered call');
  const states = (await callEvents()).filter((e) => e.call.id === active.call.id).map((e) => e.call.state);
  ext.note(`call ${active.call.id} states: ${states.join(' → ')}`);
  const held = states.indexOf('held');
  assert.ok(held > 0, `the call was held (states: ${states.join(' → ')})`);
  assert.ok(states.indexOf('active', held) > held, 'and active again after the talk NOTIFY');
  assert.equal(states[states.length - 1], 'ended');
  assert.ok(ext.lines.some((l) => l.includes(`call ${active.call.id}: remote hold (NOTIFY hold)`)));
  assert.ok(ext.lines.some((l) => l.includes(`call ${active.call.id}: remote resume (NOTIFY talk)`)));
});
