// @ts-check
// A hostile SIP-over-WebSocket server (RFC 7118) for the security specs, node built-ins only: the
// RFC 6455 server side is written by hand (handshake, masked client frames, unmasked server
// frames, ping/pong, close). It binds 127.0.0.1 only.
//
// It behaves like a registrar just long enough to be trusted (every REGISTER gets 200 OK), then,
// when told, sends a burst of malformed and hostile messages and records every response the phone
// sends back, matched to the message it answers by the top Via branch.
//
//   const srv = await startHostileServer();            // srv.url = ws://127.0.0.1:<port>
//   ... configure the extension with srv.url, wait for "registered" ...
//   const carrier = await srv.ringingCall();           // a valid INVITE: the dialog the in-dialog
//                                                      // attacks use (our To tag from its 180)
//   const burst = srv.burst({ count: 3000, spreadMs: 3000, dialog: carrier });
//   await burst.done;                                  // everything sent
//   await srv.waitAnswered(10000);                     // every answerable one answered (or time out)
//   srv.summary();                                     // counts by kind and status
//   await srv.options();                               // a valid OPTIONS → its final status
//   await srv.close();
import net from 'node:net';
import crypto from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * @typedef {{ status: number, reason: string, headers: Map<string, string[]>, raw: string }} SipResponse
 * @typedef {{ method: string, uri: string, headers: Map<string, string[]>, raw: string }} SipRequest
 * @typedef {{ callId: string, fromTag: string, toTag: string, cseq: number }} Dialog
 * @typedef {{ kind: string, answerable: boolean, sentAt: number, finals: number[], provisionals: number[] }} Sent
 */

/** Header name → its compact form (RFC 3261 §7.3.3) for the ones we read. */
const COMPACT = /** @type {Record<string, string>} */ ({ v: 'via', f: 'from', t: 'to', i: 'call-id', l: 'content-length', m: 'contact' });

/**
 * Parses one SIP message (text) into a request or a response; null if it is neither.
 * @param {string} text
 * @returns {{ request?: SipRequest, response?: SipResponse } | null}
 */
export function parseSip(text) {
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const lines = head.split('\r\n');
  const start = lines.shift() || '';
  /** @type {Map<string, string[]>} */
  const headers = new Map();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    let name = line.slice(0, i).trim().toLowerCase();
    name = COMPACT[name] || name;
    const list = headers.get(name) || [];
    list.push(line.slice(i + 1).trim());
    headers.set(name, list);
  }
  const status = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (status) return { response: { status: Number(status[1]), reason: status[2], headers, raw: text } };
  const request = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (request) return { request: { method: request[1], uri: request[2], headers, raw: text } };
  return null;
}

/** @param {Map<string, string[]>} headers @param {string} name */
const first = (headers, name) => (headers.get(name) || [])[0] || '';
/** The branch parameter of the top Via. @param {Map<string, string[]>} headers */
const topBranch = (headers) => /;branch=([^;,\s]+)/i.exec(first(headers, 'via'))?.[1] || '';
/** @param {string} value */
const tagOf = (value) => /;tag=([^;>\s]+)/i.exec(value)?.[1] || '';

/** One WebSocket connection, server side. */
class ServerSocket {
  /** @param {net.Socket} sock @param {(data: Buffer, binary: boolean) => void} onMessage */
  constructor(sock, onMessage) {
    this.sock = sock;
    this.onMessage = onMessage;
    this.buf = Buffer.alloc(0);
    /** @type {Buffer[] | null} */
    this.frag = null;
    this.fragBinary = false;
    this.open = true;
    sock.on('close', () => { this.open = false; });
    sock.on('error', () => { this.open = false; });
  }

  /** @param {Buffer} d */
  data(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0];
      const b1 = this.buf[1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (this.buf.length < off + maskLen + len) return;
      const mask = masked ? this.buf.subarray(off, off + 4) : null;
      const payload = Buffer.from(this.buf.subarray(off + maskLen, off + maskLen + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      this.buf = this.buf.subarray(off + maskLen + len);
      if (opcode === 0x8) {
        // Close: answer it and end.
        this.frame(0x8, payload.subarray(0, 2));
        this.open = false;
        this.sock.end();
        return;
      }
      if (opcode === 0x9) { this.frame(0xa, payload); continue; }
      if (opcode === 0xa) continue;
      if (opcode === 0x1 || opcode === 0x2) {
        if (fin) this.onMessage(payload, opcode === 0x2);
        else { this.frag = [payload]; this.fragBinary = opcode === 0x2; }
      } else if (opcode === 0x0 && this.frag) {
        this.frag.push(payload);
        if (fin) {
          const whole = Buffer.concat(this.frag);
          this.frag = null;
          this.onMessage(whole, this.fragBinary);
        }
      }
    }
  }

  /** @param {number} opcode @param {Buffer} payload */
  frame(opcode, payload) {
    if (!this.open) return false;
    const len = payload.length;
    let header;
    if (len < 126) {
      header = Buffer.from([0x80 | opcode, len]);
    } else if (len < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(len, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(len), 2);
    }
    return this.sock.write(Buffer.concat([header, payload]));
  }

  /** @param {string} text */
  sendText(text) { return this.frame(0x1, Buffer.from(text, 'utf8')); }

  /** @param {Buffer} bytes */
  sendBinary(bytes) { return this.frame(0x2, bytes); }
}

/**
 * Starts the server on 127.0.0.1 (port 0 = any free port).
 * @param {{ port?: number, log?: (line: string) => void }} [options]
 */
export async function startHostileServer(options = {}) {
  const log = options.log || (() => {});
  /** @type {ServerSocket[]} */
  const connections = [];
  /** @type {Map<string, Sent>} branch → what we sent */
  const sent = new Map();
  /** @type {SipRequest[]} */
  const requests = [];
  /** @type {((r: SipResponse) => void)[]} */
  const responseWaiters = [];
  let registers = 0;
  const rnd = () => crypto.randomBytes(6).toString('hex');

  /** @param {SipRequest} req @param {number} status @param {string} reason @param {string[]} [extra] */
  const reply = (req, status, reason, extra = []) => {
    const h = req.headers;
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const v of h.get('via') || []) lines.push(`Via: ${v}`);
    lines.push(`From: ${first(h, 'from')}`);
    const to = first(h, 'to');
    lines.push(`To: ${tagOf(to) ? to : `${to};tag=srv${rnd()}`}`);
    lines.push(`Call-ID: ${first(h, 'call-id')}`, `CSeq: ${first(h, 'cseq')}`, ...extra, 'Content-Length: 0', '', '');
    current()?.sendText(lines.join('\r\n'));
  };

  /** @param {Buffer} data */
  const onMessage = (data) => {
    const text = data.toString('utf8');
    if (/^[\r\n]*$/.test(text)) {
      if (text === '\r\n\r\n') current()?.sendText('\r\n'); // pong our client's ping
      return;
    }
    const msg = parseSip(text);
    if (!msg) return;
    if (msg.request) {
      const req = msg.request;
      requests.push(req);
      if (req.method === 'REGISTER') {
        registers++;
        const contact = first(req.headers, 'contact');
        const expires = /expires=(\d+)/.exec(contact)?.[1] || first(req.headers, 'expires') || '600';
        reply(req, 200, 'OK', [`Contact: ${contact.replace(/;expires=\d+/, '')};expires=${Number(expires) === 0 ? 0 : 600}`]);
      } else if (req.method !== 'ACK') {
        reply(req, 200, 'OK');
      }
      return;
    }
    if (msg.response) {
      const r = msg.response;
      const s = sent.get(topBranch(r.headers));
      if (s) {
        if (r.status >= 200) s.finals.push(r.status);
        else s.provisionals.push(r.status);
      }
      for (const w of responseWaiters.splice(0)) w(r);
    }
  };

  const server = net.createServer((sock) => {
    let head = Buffer.alloc(0);
    /** @param {Buffer} d */
    const handshake = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      const rest = head.subarray(end + 4);
      sock.off('data', handshake);
      const key = /^sec-websocket-key:\s*(.+)$/im.exec(text)?.[1]?.trim();
      const protocols = /^sec-websocket-protocol:\s*(.+)$/im.exec(text)?.[1] || '';
      if (!key || !/^upgrade:\s*websocket/im.test(text)) {
        sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
      const proto = protocols.split(',').map((p) => p.trim()).includes('sip') ? 'Sec-WebSocket-Protocol: sip\r\n' : '';
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${proto}\r\n`);
      const ws = new ServerSocket(sock, onMessage);
      connections.push(ws);
      log(`WebSocket connection #${connections.length} from ${sock.remotePort}`);
      sock.on('data', (x) => ws.data(x));
      if (rest.length) ws.data(rest);
    };
    sock.on('data', handshake);
    sock.on('error', () => {});
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port || 0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const current = () => connections[connections.length - 1];

  /**
   * Sends a request (text) and records it under its branch.
   * @param {string} text @param {string} kind @param {boolean} answerable @param {string} branch
   */
  const track = (text, kind, answerable, branch) => {
    sent.set(branch, { kind, answerable, sentAt: Date.now(), finals: [], provisionals: [] });
    current()?.sendText(text);
  };

  /**
   * A request from the "caller" mallory at the server.
   * @param {{ method: string, branch: string, callId: string, fromTag: string, toTag?: string,
   *   cseq: number, extra?: string[], body?: string, contentType?: string }} m
   */
  const request = (m) => {
    const body = m.body || '';
    return [
      `${m.method} sip:alice@abc.invalid;transport=ws SIP/2.0`,
      `Via: SIP/2.0/WS 127.0.0.1:${port};branch=${m.branch}`,
      'Max-Forwards: 70',
      `From: "Mallory" <sip:mallory@127.0.0.1>;tag=${m.fromTag}`,
      `To: <sip:alice@127.0.0.1>${m.toTag ? `;tag=${m.toTag}` : ''}`,
      `Call-ID: ${m.callId}`,
      `CSeq: ${m.cseq} ${m.method}`,
      'Contact: <sip:mallory@127.0.0.1:5099;transport=ws>',
      ...(m.extra || []),
      ...(body ? [`Content-Type: ${m.contentType || 'application/sdp'}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  };

  /** A plain audio offer the phone accepts (it never reaches the browser unless answered). */
  const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';

  /**
   * Waits for a response matching `pred`.
   * @param {(r: SipResponse) => boolean} pred @param {number} timeoutMs
   * @returns {Promise<SipResponse>}
   */
  const waitResponse = (pred, timeoutMs) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching response within ${timeoutMs} ms`)), timeoutMs);
    const check = /** @param {SipResponse} r */ (r) => {
      if (pred(r)) { clearTimeout(timer); resolve(r); } else responseWaiters.push(check);
    };
    responseWaiters.push(check);
  });

  const srv = {
    url: `ws://127.0.0.1:${port}`,
    port,
    connections,
    requests,
    sent,
    /** REGISTERs answered so far. */
    registers: () => registers,
    /** Whether the newest connection is still open. */
    isOpen: () => Boolean(current()?.open),

    /**
     * Sends one valid INVITE and resolves with the dialog once the phone rings (180 with its tag).
     * @returns {Promise<Dialog>}
     */
    async ringingCall() {
      const branch = `z9hG4bKcarrier${rnd()}`;
      const d = { callId: `carrier-${rnd()}`, fromTag: `c${rnd()}`, toTag: '', cseq: 1 };
      const ringing = waitResponse((r) => topBranch(r.headers) === branch && r.status === 180, 10000);
      track(request({ method: 'INVITE', branch, callId: d.callId, fromTag: d.fromTag, cseq: 1, body: OFFER }), 'carrier', true, branch);
      const r = await ringing;
      d.toTag = tagOf(first(r.headers, 'to'));
      return d;
    },

    /**
     * The burst: `count` messages of 14 kinds, round robin, spread over `spreadMs`.
     * @param {{ count: number, spreadMs: number, dialog: Dialog }} o
     */
    burst(o) {
      const started = Date.now();
      const kinds = /** @type {const} */ ([
        'garbage-binary', 'crlf', 'truncated', 'bad-content-length', 'cseq-mismatch', 'oversize',
        'bad-sdp-invite', 'unacked-invite', 'unknown-dialog-bye', 'unknown-dialog-invite',
        'reinvite-flood', 'info-digits', 'stray-response', 'no-colon-header',
      ]);
      /** @type {Record<string, number>} */
      const counts = {};
      /** @param {number} n */
      const one = (n) => {
        const kind = kinds[n % kinds.length];
        counts[kind] = (counts[kind] || 0) + 1;
        const branch = `z9hG4bKhb${n}x${rnd()}`;
        const fresh = { branch, callId: `hb-${n}-${rnd()}`, fromTag: `m${n}`, cseq: 1 };
        const inDialog = () => {
          o.dialog.cseq += 1;
          return { branch, callId: o.dialog.callId, fromTag: o.dialog.fromTag, toTag: o.dialog.toTag, cseq: o.dialog.cseq };
        };
        switch (kind) {
          case 'garbage-binary': {
            // Not UTF-8: as a binary frame (a text frame that is not UTF-8 makes the browser fail
            // the WebSocket itself, RFC 6455 §8.1, before any of our code sees it).
            current()?.sendBinary(crypto.randomBytes(16 + (n % 200)));
            return;
          }
          case 'crlf': current()?.sendText(n % 2 ? '\r\n' : '\r\n\r\n\r\n'); return;
          case 'truncated':
            current()?.sendText(`INVITE sip:alice@abc.invalid SIP/2.0\r\nVia: SIP/2.0/WS 127.0.0.1;branch=${branch}\r\nFrom: <sip:m@x>;tag=1\r\nCall-`);
            return;
          case 'bad-content-length':
            track(request({ method: 'OPTIONS', ...fresh }).replace('Content-Length: 0', 'Content-Length: 900'), kind, true, branch);
            return;
          case 'cseq-mismatch':
            track(request({ method: 'OPTIONS', ...fresh }).replace('CSeq: 1 OPTIONS', 'CSeq: 1 BYE'), kind, true, branch);
            return;
          case 'oversize':
            track(request({ method: 'MESSAGE', ...fresh, contentType: 'text/plain', body: 'x'.repeat(70000) }), kind, true, branch);
            return;
          case 'bad-sdp-invite': {
            const bad = ['hello\r\n', 'v=0\r\nm=audio 0 RTP/AVP 0\r\n', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\n'][n % 3];
            track(request({ method: 'INVITE', ...fresh, body: bad }), kind, true, branch);
            return;
          }
          case 'unacked-invite':
            track(request({ method: 'INVITE', ...fresh, extra: ['Require: x-evil'], body: OFFER }), kind, true, branch);
            return;
          case 'unknown-dialog-bye':
            track(request({ method: 'BYE', ...fresh, toTag: 'nosuchdialog', cseq: 2 }), kind, true, branch);
            return;
          case 'unknown-dialog-invite':
            track(request({ method: 'INVITE', ...fresh, toTag: 'nosuchdialog', cseq: 2, body: OFFER }), kind, true, branch);
            return;
          case 'reinvite-flood':
            track(request({ method: 'INVITE', ...inDialog(), body: OFFER }), kind, true, branch);
            return;
          case 'info-digits': {
            let body = '';
            for (let i = 0; i < 500; i++) body += `Signal=${i % 10}\r\nDuration=100\r\n`;
            track(request({ method: 'INFO', ...inDialog(), contentType: 'application/dtmf-relay', body }), kind, true, branch);
            return;
          }
          case 'stray-response':
            current()?.sendText(`SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=${branch}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: s${n}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
            return;
          default: // no-colon-header
            track(request({ method: 'OPTIONS', ...fresh, extra: ['This line has no colon'] }), kind, true, branch);
        }
      };
      const done = (async () => {
        // Paced by the wall clock: by time t, t/spreadMs of the messages are out.
        let n = 0;
        while (n < o.count) {
          const due = Math.min(o.count, Math.ceil(((Date.now() - started + 10) / o.spreadMs) * o.count));
          for (; n < due; n++) one(n);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return { sent: o.count, ms: Date.now() - started, counts };
      })();
      return { done, counts };
    },

    /** Answerable messages still without a final response. */
    unanswered: () => [...sent.values()].filter((s) => s.answerable && s.kind !== 'carrier' && s.kind !== 'valid-options' && s.finals.length === 0),

    /**
     * Resolves when every answerable message has a final response, or after `timeoutMs`.
     * @param {number} timeoutMs
     */
    async waitAnswered(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (srv.unanswered().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return srv.unanswered().length === 0;
    },

    /** Final responses per kind and status, and totals. */
    summary() {
      /** @type {Record<string, Record<string, number>>} */
      const byKind = {};
      /** @type {Record<string, number>} */
      const byStatus = {};
      let answerable = 0;
      let extraFinals = 0;
      for (const s of sent.values()) {
        if (s.kind === 'carrier' || s.kind === 'valid-options') continue;
        if (s.answerable) answerable++;
        const k = (byKind[s.kind] ||= {});
        for (const f of s.finals) {
          k[f] = (k[f] || 0) + 1;
          byStatus[f] = (byStatus[f] || 0) + 1;
        }
        if (!s.finals.length) k.none = (k.none || 0) + 1;
        if (s.finals.length > 1) extraFinals += s.finals.length - 1;
      }
      return { answerable, byKind, byStatus, extraFinals };
    },

    /**
     * A valid OPTIONS; resolves with its final status.
     * @param {number} [timeoutMs]
     */
    async options(timeoutMs = 5000) {
      const branch = `z9hG4bKopt${rnd()}`;
      const final = waitResponse((r) => topBranch(r.headers) === branch && r.status >= 200, timeoutMs);
      track(request({ method: 'OPTIONS', branch, callId: `opt-${rnd()}`, fromTag: `o${rnd()}`, cseq: 1 }), 'valid-options', true, branch);
      return (await final).status;
    },

    async close() {
      for (const c of connections) c.sock.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
  return srv;
}
