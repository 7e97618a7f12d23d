// @ts-check
// PRIVACY.md: a TURN password is a secret like the SIP password. With a TURN server configured
// (a unique canary password) and a real call made with it, the canary appears nowhere but where
// it must be used: not in any console line (worker, options page, offscreen document), not in any
// runtime message between the contexts (recorded in the options page and in the worker: the media
// requests carry the servers without the password; the offscreen document fetches it with
// `ice-servers`, whose reply only it receives), not in a `call` event, not in the diagnostics
// reply (which says "<set>"), not in the options page's DOM.
// That the password did reach the peer connection is shown by the call itself: Chromium refuses
// to create an RTCPeerConnection with a turn: URL and a username but no credential, so without it
// the call could not be answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { poll, sleep } from './harness.mjs';
import { diagnostics } from './lab.mjs';
import { recordCallEvents, registeredAlice, sipp } from './fixtures/headless.mjs';
import { recordMessages, recordedMessages } from './fixtures/messages.mjs';


test('a TURN password appears in no log, no message between contexts, no event and no diagnostics', async (t) => {
  const canary = `turn-canary-${randomUUID()}`;
  const { ext, page } = await registeredAlice('privacy-turn-credentials');
  t.after(() => ext.close());
  const worker = ext.worker();
  assert.ok(worker);
  await recordMessages(page);
  await recordMessages(worker);
  const callEvents = await recordCallEvents(page);
  // Nothing listens on 127.0.0.1:3479: gathering gives up on the TURN server quickly.
  await page.evaluate((credential) => chrome.storage.sync.set({
    settings: {
      version: 1, autoAnswer: 'headers', iceGatheringTimeoutMs: 1000,
      iceServers: [{ urls: ['turn:127.0.0.1:3479?transport=udp'], username: 'fpturn', credential }],
    },
  }), canary);
  await sleep(500);

  const run = await sipp('uac_autoanswer.xml', {
    name: 'turn', artifacts: ext.artifacts, note: ext.note, durationMs: 2000,
    keys: { aa_header: 'Call-Info: <sip:127.0.0.1>;answer-after=0', aa_header2: 'X-Lab: turn canary' },
  });
  assert.equal(run.code, 0, `sipp completed the call (${run.stderr.slice(-500)})`);
  const events = await callEvents();
  assert.ok(events.some((e) => e.call.state === 'active'), 'the call was answered (the peer connection took the TURN server with its password)');
  assert.ok(ext.lines.some((l) => /peer connection created \(1 ICE server/.test(l)), 'the offscreen document used the configured TURN server');

  const diag = await diagnostics(ext);
  assert.deepEqual(diag.settings.iceServers, [{ urls: ['turn:127.0.0.1:3479?transport=udp'], username: 'fpturn', credential: '<set>' }],
    'diagnostics say the TURN password is set, not what it is');
  await sleep(500);
  const places = {
    'console output (worker, options page, offscreen document)': ext.lines.join('\n'),
    'runtime messages received and sent by the options page': (await recordedMessages(page)).join('\n'),
    'runtime messages received and sent by the worker': (await recordedMessages(worker)).join('\n'),
    'call events': JSON.stringify(events),
    'diagnostics reply': JSON.stringify(diag),
    'options page DOM': await page.content(),
  };
  ext.note(`searched: ${Object.entries(places).map(([k, v]) => `${k} (${v.length} chars)`).join(', ')}`);
  for (const [where, text] of Object.entries(places)) {
    assert.ok(!text.includes(canary), `the TURN password is not in the ${where}`);
  }
  const mediaRequests = places['runtime messages received and sent by the worker'].split('\n').filter((l) => /media-(offer|answer)/.test(l));
  assert.ok(mediaRequests.length > 0, 'the worker\'s media requests were recorded');
  assert.ok(mediaRequests.every((l) => l.includes('"iceCredentials":true') && l.includes('fpturn')), 'they name the TURN server and say a password is withheld');
  await poll(async () => (await callEvents()).some((e) => e.call.state === 'ended'), { timeoutMs: 5000 });
});
