// @ts-check
// Fault: the SIP server hangs (Kamailio SIGSTOPped: its ports stay bound, TCP connections stay up,
// nothing is answered). Nothing closes the WebSocket, so only the CRLF keep-alive can notice: once
// the server has answered a ping on this flow, a pong missing for 10 s (capped at the interval)
// declares the flow dead. The worker must leave `registered` within two keep-alive intervals of
// the freeze (log line "keep-alive pong missing"), and be registered again, with exactly one
// binding, once Kamailio resumes.
//
// To keep the spec short the keep-alive interval is set to 10 s (`settings.keepaliveInterval`,
// allowed 5..25); reliability-kamailio-freeze-default.test.mjs runs the same with the default 25 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freezeTrial, median, report, saveResults, startPhone } from './reliability.mjs';

const SPEC = 'reliability-kamailio-freeze';
const KEEPALIVE_S = 10;
const TRIALS = 2;

test(`a frozen Kamailio is detected within two keep-alive intervals (${KEEPALIVE_S} s) and re-registered after it resumes`, async (t) => {
  const phone = await startPhone(t, SPEC, { settings: { keepaliveInterval: KEEPALIVE_S } });
  const settings = (await phone.ext.storage('sync')).settings;
  assert.equal(settings.keepaliveInterval, KEEPALIVE_S);
  /** @type {any[]} */
  const trials = [];
  for (let i = 1; i <= TRIALS; i++) {
    const r = await freezeTrial(phone, KEEPALIVE_S);
    trials.push({ trial: i, ...r });
    phone.ext.note(`trial ${JSON.stringify(r)}`);
    report(SPEC, `keep-alive ${KEEPALIVE_S} s, trial ${i}: flow declared dead ${r.detectMs} ms after the freeze (${r.deadState}); registered ${r.resumeMs} ms after resume; states: ${r.statesSincePause.join(' | ')}`);
    assert.ok(r.detectMs <= 2 * KEEPALIVE_S * 1000 + 1000, `trial ${i}: detected within two keep-alive intervals (+1 s timer slack): ${r.detectMs} ms`);
    assert.match(r.deadState, /keep-alive/, `trial ${i}: the reason names the keep-alive`);
    assert.ok(r.logLine, `trial ${i}: the worker logged "keep-alive pong missing"`);
    assert.ok(r.oneBindingOurs, `trial ${i}: exactly one binding, ours: ${JSON.stringify(r.contacts)}`);
  }
  await saveResults(SPEC, { keepaliveS: KEEPALIVE_S, trials, medianDetectMs: median(trials.map((x) => x.detectMs)), medianResumeMs: median(trials.map((x) => x.resumeMs)) });
});
