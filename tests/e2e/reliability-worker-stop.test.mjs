// @ts-check
// Fault: Chrome stops the MV3 service worker (the SIP UA and its WebSocket die with it). Stopped
// here over the DevTools protocol (`ServiceWorker.stopAllWorkers`), as Chrome does on its own to an
// idle worker. Two ways back:
//   A. a message wakes it (any extension page or another extension talking to Ferrophone);
//   B. nothing at all: the 30 s `chrome.alarms` safety net must start it again by itself, seen
//      from the server side as a new REGISTER in Kamailio's trace within 40 s.
// Either way the restarted worker restores the persisted identity: the SAME instance id and the
// SAME REGISTER Call-ID (CSeq moving on), so the registrar updates the one binding: exactly one
// contact afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contacts, registerCallIds } from './lab.mjs';
import { diagnostics, poll, readTrace, registersSince, report, saveResults, serverSockets, startPhone } from './reliability.mjs';

const SPEC = 'reliability-worker-stop';

test('a stopped service worker comes back (by a message, and by the alarm alone) with the same identity and one binding', async (t) => {
  const phone = await startPhone(t, SPEC);
  const page = phone.page;
  const cdp = await phone.ext.ctx.newCDPSession(page);
  t.after(() => cdp.detach().catch(() => {}));
  /** @type {Map<string, string>} versionId → runningStatus */
  const running = new Map();
  /** @type {{at: number, versionId: string, status: string}[]} */
  const transitions = [];
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) {
      if (running.get(v.versionId) !== v.runningStatus) transitions.push({ at: Date.now(), versionId: v.versionId, status: v.runningStatus });
      running.set(v.versionId, v.runningStatus);
    }
  });
  await cdp.send('ServiceWorker.enable');
  const allStopped = () => running.size > 0 && [...running.values()].every((s) => s === 'stopped');

  const [before] = await contacts('alice');
  const callId = before.callId;
  const portOf = (/** @type {string} */ received) => Number((/:(\d+);/.exec(received) || [])[1]);

  /** Stops the worker; returns when Chromium reports it stopped. */
  const stopWorker = async () => {
    const at = Date.now();
    await cdp.send('ServiceWorker.stopAllWorkers');
    assert.ok(await poll(async () => allStopped(), { timeoutMs: 5000 }), `the worker stopped: ${JSON.stringify([...running])}`);
    return { at, stoppedMs: Date.now() - at };
  };

  /**
   * After a restart: the registrar has exactly one binding, our instance, same Call-ID, higher CSeq.
   * @param {string} label
   * @param {number} previousCseq
   */
  const checkBinding = async (label, previousCseq) => {
    const bindings = await contacts('alice');
    assert.equal(bindings.length, 1, `${label}: exactly one contact: ${bindings.map((b) => b.line).join(' / ')}`);
    assert.equal(bindings[0].instance, `<urn:uuid:${phone.instanceId}>`, `${label}: same instance id`);
    assert.equal(bindings[0].callId, callId, `${label}: same REGISTER Call-ID`);
    assert.ok(Number(bindings[0].cseq) > previousCseq, `${label}: CSeq moved on (${previousCseq} → ${bindings[0].cseq})`);
    const diag = await diagnostics(phone.ext);
    assert.equal(diag.ua.instanceId, phone.instanceId, `${label}: the new worker reports the same instance id`);
    assert.deepEqual(registerCallIds(diag), [callId], `${label}: the new worker's REGISTERs all use the persisted Call-ID`);
    return bindings[0];
  };

  // A. Stop, then wake the worker with a message.
  const a = await stopWorker();
  const oldPort = portOf(before.received);
  const oldSocketGone = await poll(async () => !(await serverSockets(8443)).some((s) => s.peerPort === oldPort), { timeoutMs: 5000 });
  const wakeAt = Date.now();
  const reply = await phone.status();
  assert.equal(reply && reply.ok, true, `the waking status message is answered: ${JSON.stringify(reply)}`);
  const regA = await phone.waitRegistration((e) => e.state === 'registered', wakeAt, 15000);
  const bindingA = await checkBinding('after a wake-up message', Number(before.cseq));
  const registersA = await registersSince(callId, a.at);
  assert.ok(registersA.some((r) => r.response && r.response.status === 200), 'Kamailio answered the new REGISTER with 200');
  const resultA = {
    stoppedMs: a.stoppedMs, oldServerSocketClosed: oldSocketGone, wakeToRegisteredMs: regA.at - wakeAt,
    firstRegisterAfterWakeMs: registersA.length ? registersA[0].request.time - wakeAt : null,
    cseq: `${before.cseq} → ${bindingA.cseq}`, contact: bindingA.line,
  };
  report(SPEC, `A (woken by a message): registered ${resultA.wakeToRegisteredMs} ms after the message (REGISTER reached Kamailio at +${resultA.firstRegisterAfterWakeMs} ms); old socket closed on the server: ${oldSocketGone}; CSeq ${resultA.cseq}`);

  // B. Stop, and send nothing: only the alarm can bring it back.
  await new Promise((r) => setTimeout(r, 2000));
  const b = await stopWorker();
  const transitionsFrom = transitions.length;
  /** @type {Awaited<ReturnType<typeof registersSince>>} */
  let registersB = [];
  const revived = await poll(async () => {
    registersB = await registersSince(callId, b.at);
    return registersB.some((r) => r.response && r.response.status === 200);
  }, { timeoutMs: 40000, intervalMs: 250 });
  const restartedAt = transitions.slice(transitionsFrom).find((x) => x.status === 'running');
  assert.ok(revived, `without any message, a REGISTER reached Kamailio within 40 s of the stop (trace since then: ${JSON.stringify(registersB.map((r) => r.request.firstLine))})`);
  const regB = await phone.waitRegistration((e) => e.state === 'registered', b.at, 5000);
  const bindingB = await checkBinding('after the alarm alone', Number(bindingA.cseq));
  const resultB = {
    stoppedMs: b.stoppedMs, workerRunningAgainMs: restartedAt ? restartedAt.at - b.at : null,
    firstRegisterMs: registersB[0].request.time - b.at, registeredEventMs: regB.at - b.at,
    cseq: `${bindingA.cseq} → ${bindingB.cseq}`, contact: bindingB.line,
  };
  report(SPEC, `B (alarm only): worker running again ${resultB.workerRunningAgainMs} ms after the stop, REGISTER at Kamailio +${resultB.firstRegisterMs} ms, registered +${resultB.registeredEventMs} ms; CSeq ${resultB.cseq}`);
  const trace = await readTrace('md5');
  await saveResults(SPEC, {
    wokenByMessage: resultA, alarmOnly: resultB,
    workerTransitions: transitions.map((x) => ({ ...x, at: new Date(x.at).toISOString() })),
    registersTotal: trace.filter((m) => m.tag === 'rcv' && m.method === 'REGISTER' && m.callId === callId).length,
  });
  assert.ok(resultB.firstRegisterMs <= 40000);
});
