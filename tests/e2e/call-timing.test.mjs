// @ts-check
// How fast does a call go out? Five calls alice → bob, one after the other, each from a cold start
// (the offscreen document closed after the previous call). For each call, from the Kamailio
// sipdump trace (wall-clock timestamps, µs resolution, same clock as the browser's Date.now()):
//   (a) dial → INVITE: the `dial` command sent (options page, just before sendMessage) → our first
//       INVITE received by Kamailio (offscreen document, microphone, ICE gathering, SIP encoding);
//   (b) INVITE → 200: our (authenticated) INVITE received → the 200 OK Kamailio relays to us
//       (proxying, rtpengine both ways, bob answering);
// plus the 407 round trip and 200 OK → `active` event. Medians are printed and written to
// tests/artifacts/call-timing/timing.json. Nothing here asserts speed: only that each call connected
// and that every timestamp exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { connectBob, overWebSocket, startPhone } from './calls.mjs';

const CALLS = 5;

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

test('five calls to bob: dial → INVITE and INVITE → 200 OK, measured', async (t) => {
  const phone = await startPhone(t, 'call-timing');
  const bob = await connectBob(t);

  /** @type {{id: string, dialAt: number, activeAt: number}[]} */
  const placed = [];
  for (let i = 0; i < CALLS; i++) {
    const bobFrom = bob.events.length;
    const closedBefore = phone.ext.offscreenEvents.filter((e) => e.event === 'closed').length;
    // The time the command leaves the options page, taken in the page itself.
    const { sentAt, reply } = await phone.page.evaluate(async () => {
      const at = Date.now();
      const r = await chrome.runtime.sendMessage({ ferrophone: 1, cmd: 'dial', target: 'bob' });
      return { sentAt: at, reply: r };
    });
    assert.ok(reply && reply.ok, `call ${i + 1}: dial succeeds: ${JSON.stringify(reply)}`);
    const { id } = reply.call;
    const active = await phone.waitCall(id, (c) => c.state === 'active', { timeoutMs: 10000, what: `call ${i + 1} active` });
    await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
    placed.push({ id, dialAt: sentAt, activeAt: active.at });

    await phone.cmd('hangup', { id });
    await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: `call ${i + 1} ended` });
    await bob.waitEvent('CALL_CLOSED', 5000, bobFrom);
    assert.ok(await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 3000 }), `call ${i + 1}: bob has no call left`);
    const cold = await poll(async () => phone.ext.offscreenEvents.filter((e) => e.event === 'closed').length > closedBefore,
      { timeoutMs: 5000 });
    assert.ok(cold, `call ${i + 1}: the offscreen document closed again`);
  }

  const trace = await readTrace('md5');
  const rows = placed.map((p, i) => {
    const next = placed[i + 1] ? placed[i + 1].dialAt : Infinity;
    const ours = trace.filter((m) => overWebSocket(m) && m.time >= p.dialAt - 5 && m.time < next);
    const first = ours.find((m) => m.tag === 'rcv' && m.method === 'INVITE');
    assert.ok(first, `call ${i + 1}: our INVITE is in the trace`);
    const dialog = ours.filter((m) => m.callId === first.callId);
    const invites = dialog.filter((m) => m.tag === 'rcv' && m.method === 'INVITE');
    const challenge = dialog.find((m) => m.tag === 'snd' && (m.status === 407 || m.status === 401));
    const relayed = invites[invites.length - 1]; // the INVITE with credentials, the one Kamailio relayed
    const ok = dialog.find((m) => m.tag === 'snd' && m.status === 200 && /INVITE/.test(m.cseq || ''));
    assert.ok(ok, `call ${i + 1}: the 200 OK relayed to us is in the trace`);
    const bobOk = trace.find((m) => m.tag === 'rcv' && m.status === 200 && m.callId === first.callId && m.srcPort === 5062);
    return {
      call: p.id,
      sipCallId: first.callId,
      invites: invites.length,
      dialToInviteMs: first.time - p.dialAt,
      challengeRoundTripMs: challenge ? relayed.time - challenge.time : null,
      inviteToOkMs: ok.time - relayed.time,
      firstInviteToOkMs: ok.time - first.time,
      bobOkToRelayedOkMs: bobOk ? ok.time - bobOk.time : null,
      okToActiveMs: p.activeAt - ok.time,
      dialToActiveMs: p.activeAt - p.dialAt,
    };
  });
  /** @param {keyof typeof rows[0]} k */
  const med = (k) => median(rows.map((r) => Number(r[k])));
  const medians = {
    dialToInviteMs: med('dialToInviteMs'),
    inviteToOkMs: med('inviteToOkMs'),
    firstInviteToOkMs: med('firstInviteToOkMs'),
    challengeRoundTripMs: med('challengeRoundTripMs'),
    bobOkToRelayedOkMs: med('bobOkToRelayedOkMs'),
    okToActiveMs: med('okToActiveMs'),
    dialToActiveMs: med('dialToActiveMs'),
  };
  const result = {
    measuredAt: new Date().toISOString(),
    calls: CALLS,
    clock: 'Kamailio sipdump `time` (gettimeofday, µs, rounded to ms) vs Date.now() in the options page; one machine, one clock',
    definitions: {
      dialToInviteMs: '`dial` sent by the options page → first INVITE received by Kamailio over wss',
      inviteToOkMs: 'INVITE with credentials received → 200 OK sent to us by Kamailio',
      firstInviteToOkMs: 'first INVITE (challenged with 407) received → 200 OK sent to us',
      challengeRoundTripMs: '407 sent → INVITE with credentials received',
      bobOkToRelayedOkMs: "bob's 200 OK received → relayed to us (rtpengine answer)",
      okToActiveMs: '200 OK sent to us → `call` event active in the options page',
      dialToActiveMs: '`dial` sent → `call` event active',
    },
    medians,
    perCall: rows,
  };
  const file = path.join(phone.ext.artifacts, 'timing.json');
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  const table = rows.map((r, i) => `call ${i + 1}: dial→INVITE ${r.dialToInviteMs} ms, INVITE→200 ${r.inviteToOkMs} ms `
    + `(first INVITE→200 ${r.firstInviteToOkMs} ms, 407 round trip ${r.challengeRoundTripMs} ms), 200→active ${r.okToActiveMs} ms, `
    + `dial→active ${r.dialToActiveMs} ms`);
  const summary = `medians over ${CALLS} calls: dial→INVITE ${medians.dialToInviteMs} ms, INVITE→200 ${medians.inviteToOkMs} ms, `
    + `first INVITE→200 ${medians.firstInviteToOkMs} ms, dial→active ${medians.dialToActiveMs} ms (${file})`;
  for (const line of [...table, summary]) {
    console.log(line);
    phone.ext.note(line);
  }
  for (const r of rows) {
    assert.ok(r.dialToInviteMs >= 0 && r.inviteToOkMs >= 0, `timestamps are in order: ${JSON.stringify(r)}`);
  }
});
