#!/usr/bin/env node
// Proves the running lab does what the tests rely on (run via `lab.sh selftest`, after `lab.sh start`,
// in the same network namespace). Prints PASS/FAIL per check; exit 1 on any failure.
// It resets the bindings of alice and carol on both Kamailio instances before it starts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipWsClient, uuid } from './ws_register.mjs';

const LAB = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = [];

function check(name, ok, detail = '') {
  results.push(ok);
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  [${detail}]` : ''}`);
  return ok;
}

function contacts(user, sha = false) {
  const out = execFileSync(join(LAB, 'contacts.sh'), sha ? [user, 'sha'] : [user]).toString();
  return out.split('\n').filter(Boolean).map((line) => {
    const o = {};
    for (const kv of line.split(' ')) { const i = kv.indexOf('='); o[kv.slice(0, i)] = kv.slice(i + 1); }
    return o;
  });
}
const kamcmd = (sha, ...args) => { try { execFileSync(join(LAB, 'kamcmd.sh'), sha ? ['sha', ...args] : args, { stdio: 'ignore' }); } catch { /* no record */ } };
const brief = (cs) => cs.map((c) => `${c.instance} reg-id=${c['reg-id']} received=${c.received}`).join(' | ') || 'none';
const oneWith = (cs, instance) => cs.length === 1 && cs[0].instance === `<${instance}>` && cs[0]['reg-id'] === '1';
const portOf = (c) => Number((/:(\d+);transport=/.exec(c?.received || '') || [])[1]);

const cfg = readFileSync(join(LAB, 'generated/kamailio.cfg'), 'utf8');
const nonceExpire = Number((/"nonce_expire",\s*(\d+)/.exec(cfg) || [])[1] || 300);
const outboundMode = Number((/"outbound_mode",\s*(\d+)/.exec(readFileSync(join(LAB, 'generated/kamailio.cfg'), 'utf8')) || [])[1] || 0);
const MD5_WS = 'ws://127.0.0.1:8080', MD5_WSS = 'wss://127.0.0.1:8443';
const SHA_WS = 'ws://127.0.0.1:8081', SHA_WSS = 'wss://127.0.0.1:8444';
const alice = { user: 'alice', password: 'alicepw' };
const open = [];
async function connect(url, o) { const c = await SipWsClient.connect(url, o); open.push(c); return c; }

async function main() {
  for (const sha of [false, true]) for (const u of ['alice', 'carol']) kamcmd(sha, 'ul.rm', 'location', u);

  // ---- bob
  const bob = contacts('bob');
  check('bob (baresip, udp 5062) is registered on kamailio udp 5060', bob.length === 1 && /@127\.0\.0\.1:5062/.test(bob[0].contact), bob.map((c) => c.contact).join(' | '));

  // ---- MD5 over ws, with RFC 5626 instance + reg-id
  const I = `urn:uuid:${uuid()}`;
  const c1 = await connect(MD5_WS, { ...alice, instance: I });
  let r = await c1.register();
  check('ws://127.0.0.1:8080 REGISTER alice, MD5 digest: 401 -> 200', r.codes.join() === '401,200', `${r.codes.join(' -> ')}; challenge algorithm=${r.challenge?.algorithm} qop=${r.challenge?.qop}`);
  check('  the challenge is MD5 with qop=auth', r.challenge?.algorithm === 'MD5' && r.challenge?.qop === 'auth');
  let cs = contacts('alice');
  check('registrar lists exactly one contact for alice, with our +sip.instance and reg-id 1', oneWith(cs, I), brief(cs));
  check('  the binding points at this WebSocket connection (received ...;transport=ws)', portOf(cs[0]) === c1.localPort && /transport=ws/.test(cs[0]?.received), cs[0]?.received);

  // ---- wrong password
  const bad = await connect(MD5_WS, { user: 'alice', password: 'not-the-password', instance: `urn:uuid:${uuid()}` });
  r = await bad.register();
  check('wrong password: 401 -> 401, never 200', r.codes.join() === '401,401', r.codes.join(' -> '));
  cs = contacts('alice');
  check('  still exactly one contact for alice', oneWith(cs, I), brief(cs));

  // ---- reconnect: same instance, same Call-ID, CSeq continues (what the UA does after a reconnect)
  const c2 = await connect(MD5_WS, { ...alice, instance: I, callId: c1.callId, cseq: c1.cseq });
  r = await c2.register();
  cs = contacts('alice');
  check('new connection, same instance + Call-ID (CSeq+1), old connection still open: 200', r.final?.status === 200, r.codes.join(' -> '));
  check('  still exactly ONE contact, now pointing at the new connection', oneWith(cs, I) && portOf(cs[0]) === c2.localPort, brief(cs));

  // ---- reconnect after losing the Call-ID (worker restarted without its stored identity)
  const c3 = await connect(MD5_WS, { ...alice, instance: I });
  r = await c3.register();
  cs = contacts('alice');
  check('another new connection, same instance, NEW Call-ID: 200', r.final?.status === 200, r.codes.join(' -> '));
  check('  still exactly ONE contact (replaced, not added), pointing at the newest connection', oneWith(cs, I) && portOf(cs[0]) === c3.localPort && cs[0]['call-id'] === c3.callId, brief(cs));
  const mine = r.contacts.filter((x) => x.includes(I));
  check('  the 200 OK lists exactly one binding with our instance', r.contacts.length === 1 && mine.length === 1, r.contacts.join(' , '));

  // ---- routing: a request to alice reaches the newest flow only
  const dave = await connect(MD5_WS, { user: 'dave', password: 'davepw', instance: null });
  const m = await dave.request('MESSAGE', 'sip:alice@127.0.0.1', { to: 'sip:alice@127.0.0.1', body: 'selftest', newDialog: true });
  await sleep(300);
  const got = [c1, c2, c3].map((c) => c.incoming.filter((x) => x.method === 'MESSAGE').length);
  check('MESSAGE dave -> alice (407 -> 200) is delivered on the newest connection only', m.codes.join() === '407,200' && got.join() === '0,0,1', `codes ${m.codes.join(' -> ')}, MESSAGEs on c1,c2,c3 = ${got.join(',')}`);

  // ---- wss
  const c4 = await connect(MD5_WSS, { ...alice, instance: I });
  r = await c4.register();
  cs = contacts('alice');
  check('wss://127.0.0.1:8443 REGISTER alice, MD5 digest: 401 -> 200', r.codes.join() === '401,200', r.codes.join(' -> '));
  check('  still exactly ONE contact, pointing at the wss connection', oneWith(cs, I) && portOf(cs[0]) === c4.localPort, brief(cs));

  // ---- keep-alive and outbound negotiation
  const pong = await c4.crlfPing(1500);
  check('CRLF CRLF keep-alive over WebSocket is answered with CRLF', pong === '\r\n', JSON.stringify(pong));
  r = await c4.register({ require: 'outbound' });
  const wantOb = outboundMode === 0 ? 420 : 200;
  check(`REGISTER with "Require: outbound" gets ${wantOb} (registrar outbound_mode=${outboundMode})`, r.final?.status === wantOb, r.codes.join(' -> '));

  // ---- nonce reuse and expiry
  const ch = r.challenge || (await c4.register()).challenge;
  r = await c4.register({ challenge: ch });
  check('credentials reusing a fresh nonce are accepted without a new challenge', r.codes.join() === '200', r.codes.join(' -> '));
  if (nonceExpire <= 10) {
    await sleep((nonceExpire + 1.5) * 1000);
    r = await c4.register({ challenge: ch });
    check(`an expired nonce (nonce_expire=${nonceExpire}s) is re-challenged with stale=true, then 200`, r.codes.join() === '401,200' && String(r.challenge?.stale).toLowerCase() === 'true', `${r.codes.join(' -> ')}; stale=${r.challenge?.stale}`);
  } else {
    console.log(`SKIP  expired nonce -> stale=true (nonce_expire=${nonceExpire}s; start the lab with LAB_NONCE_EXPIRE=5 to check it)`);
  }

  // ---- un-register
  r = await c4.register({ expires: 0 });
  cs = contacts('alice');
  check('un-REGISTER (expires=0): 200 and alice has no contact left', r.final?.status === 200 && cs.length === 0, `${r.codes.join(' -> ')}; ${brief(cs)}`);

  // ---- SHA-256 instance
  const S = `urn:uuid:${uuid()}`;
  const s1 = await connect(SHA_WS, { ...alice, instance: S });
  r = await s1.register();
  check('ws://127.0.0.1:8081 REGISTER alice, SHA-256 digest: 401 -> 200', r.codes.join() === '401,200', r.codes.join(' -> '));
  check('  the challenge offers algorithm=SHA-256 with qop=auth', r.challenge?.algorithm === 'SHA-256' && r.challenge?.qop === 'auth', `algorithm=${r.challenge?.algorithm}`);
  cs = contacts('alice', true);
  check('  kamailio-sha lists exactly one contact for alice with our instance', oneWith(cs, S), brief(cs));
  check('  and the MD5 instance has none (the instances share no registrar)', contacts('alice').length === 0);
  const s2 = await connect(SHA_WSS, { ...alice, instance: S });
  r = await s2.register({ forceAlgorithm: 'MD5' });
  check('SHA-256 instance refuses an MD5 digest: 401 -> 401', r.codes.join() === '401,401', r.codes.join(' -> '));
  r = await s2.register();
  cs = contacts('alice', true);
  check('wss://127.0.0.1:8444 SHA-256, same instance, new connection: 200, still exactly one contact', r.final?.status === 200 && oneWith(cs, S) && portOf(cs[0]) === s2.localPort, `${r.codes.join(' -> ')}; ${brief(cs)}`);
  r = await s2.register({ expires: 0 });
  cs = contacts('alice', true);
  check('  un-REGISTER: 200 and no contact left on kamailio-sha', r.final?.status === 200 && cs.length === 0, `${r.codes.join(' -> ')}; ${brief(cs)}`);

  // ---- controls: the registrar does not hide what a careless UA would leave behind
  const g1 = await connect(MD5_WS, { user: 'carol', password: 'carolpw', instance: null });
  const g2 = await connect(MD5_WS, { user: 'carol', password: 'carolpw', instance: null });
  await g1.register(); await g2.register();
  cs = contacts('carol');
  check('control: without +sip.instance, two connections with different Contact URIs leave TWO bindings', cs.length === 2, brief(cs));
  await g1.register({ expires: 0 }); await g2.register({ expires: 0 });
  const X = `urn:uuid:${uuid()}`;
  const h1 = await connect(MD5_WS, { user: 'carol', password: 'carolpw', instance: X, regId: 1 });
  const h2 = await connect(MD5_WS, { user: 'carol', password: 'carolpw', instance: X, regId: 2 });
  await h1.register(); await h2.register();
  cs = contacts('carol');
  check('control: same instance with another reg-id is a second flow (TWO bindings)', cs.length === 2, brief(cs));
  await h1.register({ expires: 0 }); await h2.register({ expires: 0 });
  cs = contacts('carol');
  check('  both un-registered', cs.length === 0, brief(cs));
}

try {
  await main();
} catch (e) {
  check('selftest ran to completion', false, e.stack || String(e));
}
await Promise.all(open.map((c) => c.close()));
const failed = results.filter((x) => !x).length;
console.log(`\nselftest: ${results.length - failed}/${results.length} checks passed${failed ? `, ${failed} FAILED` : ''}`);
process.exit(failed ? 1 : 0);
