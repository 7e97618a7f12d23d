// @ts-check
// Fault: the SIP server hangs (Kamailio SIGSTOPped: its ports stay bound, TCP connections stay up,
// nothing is answered). Nothing closes the WebSocket, so only the CRLF keep-alive can notice: once
// the server has answered a ping on this flow, a pong missing for 10 s (capped at the interval)
// declares the flow dead. The worker must leave `registered` within two keep-alive intervals of
// the freeze (log line "keep-alive pong missing"), and be registered again, with exactly one
// binding, once Kamailio resumes.
//
// This is the default keep-alive interval (25 s, no settings stored); reliability-kamailio-freeze.test.mjs
// runs the same with 10 s.
import { test } from 'node:test';
import { freezeSpec } from './reliability.mjs';

test('a frozen Kamailio is detected within two keep-alive intervals (25 s) and re-registered after it resumes', async (t) => {
  await freezeSpec(t, { spec: 'reliability-kamailio-freeze-default', keepaliveS: null, trials: 1 });
});
