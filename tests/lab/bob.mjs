#!/usr/bin/env node
// Client for baresip's ctrl_tcp module (the lab's "bob", 127.0.0.1:4444). No dependencies.
// Protocol: netstrings ("<len>:<json>,") carrying JSON commands
//   {"command":"dial","params":"sip:alice@127.0.0.1","token":"t1"}
// answered by {"response":true,"ok":true,"data":"...","token":"t1"}, interleaved with events
//   {"event":true,"class":"call","type":"CALL_ESTABLISHED","peeruri":"...","id":"...",...}.
// Pitfall 12: several netstrings often arrive in one TCP chunk, and a response may sit behind an
// event: every complete netstring in the buffer is parsed.
//
// Library:
//   import { Bob } from './bob.mjs';
//   const bob = await Bob.connect();                 // { host, port } optional
//   await bob.dial('sip:alice@127.0.0.1');           // resolves with the command response
//   await bob.waitEvent('CALL_ESTABLISHED', 10000);  // or a predicate (ev) => boolean
//   await bob.listCalls();                           // [{ line, state, peer, duration, current }]
//   await bob.hangup(); await bob.hangupAll(); bob.close();
//
// CLI:
//   node bob.mjs dial <uri> [--wait <event> [--timeout s]]   e.g. --wait CALL_ESTABLISHED
//   node bob.mjs hangup | hangupall | calls | reginfo
//   node bob.mjs cmd <command> [params...]                    any baresip command (help, callstat, ...)
//   node bob.mjs events [seconds]                              print events as JSON lines
// Exit status 0 on success, 1 on a failed command / timeout.
import net from 'node:net';

export function encodeNetstring(obj) {
  const body = Buffer.from(JSON.stringify(obj), 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

// Parse every complete netstring at the head of buf. Returns { messages, rest }.
export function decodeNetstrings(buf) {
  const messages = [];
  let off = 0;
  for (;;) {
    const colon = buf.indexOf(0x3a, off);            // ':'
    if (colon < 0) break;
    const lenStr = buf.subarray(off, colon).toString('latin1');
    if (!/^\d+$/.test(lenStr)) throw new Error(`bad netstring length ${JSON.stringify(lenStr)}`);
    const len = Number(lenStr);
    const end = colon + 1 + len;
    if (buf.length < end + 1) break;                 // incomplete: wait for more data
    if (buf[end] !== 0x2c) throw new Error('netstring not terminated by ","');
    messages.push(JSON.parse(buf.subarray(colon + 1, end).toString('utf8')));
    off = end + 1;
  }
  return { messages, rest: buf.subarray(off) };
}

export class Bob {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.events = [];            // every event received, in order
    this.pending = new Map();    // token -> { resolve, reject, timer }
    this.eventWaiters = [];
    this.seq = 0;
    this.onevent = null;
    sock.on('data', (d) => this._data(d));
    sock.on('close', () => this._closed(new Error('ctrl_tcp connection closed')));
    sock.on('error', (e) => this._closed(e));
  }

  static connect({ host = '127.0.0.1', port = 4444, timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const t = setTimeout(() => { sock.destroy(); reject(new Error(`ctrl_tcp ${host}:${port}: connect timeout`)); }, timeoutMs);
      sock.once('connect', () => { clearTimeout(t); sock.removeListener('error', reject); resolve(new Bob(sock)); });
      sock.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  _data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    let parsed;
    try { parsed = decodeNetstrings(this.buf); } catch (e) { this.sock.destroy(e); return; }
    this.buf = Buffer.from(parsed.rest);
    for (const m of parsed.messages) {
      if (m.response) {
        const p = this.pending.get(m.token);
        if (p) { this.pending.delete(m.token); clearTimeout(p.timer); p.resolve(m); }
      } else if (m.event) {
        this.events.push(m);
        if (this.onevent) this.onevent(m);
        for (const w of [...this.eventWaiters]) {
          if (w.match(m)) { this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1); clearTimeout(w.timer); w.resolve(m); }
        }
      }
    }
  }

  _closed(err) {
    for (const [, p] of this.pending) { clearTimeout(p.timer); p.reject(err); }
    this.pending.clear();
    for (const w of this.eventWaiters.splice(0)) { clearTimeout(w.timer); w.reject(err); }
  }

  // Send any baresip command; resolves with { ok, data, token } (ok=false is not an exception).
  command(command, params, timeoutMs = 5000) {
    const token = `t${++this.seq}`;
    const msg = { command, token };
    if (params !== undefined && params !== null && params !== '') msg.params = String(params);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(token); reject(new Error(`no response to ${command}`)); }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      this.sock.write(encodeNetstring(msg));
    });
  }

  // Wait for an event by type name (e.g. 'CALL_ESTABLISHED', 'CALL_CLOSED', 'CALL_RINGING') or a
  // predicate. Events that already arrived count when `since` (an index into this.events) is given.
  waitEvent(match, timeoutMs = 10000, since = null) {
    const pred = typeof match === 'function' ? match : (ev) => ev.type === match;
    if (since !== null) {
      const hit = this.events.slice(since).find(pred);
      if (hit) return Promise.resolve(hit);
    }
    return new Promise((resolve, reject) => {
      const w = { match: pred, resolve, reject };
      w.timer = setTimeout(() => { this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1); reject(new Error(`timeout waiting for event ${typeof match === 'string' ? match : 'predicate'}`)); }, timeoutMs);
      this.eventWaiters.push(w);
    });
  }

  dial(uri) { return this.command('dial', uri); }
  accept() { return this.command('accept'); }
  hangup() { return this.command('hangup'); }
  regInfo() { return this.command('reginfo'); }

  // Active calls, parsed from `listcalls`. baresip 1.0 prints one line per call:
  //   "> [line 1]  0:00:03  ESTABLISHED             sip:carol@127.0.0.1"  ('>' marks the current call)
  async listCalls() {
    const r = await this.command('listcalls');
    const text = (r.data || '').replace(/\x1b\[[0-9;]*m/g, '');
    const calls = [];
    for (const raw of text.split('\n')) {
      const m = /^\s*(>?)\s*\[line (\d+)\]\s+(\S+)\s+(\S+)\s+(\S+)/.exec(raw);
      if (m) calls.push({ current: m[1] === '>', line: Number(m[2]), duration: m[3], state: m[4], peer: m[5], raw: raw.trim() });
    }
    return calls;
  }

  // baresip 1.0 has no hangupall: hang up the current call until none is left.
  async hangupAll(maxCalls = 8) {
    for (let i = 0; i < maxCalls; i++) {
      if ((await this.listCalls()).length === 0) return true;
      await this.hangup();
      await new Promise((r) => setTimeout(r, 100));
    }
    return (await this.listCalls()).length === 0;
  }

  close() { this.sock.end(); }
}

// ------------------------------------------------------------------ CLI
async function main(argv) {
  const [cmd, ...rest] = argv;
  const opt = (name, dflt) => { const i = rest.indexOf(name); if (i < 0) return dflt; const v = rest[i + 1]; rest.splice(i, 2); return v; };
  if (!cmd) {
    console.error('usage: node bob.mjs dial <uri> [--wait EVENT [--timeout s]] | hangup | hangupall | calls | reginfo | cmd <command> [params] | events [seconds]');
    return 2;
  }
  const bob = await Bob.connect();
  try {
    switch (cmd) {
      case 'dial': {
        const wait = opt('--wait', null);
        const timeout = Number(opt('--timeout', 15)) * 1000;
        if (!rest[0]) throw new Error('dial needs a URI');
        const from = bob.events.length;
        const r = await bob.dial(rest[0]);
        console.log(JSON.stringify(r));
        if (!r.ok) return 1;
        if (wait) console.log(JSON.stringify(await bob.waitEvent(wait, timeout, from)));
        return 0;
      }
      case 'hangup': { const r = await bob.hangup(); console.log(JSON.stringify(r)); return r.ok ? 0 : 1; }
      case 'hangupall': { const ok = await bob.hangupAll(); console.log(ok ? 'no calls left' : 'calls remain'); return ok ? 0 : 1; }
      case 'calls': { const calls = await bob.listCalls(); for (const c of calls) console.log(JSON.stringify(c)); return 0; }
      case 'reginfo': { const r = await bob.regInfo(); console.log((r.data || '').replace(/\x1b\[[0-9;]*m/g, '')); return r.ok ? 0 : 1; }
      case 'cmd': { const r = await bob.command(rest[0], rest.slice(1).join(' ') || undefined); console.log(r.ok ? (r.data || '').replace(/\x1b\[[0-9;]*m/g, '') : JSON.stringify(r)); return r.ok ? 0 : 1; }
      case 'events': {
        bob.onevent = (ev) => console.log(JSON.stringify(ev));
        await new Promise((r) => setTimeout(r, Number(rest[0] || 10) * 1000));
        return 0;
      }
      default: console.error(`unknown command ${cmd}`); return 2;
    }
  } finally {
    bob.close();
  }
}

if (process.argv[1] && process.argv[1].endsWith('bob.mjs')) {
  main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => { console.error(e.message || e); process.exit(1); });
}
