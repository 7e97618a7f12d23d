// @ts-check
// Fault: the SIP server restarts (Kamailio killed, down 5 s, started again; its in-memory
// registrar forgets every binding). Ferrophone, registered over wss, must notice the dropped
// WebSocket, retry with its backoff, and be registered again soon after Kamailio listens — the
// requirement is a median of ≤ 2 s from "Kamailio listening" to `registered` — with exactly one
// binding carrying our instance each time (no ghosts).
//
// Each trial: `lab.sh kamailio-stop`, 5 s, `lab.sh kamailio-start`; the time is measured from the
// moment lab.sh saw Kamailio's ports listening to the `registration` event with state
// `registered` the options page received (and cross-checked with the time Kamailio sent its
// 200 OK). REL_TRIALS (default 11) sets the number of trials: with the backoff as it is, about
// a quarter of single trials exceed 2 s, so the median of 7 trials would exceed 2 s in ~6 % of
// runs, of 11 in ~3 % (binomial, from 21 measured trials; docs/RELIABILITY.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contacts, labSh } from './lab.mjs';
import { kamailioStart, median, registersSince, report, saveResults, sleep, startPhone } from './reliability.mjs';

const SPEC = 'reliability-kamailio-restart';
const TRIALS = Number(process.env.REL_TRIALS || 11);
const DOWN_MS = 5000;

test('after a Kamailio restart Ferrophone re-registers by itself (median ≤ 2 s) with exactly one binding', async (t) => {
  assert.ok(TRIALS >= 5, 'at least 5 trials');
  let down = false;
  t.after(async () => { if (down) await labSh('kamailio-start'); });
  const phone = await startPhone(t, SPEC);
  const [first] = await contacts('alice');
  const callId = first.callId;

  /** @type {any[]} */
  const trials = [];
  for (let i = 1; i <= TRIALS; i++) {
    const stoppedAt = Date.now();
    down = true;
    await labSh('kamailio-stop');
    // The worker sees its WebSocket close and starts retrying.
    const lost = await phone.waitRegistration((e) => e.state !== 'registered', stoppedAt, 5000);
    await sleep(DOWN_MS - (Date.now() - stoppedAt));
    const { ready, returned } = await kamailioStart();
    down = false;
    const downEvents = (await phone.regEvents()).filter((e) => e.at >= stoppedAt && e.at < ready);
    const failuresWhileDown = Math.max(0, ...downEvents.map((e) => (e.connection && e.connection.failures) || 0));
    const registered = await phone.waitRegistration((e) => e.state === 'registered', stoppedAt, 45000);
    const latencyMs = registered.at - ready;

    const bindings = await contacts('alice');
    const regs = await registersSince(callId, ready - 50);
    const ok200 = regs.find((r) => r.response && r.response.status === 200);
    const serverLatencyMs = ok200 && ok200.response ? ok200.response.time - ready : null;
    const trial = {
      trial: i,
      latencyMs,
      server200LatencyMs: serverLatencyMs,
      kamailioDownMs: ready - stoppedAt,
      noticedLossMs: lost.at - stoppedAt,
      lostState: `${lost.state}: ${lost.reason || ''}`,
      connectFailuresWhileDown: failuresWhileDown,
      labShReturnedAfterReadyMs: returned - ready,
      registersAfterRestart: regs.map((r) => `${r.request.cseq} → ${r.response ? r.response.status : 'none'}`),
      contacts: bindings.map((b) => b.line),
    };
    trials.push(trial);
    report(SPEC, `trial ${i}: registered ${latencyMs} ms after Kamailio listened (Kamailio's 200 OK at +${serverLatencyMs} ms; ${failuresWhileDown} failed connects while down; loss noticed after ${trial.noticedLossMs} ms); contacts: ${bindings.length}`);
    phone.ext.note(`trial ${JSON.stringify(trial)}`);

    assert.equal(bindings.length, 1, `trial ${i}: exactly one contact for alice: ${JSON.stringify(trial.contacts)}`);
    assert.equal(bindings[0].instance, `<urn:uuid:${phone.instanceId}>`, `trial ${i}: the binding is our instance`);
    assert.equal(bindings[0].callId, callId, `trial ${i}: the same REGISTER Call-ID as before the restart`);
    assert.ok(ok200, `trial ${i}: Kamailio's trace shows a 200 OK to our REGISTER after the restart`);
    await sleep(1500);
  }

  const latencies = trials.map((x) => x.latencyMs);
  const med = median(latencies);
  report(SPEC, `latencies (ms): ${latencies.join(', ')}; median ${med} ms; max ${Math.max(...latencies)} ms`);
  await saveResults(SPEC, {
    downMs: DOWN_MS, trials, latenciesMs: latencies, medianMs: med, maxMs: Math.max(...latencies),
    serverMedianMs: median(trials.map((x) => x.server200LatencyMs)),
  });
  assert.ok(med <= 2000, `median time from Kamailio listening to registered is ≤ 2 s: ${med} ms (${latencies.join(', ')})`);
});
