#!/usr/bin/env node
// Minimal SIP-over-WebSocket (RFC 7118) client for the lab, node built-ins only (no deps, no
// --experimental-websocket): a small RFC 6455 client on `net`/`tls`, SIP REGISTER with RFC 5626
// outbound parameters shaped like Ferrophone's (Via SIP/2.0/WSS <x>.invalid, Contact with
// transport=ws;ob, +sip.instance, reg-id), digest MD5 / SHA-256 with qop=auth (RFC 7616/8760),
// 401 and 407 challenges.
//
// CLI:
//   node ws_register.mjs <ws[s]://host:port[/path]> <user> <password> [options]
//     --instance <urn:uuid:...>   +sip.instance (default: a random one)   --no-instance
//     --reg-id <n>                 reg-id (default 1)                        --expires <s> (600)
//     --domain <host>              SIP domain (default 127.0.0.1)
//     --keep <s>                   stay registered this long, then un-register (default 0)
//     --no-unregister              leave the binding in place and exit
//     --quiet                      only print the status lines
//   Prints the SIP exchange; exit 0 when the REGISTER got a 200 OK, 1 otherwise.
//
// Library (used by selftest.mjs and usable by tests):
//   const c = await SipWsClient.connect('ws://127.0.0.1:8080', { user:'alice', password:'alicepw' });
//   const r = await c.register({ expires: 600 });   // r.codes e.g. [401, 200]; r.final = parsed 200
//   await c.register({ expires: 0 }); c.close();
import net from 'node:net';
import tls from 'node:tls';
import crypto from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const rnd = (n = 10) => crypto.randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);
export const uuid = () => crypto.randomUUID();

// ------------------------------------------------------------------ RFC 6455 client
export class WebSocketClient {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frag = null;          // fragments of a message being reassembled
    this.queue = [];           // complete text messages not yet consumed
    this.waiters = [];         // pending recv() promises
    this.closed = false;
    this.onmessage = null;     // optional hook(text) called for every message
    sock.on('data', (d) => this._data(d));
    sock.on('close', () => this._closed());
    sock.on('error', () => this._closed());
  }

  static connect(url, { protocol = 'sip', timeoutMs = 5000 } = {}) {
    const u = new URL(url);
    const secure = u.protocol === 'wss:';
    const port = Number(u.port || (secure ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const opts = { host, port };
      if (secure) {
        opts.rejectUnauthorized = false;            // the lab's certificate is self-signed
        if (!net.isIP(host)) opts.servername = host;
      }
      const sock = secure ? tls.connect(opts) : net.connect(opts);
      const key = crypto.randomBytes(16).toString('base64');
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`WebSocket connect to ${url} timed out`)); }, timeoutMs);
      const fail = (e) => { clearTimeout(timer); sock.destroy(); reject(e); };
      sock.once('error', fail);
      sock.once(secure ? 'secureConnect' : 'connect', () => {
        sock.write(`GET ${u.pathname || '/'}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
      });
      const onData = (d) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        sock.off('error', fail);
        clearTimeout(timer);
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        const hdr = {};
        for (const l of lines.slice(1)) { const i = l.indexOf(':'); if (i > 0) hdr[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim(); }
        const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
        if (!/^HTTP\/1\.1 101/.test(lines[0])) return fail(new Error(`WebSocket upgrade refused: ${lines[0]}`));
        if (hdr['sec-websocket-accept'] !== accept) return fail(new Error('bad Sec-WebSocket-Accept'));
        if ((hdr['sec-websocket-protocol'] || '').toLowerCase() !== protocol) return fail(new Error(`server did not select subprotocol ${protocol}`));
        const ws = new WebSocketClient(sock);
        ws.protocol = protocol;
        ws.localPort = sock.localPort;
        const rest = head.subarray(end + 4);
        if (rest.length) ws._data(rest);
        resolve(ws);
      };
      sock.on('data', onData);
    });
  }

  _frame(opcode, payload) {
    const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    const mask = crypto.randomBytes(4);
    let h;
    if (p.length < 126) { h = Buffer.alloc(2); h[1] = 0x80 | p.length; }
    else if (p.length < 65536) { h = Buffer.alloc(4); h[1] = 0x80 | 126; h.writeUInt16BE(p.length, 2); }
    else { h = Buffer.alloc(10); h[1] = 0x80 | 127; h.writeBigUInt64BE(BigInt(p.length), 2); }
    h[0] = 0x80 | opcode;
    const m = Buffer.alloc(p.length);
    for (let i = 0; i < p.length; i++) m[i] = p[i] ^ mask[i & 3];
    return Buffer.concat([h, mask, m]);
  }

  send(text) {
    if (this.closed) throw new Error('WebSocket is closed');
    this.sock.write(this._frame(0x1, text));
  }

  _data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0], b1 = this.buf[1];
      let len = b1 & 0x7f, off = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
      const masked = (b1 & 0x80) !== 0;
      const mkey = masked ? this.buf.subarray(off, off + 4) : null;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      let payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= mkey[i & 3];
      this.buf = this.buf.subarray(off + len);
      const fin = (b0 & 0x80) !== 0, opcode = b0 & 0x0f;
      if (opcode === 0x9) { if (!this.closed) this.sock.write(this._frame(0xA, payload)); this.pings = (this.pings || 0) + 1; continue; }
      if (opcode === 0xA) continue;
      if (opcode === 0x8) { this._closeFrame(payload); continue; }
      if (opcode === 0x1 || opcode === 0x2) this.frag = [payload];
      else if (opcode === 0x0 && this.frag) this.frag.push(payload);
      if (fin && this.frag) { const msg = Buffer.concat(this.frag).toString('utf8'); this.frag = null; this._deliver(msg); }
    }
  }

  _deliver(msg) {
    if (this.onmessage) this.onmessage(msg);
    const w = this.waiters.shift();
    if (w) { clearTimeout(w.timer); w.resolve(msg); } else this.queue.push(msg);
  }

  _closeFrame(payload) {
    if (!this.closed) { try { this.sock.write(this._frame(0x8, payload.subarray(0, 2))); } catch { /* ignore */ } }
    this.sock.end();
  }

  _closed() {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.resolve(null); }
  }

  // next message (string), or null on timeout / close
  recv(timeoutMs = 3000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w = { resolve, timer: setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); resolve(null); }, timeoutMs) };
      this.waiters.push(w);
    });
  }

  close() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sock.once('close', resolve);
      try { this.sock.write(this._frame(0x8, Buffer.from([0x03, 0xe8]))); } catch { /* ignore */ }
      this.sock.end();
      setTimeout(() => { this.sock.destroy(); resolve(); }, 1000).unref();
    });
  }
}

// ------------------------------------------------------------------ SIP helpers
export function parseSip(text) {
  const end = text.indexOf('\r\n\r\n');
  const head = (end >= 0 ? text.slice(0, end) : text).split('\r\n');
  const first = head[0];
  const headers = [];
  for (const l of head.slice(1)) {
    if (/^[ \t]/.test(l) && headers.length) { headers[headers.length - 1][1] += ' ' + l.trim(); continue; }
    const i = l.indexOf(':');
    if (i > 0) headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
  }
  const compact = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', k: 'supported', c: 'content-type' };
  const norm = (n) => { n = n.toLowerCase(); return compact[n] || n; };
  const all = (name) => headers.filter(([n]) => norm(n) === name.toLowerCase()).map(([, v]) => v);
  const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first);
  const r = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(first);
  return {
    raw: text, first, headers, all,
    get: (name) => all(name)[0],
    status: m ? Number(m[1]) : null, reason: m ? m[2] : null,
    method: r ? r[1] : null, ruri: r ? r[2] : null,
    body: end >= 0 ? text.slice(end + 4) : '',
  };
}

// split a Contact header value into its comma-separated entries (commas inside <> or "" kept)
export function splitContacts(v) {
  const out = []; let cur = '', inA = false, inQ = false;
  for (const ch of v) {
    if (ch === '"' && !inA) inQ = !inQ;
    else if (ch === '<' && !inQ) inA = true;
    else if (ch === '>' && !inQ) inA = false;
    if (ch === ',' && !inA && !inQ) { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function parseChallenge(value) {
  const m = /^\s*Digest\s+(.*)$/i.exec(value || '');
  if (!m) return null;
  const params = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let x;
  while ((x = re.exec(m[1]))) params[x[1].toLowerCase()] = x[2] !== undefined ? x[2] : x[3];
  return params;
}

const HASHES = { 'MD5': 'md5', 'SHA-256': 'sha256' };
export function digestResponse({ algorithm = 'MD5', user, realm, password, method, uri, nonce, qop, nc, cnonce }) {
  const h = (s) => crypto.createHash(HASHES[algorithm]).update(s).digest('hex');
  const ha1 = h(`${user}:${realm}:${password}`);
  const ha2 = h(`${method}:${uri}`);
  return qop ? h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
}

// pick the strongest challenge we can answer (RFC 8760: SHA-256 preferred over MD5)
export function pickChallenge(values) {
  const cs = values.map(parseChallenge).filter(Boolean)
    .map((c) => ({ ...c, algorithm: (c.algorithm || 'MD5').toUpperCase() }))
    .filter((c) => HASHES[c.algorithm]);
  return cs.find((c) => c.algorithm === 'SHA-256') || cs[0] || null;
}

export function authorization(ch, { user, password, method, uri, forceAlgorithm }) {
  const algorithm = forceAlgorithm || ch.algorithm;
  const qop = ch.qop ? (ch.qop.split(',').map((s) => s.trim()).includes('auth') ? 'auth' : null) : null;
  const nc = '00000001', cnonce = rnd(16);
  const response = digestResponse({ algorithm, user, realm: ch.realm, password, method, uri, nonce: ch.nonce, qop, nc, cnonce });
  let v = `Digest username="${user}", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}`;
  if (ch.opaque !== undefined) v += `, opaque="${ch.opaque}"`;
  if (qop) v += `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`;
  return v;
}

// ------------------------------------------------------------------ SIP UA over one WebSocket
export class SipWsClient {
  // options: user, password, domain, instance (urn:uuid:... or null), regId, callId, contactUser,
  //          viaHost, trace(fn), autoAnswer (reply 200 to incoming MESSAGE/OPTIONS, default true)
  constructor(ws, url, o = {}) {
    this.ws = ws;
    this.url = url;
    this.user = o.user;
    this.password = o.password;
    this.domain = o.domain || '127.0.0.1';
    this.instance = o.instance === undefined ? `urn:uuid:${uuid()}` : o.instance;
    this.regId = o.regId === undefined ? 1 : o.regId;
    this.callId = o.callId || rnd(20);
    this.cseq = o.cseq || 0;
    this.fromTag = rnd(10);
    this.viaHost = o.viaHost || `${rnd(12).toLowerCase()}.invalid`;
    this.contactUser = o.contactUser || rnd(8).toLowerCase();
    this.trace = o.trace || null;
    this.incoming = [];          // requests received from the server (MESSAGE, OPTIONS, INVITE, ...)
    this.pending = [];           // responses waiting for their transaction
    this.autoAnswer = o.autoAnswer !== false;
    ws.onmessage = (m) => this._onMessage(m);
  }

  static async connect(url, o = {}) {
    const ws = await WebSocketClient.connect(url, o);
    return new SipWsClient(ws, url, o);
  }

  get localPort() { return this.ws.localPort; }

  _onMessage(text) {
    if (this.trace) this.trace('<<<', text);
    const msg = parseSip(text);
    if (msg.method) {
      this.incoming.push(msg);
      if (this.autoAnswer && msg.method !== 'ACK') this._reply(msg, msg.method === 'INVITE' ? 486 : 200, msg.method === 'INVITE' ? 'Busy Here' : 'OK');
    }
  }

  _reply(req, code, reason) {
    const to = req.get('to');
    const lines = [`SIP/2.0 ${code} ${reason}`, ...req.all('via').map((v) => `Via: ${v}`),
      `From: ${req.get('from')}`, `To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=${rnd(10)}`}`,
      `Call-ID: ${req.get('call-id')}`, `CSeq: ${req.get('cseq')}`, 'Content-Length: 0', '', ''];
    this.send(lines.join('\r\n'));
  }

  send(text) {
    if (this.trace) this.trace('>>>', text);
    this.ws.send(text);
  }

  contactUri() { return `sip:${this.contactUser}@${this.viaHost};transport=ws;ob`; }

  contactHeader(expires) {
    let c = `<${this.contactUri()}>`;
    if (this.instance) c += `;+sip.instance="<${this.instance}>"`;
    if (this.instance && this.regId) c += `;reg-id=${this.regId}`;
    return `${c};expires=${expires}`;
  }

  buildRequest(method, ruri, { to, extra = [], body = '', contentType, callId, fromTag, cseq } = {}) {
    const lines = [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/WSS ${this.viaHost};branch=z9hG4bK${rnd(16)}`,
      'Max-Forwards: 70',
      `To: <${to || `sip:${this.user}@${this.domain}`}>`,
      `From: <sip:${this.user}@${this.domain}>;tag=${fromTag || this.fromTag}`,
      `Call-ID: ${callId || this.callId}`,
      `CSeq: ${cseq} ${method}`,
      ...extra,
      'User-Agent: ferrophone-lab-ws-client',
    ];
    if (body) lines.push(`Content-Type: ${contentType || 'text/plain'}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
    return lines.join('\r\n');
  }

  // next response (final unless provisional wanted) for CSeq number n
  async response(n, method, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const text = await this.ws.recv(left);
      if (text === null) return null;
      const m = parseSip(text);
      if (m.status === null) continue;                 // requests are handled by _onMessage
      if (m.get('cseq') !== `${n} ${method}`) continue;
      if (m.status < 200) continue;
      return m;
    }
  }

  // send a request, answer at most one 401/407 challenge. Returns { codes, final, challenge }.
  // `challenge` (from an earlier answer) sends credentials with the first attempt (nonce reuse).
  async request(method, ruri, { to, extra = [], body, contentType, password, forceAlgorithm, newDialog = false, timeoutMs, challenge: reuse } = {}) {
    const codes = [];
    const ids = newDialog ? { callId: rnd(20), fromTag: rnd(10) } : {};
    let authHdr = [], challenge = null, final = null;
    if (reuse) authHdr = [`${method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization'}: ${authorization(reuse, { user: this.user, password: password ?? this.password, method, uri: ruri, forceAlgorithm })}`];
    for (let attempt = 0; attempt < 2; attempt++) {
      const cseq = ++this.cseq;
      this.send(this.buildRequest(method, ruri, { to, extra: [...extra, ...authHdr], body, contentType, cseq, ...ids }));
      final = await this.response(cseq, method, timeoutMs);
      if (!final) { codes.push('timeout'); break; }
      codes.push(final.status);
      if ((final.status !== 401 && final.status !== 407) || attempt === 1) break;
      const hname = final.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
      challenge = pickChallenge(final.all(hname));
      if (!challenge) break;
      const value = authorization(challenge, { user: this.user, password: password ?? this.password, method, uri: ruri, forceAlgorithm });
      authHdr = [`${final.status === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${value}`];
    }
    return { codes, final, challenge };
  }

  async register({ expires = 600, password, forceAlgorithm, supported = 'path, gruu, outbound', require: req, timeoutMs, challenge } = {}) {
    const extra = [`Contact: ${this.contactHeader(expires)}`, `Expires: ${expires}`,
      'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, REFER, UPDATE, PRACK'];
    if (supported) extra.push(`Supported: ${supported}`);
    if (req) extra.push(`Require: ${req}`);
    const r = await this.request('REGISTER', `sip:${this.domain}`, { extra, password, forceAlgorithm, timeoutMs, challenge });
    r.contacts = r.final && r.final.status === 200 ? r.final.all('contact').flatMap(splitContacts) : [];
    return r;
  }

  // CRLF keep-alive (RFC 5626 §4.4.1 style) sent as a WebSocket text message; resolves with the
  // server's answer (e.g. "\r\n") or null after timeoutMs.
  async crlfPing(timeoutMs = 1000) {
    this.ws.send('\r\n\r\n');
    return this.ws.recv(timeoutMs);
  }

  close() { return this.ws.close(); }
}

// ------------------------------------------------------------------ CLI
async function main(argv) {
  const pos = [], o = { regId: 1, expires: 600, keep: 0, unregister: true, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--instance') o.instance = argv[++i];
    else if (a === '--no-instance') o.instance = null;
    else if (a === '--reg-id') o.regId = Number(argv[++i]);
    else if (a === '--expires') o.expires = Number(argv[++i]);
    else if (a === '--domain') o.domain = argv[++i];
    else if (a === '--keep') o.keep = Number(argv[++i]);
    else if (a === '--no-unregister') o.unregister = false;
    else if (a === '--quiet') o.quiet = true;
    else pos.push(a);
  }
  if (pos.length < 3) {
    console.error('usage: node ws_register.mjs <ws[s]://host:port> <user> <password> [--instance urn:uuid:..] [--reg-id n] [--expires s] [--keep s] [--no-unregister] [--quiet]');
    return 2;
  }
  const [url, user, password] = pos;
  const trace = o.quiet ? null : (dir, text) => console.log(`${dir} ${dir === '>>>' ? 'SENT' : 'RECEIVED'}\n${text}`);
  const c = await SipWsClient.connect(url, { user, password, domain: o.domain, instance: o.instance, regId: o.regId, trace });
  console.log(`### connected to ${url} (subprotocol ${c.ws.protocol}, local port ${c.localPort}), instance ${c.instance || '(none)'}`);
  const r = await c.register({ expires: o.expires });
  console.log(`### REGISTER -> ${r.codes.join(' -> ')}`);
  const ok = r.final && r.final.status === 200;
  if (ok) for (const ct of r.contacts) console.log(`### binding: ${ct}`);
  if (ok && o.keep > 0) await new Promise((res) => setTimeout(res, o.keep * 1000));
  if (ok && o.unregister) {
    const u = await c.register({ expires: 0 });
    console.log(`### un-REGISTER -> ${u.codes.join(' -> ')}`);
  }
  await c.close();
  console.log(`### RESULT: ${ok ? 'REGISTERED OK' : 'FAILED'}`);
  return ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/ws_register.mjs')) {
  main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => { console.error(e.message || e); process.exit(1); });
}
