// @ts-check
// Ferrophone options page: the account form, the behaviour settings, the connection test, the
// microphone grant and the status line.
// A plain UI script: it reads and writes chrome.storage and renders what the worker reports. The
// worker notices storage changes by itself; the password is never put in a runtime message, a log
// or the DOM.

const API = 1; // the command API's version, `ferrophone` in every message
const FIELDS = /** @type {const} */ (['server', 'username', 'password', 'authUsername', 'domain', 'displayName']);

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`options.html has no #${id}`);
  return el;
}

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/**
 * @param {string} id
 * @param {string} text
 * @param {'ok' | 'error' | ''} [kind]
 */
function showResult(id, text, kind = '') {
  const el = $(id);
  el.textContent = text;
  el.dataset.kind = kind;
}

/** @param {unknown} e */
const errorText = (e) => String((e && /** @type {any} */ (e).message) || e);

// ---------------------------------------------------------------------------------------------
// Validation: what the form accepts. Returns one message per invalid field.

/** @param {string} host  URL.hostname: IPv4 normalised, IPv6 in brackets */
function isLoopback(host) {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** @param {string} value */
function serverError(value) {
  const example = 'for example wss://sip.example.com:8443/ws';
  if (!value) return `Enter your provider's WebSocket address, ${example}.`;
  let url;
  try {
    url = new URL(value);
  } catch {
    return `This is not a valid URL. Enter the full address, ${example}.`;
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
    return `The address must start with wss:// (SIP over secure WebSocket), not ${url.protocol}//.`;
  }
  if (!url.hostname) return `The address has no host name, ${example}.`;
  if (url.username || url.password) {
    return 'Do not put a user name or password in the address: use the fields below.';
  }
  if (url.protocol === 'ws:' && !isLoopback(url.hostname)) {
    return 'ws:// is not encrypted and is only allowed to this computer (localhost, 127.x.x.x, [::1]). Use wss://.';
  }
  return '';
}

/** @param {string} value */
function usernameError(value) {
  if (!value) return 'Enter your SIP username, for example 1001.';
  if (/\s/.test(value)) return 'The username cannot contain spaces.';
  if (value.includes('@')) {
    return 'Enter only the part before the @ here, and put the part after it in Domain.';
  }
  return '';
}

/** @param {string} value */
function authUsernameError(value) {
  if (/\s/.test(value)) return 'The authorization username cannot contain spaces.';
  return '';
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** @param {string} value */
function domainError(value) {
  if (!value) return '';
  const message = 'Enter a domain name such as example.com (no sip:, no port, no path).';
  if (/^\[.*\]$/.test(value)) {
    try {
      return new URL(`wss://${value}/`).hostname === value.toLowerCase() ? '' : message;
    } catch {
      return message;
    }
  }
  if (/^[\d.]+$/.test(value)) {
    const parts = value.split('.');
    return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255) ? '' : message;
  }
  let ascii;
  try {
    ascii = new URL(`wss://${value}/`).hostname; // internationalised names become punycode
  } catch {
    return message;
  }
  const name = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (/[:/@?#\s]/.test(value) || name.length === 0 || name.length > 253) return message;
  return name.split('.').every((label) => LABEL.test(label)) ? '' : message;
}

/** @param {string} value */
function displayNameError(value) {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'The display name cannot contain control characters.';
  if (value.length > 100) return 'The display name is too long (100 characters at most).';
  return '';
}

/**
 * @param {Record<string, string>} v  the trimmed form values
 * @param {boolean} hasStoredPassword
 * @returns {Record<string, string>} field name → message, only for invalid fields
 */
function validate(v, hasStoredPassword) {
  /** @type {Record<string, string>} */
  const errors = {};
  const checks = {
    server: serverError(v.server),
    username: usernameError(v.username),
    password: !v.password && !hasStoredPassword ? 'Enter the password of this account.' : '',
    authUsername: authUsernameError(v.authUsername),
    domain: domainError(v.domain),
    displayName: displayNameError(v.displayName),
  };
  for (const [field, message] of Object.entries(checks)) if (message) errors[field] = message;
  return errors;
}

/** @param {Record<string, string>} errors */
function renderErrors(errors) {
  for (const field of FIELDS) {
    const el = $(`${field}-error`);
    const message = errors[field] || '';
    el.textContent = message;
    el.hidden = !message;
    input(field).setAttribute('aria-invalid', message ? 'true' : 'false');
  }
  const first = FIELDS.find((f) => errors[f]);
  if (first) input(first).focus();
}

// ---------------------------------------------------------------------------------------------
// Storage: sync `account` = {version: 1, server, username, password?, authUsername?, domain?,
// displayName?}; with "device only", the password lives in local `password` instead.

async function storedPassword() {
  const [{ account }, { password }] = await Promise.all([
    chrome.storage.sync.get('account'),
    chrome.storage.local.get('password'),
  ]);
  const a = /** @type {Record<string, unknown>} */ (account && typeof account === 'object' ? account : {});
  const synced = typeof a.password === 'string' ? a.password : '';
  return synced || (typeof password === 'string' ? password : '');
}

async function loadForm() {
  const [{ account }, { password: localPassword }] = await Promise.all([
    chrome.storage.sync.get('account'),
    chrome.storage.local.get('password'),
  ]);
  const a = /** @type {Record<string, unknown>} */ (account && typeof account === 'object' ? account : {});
  for (const field of FIELDS) {
    if (field === 'password') continue;
    input(field).value = typeof a[field] === 'string' ? a[field] : '';
  }
  const hasSynced = typeof a.password === 'string' && a.password !== '';
  const hasLocal = typeof localPassword === 'string' && localPassword !== '';
  const pw = input('password');
  pw.value = '';
  pw.placeholder = hasSynced || hasLocal ? 'saved — leave empty to keep' : 'required';
  input('deviceOnly').checked = hasLocal && !hasSynced;
}

/** @param {SubmitEvent} event */
async function save(event) {
  event.preventDefault();
  showResult('save-result', '');
  /** @type {Record<string, string>} */
  const v = {};
  for (const field of FIELDS) {
    v[field] = field === 'password' ? input(field).value : input(field).value.trim();
  }
  const previous = await storedPassword();
  const errors = validate(v, previous !== '');
  renderErrors(errors);
  if (Object.keys(errors).length > 0) {
    showResult('save-result', 'Not saved: correct the fields marked above.', 'error');
    return;
  }

  const password = v.password || previous;
  const deviceOnly = input('deviceOnly').checked;
  /** @type {Record<string, string | number>} */
  const account = { version: 1, server: v.server, username: v.username };
  if (!deviceOnly) account.password = password;
  for (const field of /** @type {const} */ (['authUsername', 'domain', 'displayName'])) {
    if (v[field]) account[field] = v[field];
  }

  const before = await storedAccountKey();
  try {
    // Order the writes so the worker never sees an account whose password is nowhere.
    if (deviceOnly) {
      await chrome.storage.local.set({ password });
      await chrome.storage.sync.set({ account });
    } else {
      await chrome.storage.sync.set({ account });
      await chrome.storage.local.remove('password');
    }
  } catch (e) {
    showResult('save-result', `Not saved: ${errorText(e)}`, 'error');
    return;
  }
  await loadForm(); // clears the password field
  showResult('save-result', deviceOnly ? 'Saved. The password stays on this device.' : 'Saved.', 'ok');
  if (before === await storedAccountKey()) {
    // Nothing changed, so the worker sees no storage change: Save means "try again now" (after
    // the password was fixed on the server, say).
    await chrome.runtime.sendMessage({ ferrophone: API, cmd: 'register' }).catch(() => undefined);
  }
  refreshStatus();
}

/** The stored account and device-only password, as one comparable string. */
async function storedAccountKey() {
  const [{ account }, { password }] = await Promise.all([
    chrome.storage.sync.get('account'),
    chrome.storage.local.get('password'),
  ]);
  /** @param {unknown} v @returns {unknown} */
  const sorted = (v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)]))
    : v);
  return JSON.stringify([sorted(account), password]);
}

// ---------------------------------------------------------------------------------------------
// Behaviour: sync `settings` = {version: 1, autoAnswer, autoAnswerDelayMs, dtmfMode, iceServers,
// iceGatheringTimeoutMs, maxCalls, allowedExtensions, transferTargets, trustedRealms, ...} (docs/API.md). Applying merges into the
// stored object, so fields this page does not show (registerExpires, keepaliveInterval...) are
// kept. The worker applies the change by itself (it listens to storage changes).

const BEHAVIOUR_FIELDS = /** @type {const} */ ([
  'autoAnswerDelayMs', 'trustedRealms', 'iceUrls', 'iceUsername', 'iceCredential', 'iceGatheringTimeoutMs', 'maxCalls',
  'allowedExtensions',
]);
/** Server control of the phone is off unless the user turns it on: 'never' is the default. */
const AUTO_ANSWER = /** @type {const} */ (['never', 'headers', 'always']);
/** Where a far end may transfer us (REFER): the account's domain and numbers (default), anywhere, nowhere. */
const TRANSFER_TARGETS = /** @type {const} */ (['domain', 'any', 'never']);
/** A digest realm as the user may list it: printable, no quotes, at most 253 characters. */
const REALM = /^[^\x00-\x1f\x7f"]{1,253}$/;
/** How DTMF digits are sent: in the media (RFC 4733 telephone-events, the default) or by SIP INFO. */
const DTMF_MODES = /** @type {const} */ (['rfc4733', 'info']);
const DEFAULTS = { autoAnswerDelayMs: 0, iceGatheringTimeoutMs: 2000, maxCalls: 4 };

/** @param {string} id */
const textArea = (id) => /** @type {HTMLTextAreaElement} */ ($(id));

/** @param {string} text  the lines of a textarea, trimmed, without empty ones, with their line numbers */
function linesOf(text) {
  return text.split('\n').map((line, i) => ({ n: i + 1, value: line.trim() })).filter((l) => l.value !== '');
}

/**
 * A whole number in [min, max]; an empty field means the default.
 * @param {string} value
 * @param {number} min
 * @param {number} max
 * @param {number} fallback
 * @param {string} what  e.g. 'milliseconds'
 * @returns {{value: number, error: string}}
 */
function wholeNumber(value, min, max, fallback, what) {
  if (value === '') return { value: fallback, error: '' };
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return { value: fallback, error: `Enter a whole number of ${what} from ${min} to ${max}.` };
  }
  return { value: n, error: '' };
}

/** `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:…` (RFC 7064/7065). */
const ICE_URL = /^(stun|turns?):([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/i;
/** Extension ids: 32 letters a–p (chrome://extensions shows them). */
const EXTENSION_ID = /^[a-p]{32}$/;

/** @param {string} url */
const isTurn = (url) => /^turns?:/i.test(url);

/**
 * @typedef {{urls: string[], username?: string, credential?: string}} IceServer
 * @typedef {{autoAnswer: string, autoAnswerDelayMs: number, dtmfMode: string, iceServers: IceServer[],
 *   iceGatheringTimeoutMs: number, maxCalls: number, allowedExtensions: string[], transferTargets: string,
 *   trustedRealms: string[]}} Behaviour
 */

/**
 * Checks the behaviour form. `storedCredential` is the TURN password already saved (the field is
 * left empty to keep it).
 * @param {Record<string, string>} v  the form values (textareas raw, inputs trimmed)
 * @param {{autoAnswer: string, dtmfMode: string, transferTargets: string}} choices  the checked radio buttons' values
 * @param {string} storedCredential
 * @returns {{errors: Record<string, string>, behaviour: Behaviour}}
 */
function validateBehaviour(v, { autoAnswer, dtmfMode, transferTargets }, storedCredential) {
  /** @type {Record<string, string>} */
  const errors = {};
  const delay = wholeNumber(v.autoAnswerDelayMs, 0, 60000, DEFAULTS.autoAnswerDelayMs, 'milliseconds');
  const gathering = wholeNumber(v.iceGatheringTimeoutMs, 100, 10000, DEFAULTS.iceGatheringTimeoutMs, 'milliseconds');
  const maxCalls = wholeNumber(v.maxCalls, 1, 8, DEFAULTS.maxCalls, 'calls');
  if (delay.error) errors.autoAnswerDelayMs = delay.error;
  if (gathering.error) errors.iceGatheringTimeoutMs = gathering.error;
  if (maxCalls.error) errors.maxCalls = maxCalls.error;

  const urls = linesOf(v.iceUrls);
  const badUrls = urls.filter((l) => {
    const m = ICE_URL.exec(l.value);
    if (!m) return true;
    if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return true;
    return m[4] !== undefined && !isTurn(l.value); // ?transport= belongs to TURN only
  });
  if (badUrls.length > 0) {
    const shown = badUrls.slice(0, 3).map((l) => `line ${l.n} (${JSON.stringify(l.value)})`).join(', ');
    errors.iceUrls = `Not a STUN or TURN address: ${shown}. Each line must look like stun:host:port, turn:host:port or turns:host:port.`;
  }
  const turn = urls.map((l) => l.value).filter(isTurn);
  const credential = v.iceCredential || storedCredential;
  if (turn.length > 0) {
    if (!v.iceUsername) errors.iceUsername = 'A TURN server needs a username.';
    if (!credential) errors.iceCredential = 'A TURN server needs a password.';
  } else {
    if (v.iceUsername) errors.iceUsername = 'The username is only used for turn: or turns: servers: add one above or clear this field.';
    if (v.iceCredential) errors.iceCredential = 'The password is only used for turn: or turns: servers: add one above or clear this field.';
  }

  const ids = linesOf(v.allowedExtensions);
  const badIds = ids.filter((l) => !EXTENSION_ID.test(l.value));
  if (badIds.length > 0) {
    const shown = badIds.slice(0, 3).map((l) => `line ${l.n} (${JSON.stringify(l.value)})`).join(', ');
    errors.allowedExtensions = `Not an extension id: ${shown}. An id is 32 letters from a to p, as chrome://extensions shows it.`;
  }

  const realms = linesOf(v.trustedRealms);
  const badRealms = realms.filter((l) => !REALM.test(l.value));
  if (badRealms.length > 0) {
    const shown = badRealms.slice(0, 3).map((l) => `line ${l.n}`).join(', ');
    errors.trustedRealms = `Not a realm: ${shown}. A realm is up to 253 characters, without quotes.`;
  } else if (realms.length > 16) {
    errors.trustedRealms = 'List at most 16 realms.';
  }

  /** @type {IceServer[]} */
  const iceServers = [];
  const stun = urls.map((l) => l.value).filter((u) => !isTurn(u));
  if (stun.length > 0) iceServers.push({ urls: stun });
  if (turn.length > 0) iceServers.push({ urls: turn, username: v.iceUsername, credential });
  return {
    errors,
    behaviour: {
      autoAnswer: AUTO_ANSWER.includes(/** @type {any} */ (autoAnswer)) ? autoAnswer : 'never',
      autoAnswerDelayMs: delay.value,
      dtmfMode: DTMF_MODES.includes(/** @type {any} */ (dtmfMode)) ? dtmfMode : 'rfc4733',
      iceServers,
      iceGatheringTimeoutMs: gathering.value,
      maxCalls: maxCalls.value,
      allowedExtensions: [...new Set(ids.map((l) => l.value))],
      transferTargets: TRANSFER_TARGETS.includes(/** @type {any} */ (transferTargets)) ? transferTargets : 'domain',
      trustedRealms: [...new Set(realms.map((l) => l.value))],
    },
  };
}

/** @param {Record<string, string>} errors */
function renderBehaviourErrors(errors) {
  for (const field of BEHAVIOUR_FIELDS) {
    const el = $(`${field}-error`);
    const message = errors[field] || '';
    el.textContent = message;
    el.hidden = !message;
    $(field).setAttribute('aria-invalid', message ? 'true' : 'false');
  }
  const first = BEHAVIOUR_FIELDS.find((f) => errors[f]);
  if (first) $(first).focus();
}

/** @returns {Promise<Record<string, any>>} the stored `settings` object ({} when none) */
async function storedSettings() {
  const { settings } = await chrome.storage.sync.get('settings');
  return settings && typeof settings === 'object' && !Array.isArray(settings) ? settings : {};
}

/** @param {Record<string, any>} settings  @returns {IceServer[]} */
function iceServersOf(settings) {
  return Array.isArray(settings.iceServers) ? settings.iceServers.filter((s) => s && typeof s === 'object') : [];
}

/** @param {IceServer[]} servers  the TURN password already stored, if any */
function credentialOf(servers) {
  const withCredential = servers.find((s) => typeof s.credential === 'string' && s.credential !== '');
  return withCredential ? /** @type {string} */ (withCredential.credential) : '';
}

async function loadBehaviour() {
  const settings = await storedSettings();
  const autoAnswer = AUTO_ANSWER.includes(settings.autoAnswer) ? settings.autoAnswer : 'never';
  for (const value of AUTO_ANSWER) input(`autoAnswer-${value}`).checked = value === autoAnswer;
  const transferTargets = TRANSFER_TARGETS.includes(settings.transferTargets) ? settings.transferTargets : 'domain';
  for (const value of TRANSFER_TARGETS) input(`transferTargets-${value}`).checked = value === transferTargets;
  const realms = Array.isArray(settings.trustedRealms) ? settings.trustedRealms.filter((x) => typeof x === 'string') : [];
  textArea('trustedRealms').value = realms.join('\n');
  const dtmfMode = DTMF_MODES.includes(settings.dtmfMode) ? settings.dtmfMode : 'rfc4733';
  for (const value of DTMF_MODES) input(`dtmfMode-${value}`).checked = value === dtmfMode;
  /** @param {unknown} n @param {number} fallback */
  const number = (n, fallback) => String(typeof n === 'number' && Number.isFinite(n) ? n : fallback);
  input('autoAnswerDelayMs').value = number(settings.autoAnswerDelayMs, DEFAULTS.autoAnswerDelayMs);
  input('iceGatheringTimeoutMs').value = number(settings.iceGatheringTimeoutMs, DEFAULTS.iceGatheringTimeoutMs);
  input('maxCalls').value = number(settings.maxCalls, DEFAULTS.maxCalls);
  const servers = iceServersOf(settings);
  /** @type {string[]} */
  const urls = servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : typeof s.urls === 'string' ? [s.urls] : []));
  textArea('iceUrls').value = urls.join('\n');
  const withUser = servers.find((s) => typeof s.username === 'string' && s.username !== '');
  input('iceUsername').value = withUser ? /** @type {string} */ (withUser.username) : '';
  const credential = input('iceCredential');
  credential.value = '';
  credential.placeholder = credentialOf(servers) ? 'saved — leave empty to keep' : '';
  const ids = Array.isArray(settings.allowedExtensions) ? settings.allowedExtensions.filter((x) => typeof x === 'string') : [];
  textArea('allowedExtensions').value = ids.join('\n');
}

/** @param {SubmitEvent} event */
async function applyBehaviour(event) {
  event.preventDefault();
  showResult('behaviour-result', '');
  /** @type {Record<string, string>} */
  const v = {};
  for (const field of BEHAVIOUR_FIELDS) {
    const el = /** @type {HTMLInputElement | HTMLTextAreaElement} */ ($(field));
    v[field] = el instanceof HTMLTextAreaElement || field === 'iceCredential' ? el.value : el.value.trim();
  }
  /** @param {string} name  the value of the checked radio button of a group ('' when none) */
  const choice = (name) => {
    const checked = /** @type {HTMLInputElement | null} */ (document.querySelector(`input[name="${name}"]:checked`));
    return checked ? checked.value : '';
  };
  const stored = await storedSettings();
  const { errors, behaviour } = validateBehaviour(v,
    { autoAnswer: choice('autoAnswer'), dtmfMode: choice('dtmfMode'), transferTargets: choice('transferTargets') },
    credentialOf(iceServersOf(stored)));
  renderBehaviourErrors(errors);
  if (Object.keys(errors).length > 0) {
    showResult('behaviour-result', 'Not applied: correct the fields marked above.', 'error');
    return;
  }
  const settings = { ...stored, ...behaviour, version: 1 };
  try {
    await chrome.storage.sync.set({ settings });
  } catch (e) {
    showResult('behaviour-result', `Not applied: ${errorText(e)}`, 'error');
    return;
  }
  await loadBehaviour(); // clears the TURN password field
  showResult('behaviour-result', 'Applied.', 'ok');
}

// ---------------------------------------------------------------------------------------------
// Status line: what the worker reports (`status` reply and `registration` events).

// The line itself reads exactly as documented (README, "Configure"): `registered (expires in N s)`,
// `authentication failed`, `server unreachable, retrying in N s`, `not configured`, `connecting…`,
// `registering…`, `unregistered`, with a reason after " — " where there is one. Advice and
// the last connection error go to the detail line below it. The worker reports `expiresIn` /
// `retryIn` only when something changes, so the page counts them down itself, every second.

/** @param {number} n */
const seconds = (n) => `${Math.max(0, Math.round(n))} s`;

/**
 * @typedef {{state?: string, expiresIn?: number, reason?: string}} Registration
 * @typedef {{state?: string, retryIn?: number, failures?: number}} Connection
 */

/**
 * @param {Registration | undefined} registration
 * @param {Connection | undefined} connection
 * @param {number} elapsed  whole seconds since the worker reported these values
 * @returns {{line: string, detail: string}}
 */
function describe(registration, connection, elapsed) {
  const state = registration && registration.state;
  const reason = registration && registration.reason ? registration.reason : '';
  const withReason = (/** @type {string} */ text) => (reason ? `${text} — ${reason}` : text);
  /** @param {number | undefined} n */
  const left = (n) => (typeof n === 'number' ? Math.max(0, n - elapsed) : undefined);
  const retryIn = left(connection && connection.retryIn);
  switch (state) {
    case 'unconfigured':
      return { line: withReason('not configured'), detail: 'Enter your SIP account below and press Save.' };
    case 'connecting':
      return { line: 'connecting…', detail: '' };
    case 'registering':
      return { line: 'registering…', detail: '' };
    case 'registered': {
      const expiresIn = left(registration && registration.expiresIn);
      return { line: expiresIn === undefined ? 'registered' : `registered (expires in ${seconds(expiresIn)})`, detail: '' };
    }
    case 'auth-failed':
      return {
        line: withReason('authentication failed'),
        detail: 'Check the username, the password and the authorization username, then press Save.',
      };
    case 'unreachable':
      return {
        line: retryIn === undefined ? 'server unreachable, retrying now' : `server unreachable, retrying in ${seconds(retryIn)}`,
        detail: reason ? `Last error: ${reason}` : '',
      };
    case 'unregistered':
      return { line: withReason('unregistered'), detail: retryIn === undefined ? '' : `Trying again in ${seconds(retryIn)}.` };
    default:
      return { line: state ? withReason(`state: ${state}`) : 'unknown state', detail: '' };
  }
}

/** @type {{registration: Registration | undefined, connection: Connection | undefined, at: number} | undefined} */
let lastStatus;
/** @type {ReturnType<typeof setInterval> | undefined} */
let countdown;

/**
 * @param {string} id
 * @param {string} text
 */
function setText(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text; // no DOM mutation when nothing changed
  return el;
}

function paintStatus() {
  if (!lastStatus) return;
  const { registration, connection, at } = lastStatus;
  const { line, detail } = describe(registration, connection, Math.floor((Date.now() - at) / 1000));
  const el = setText('status', line);
  el.dataset.state = (registration && registration.state) || 'unknown';
  setText('status-detail', detail).hidden = !detail;
}

/**
 * @param {any} registration
 * @param {any} connection
 */
function renderStatus(registration, connection) {
  lastStatus = { registration, connection, at: Date.now() };
  paintStatus();
  const ticking = (registration && typeof registration.expiresIn === 'number')
    || (connection && typeof connection.retryIn === 'number');
  if (ticking && countdown === undefined) countdown = setInterval(paintStatus, 250);
  if (!ticking && countdown !== undefined) {
    clearInterval(countdown);
    countdown = undefined;
  }
}

/** @param {string} text */
function renderStatusError(text) {
  lastStatus = undefined;
  if (countdown !== undefined) clearInterval(countdown);
  countdown = undefined;
  const el = setText('status', text);
  el.dataset.state = 'error';
  setText('status-detail', '').hidden = true;
}

async function refreshStatus() {
  try {
    const reply = await chrome.runtime.sendMessage({ ferrophone: API, cmd: 'status' });
    if (reply && reply.ok) renderStatus(reply.registration, reply.connection);
    else renderStatusError(`Status unavailable: ${(reply && reply.error && reply.error.message) || 'no answer'}`);
  } catch (e) {
    renderStatusError(`The background worker did not answer: ${errorText(e)}`);
  }
}

chrome.runtime.onMessage.addListener((m) => {
  if (m && m.ferrophone === API && m.event === 'registration') renderStatus(m.registration, m.connection);
  return false; // events need no reply
});

// ---------------------------------------------------------------------------------------------
// Microphone: granted on this visible page (the offscreen document cannot prompt), then tested
// where calls will use it.

/** @param {unknown} e */
function micErrorText(e) {
  const name = e && /** @type {any} */ (e).name;
  if (name === 'NotAllowedError') {
    return 'Denied: the microphone is blocked for Ferrophone. Allow it in the page settings (the icon left of the address) and try again.';
  }
  if (name === 'NotFoundError') return 'Denied: no microphone was found on this computer.';
  if (name === 'NotReadableError') return 'Denied: the microphone is in use by another program or cannot be read.';
  return `Denied: ${name ? `${name}: ` : ''}${errorText(e)}`;
}

async function grantMicrophone() {
  const button = /** @type {HTMLButtonElement} */ ($('grant-mic'));
  button.disabled = true;
  showResult('grant-mic-result', 'Asking…');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const [track] = stream.getAudioTracks();
    const label = track ? track.label : '';
    for (const t of stream.getTracks()) t.stop();
    showResult('grant-mic-result', `Granted${label ? `: ${label}` : ''}.`, 'ok');
  } catch (e) {
    showResult('grant-mic-result', micErrorText(e), 'error');
  } finally {
    button.disabled = false;
  }
}

async function testMicrophoneInBackground() {
  const button = /** @type {HTMLButtonElement} */ ($('test-mic'));
  button.disabled = true;
  showResult('test-mic-result', 'Testing…');
  try {
    const reply = await chrome.runtime.sendMessage({ ferrophone: API, cmd: 'mic-test' });
    if (reply && reply.ok) {
      const n = reply.audioTracks;
      const tracks = `${n} audio track${n === 1 ? '' : 's'}`;
      showResult('test-mic-result', `Works in the background: ${tracks}${reply.label ? ` (${reply.label})` : ''}.`, 'ok');
    } else {
      const err = (reply && reply.error) || {};
      showResult('test-mic-result', `Failed: ${err.message || 'no answer'}${err.code ? ` [${err.code}]` : ''}`, 'error');
    }
  } catch (e) {
    showResult('test-mic-result', `Failed: ${errorText(e)}`, 'error');
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Test connection: the worker opens a separate WebSocket to the address in the Server field and
// sends one OPTIONS (no credentials). An empty field tests the saved server.

/** @param {any} reply @returns {{text: string, kind: 'ok' | 'error'}} */
function connectionTestText(reply) {
  if (!reply) return { text: 'The background worker did not answer.', kind: 'error' };
  if (!reply.ok) {
    const err = reply.error || {};
    if (err.code === 'invalid-server') return { text: `Not a usable server address: ${err.message}`, kind: 'error' };
    if (err.code === 'unconfigured') return { text: 'Enter a server address to test.', kind: 'error' };
    return { text: `Test failed: ${err.message || 'no answer'}${err.code ? ` [${err.code}]` : ''}`, kind: 'error' };
  }
  if (!reply.reachable) return { text: `Cannot reach the server: ${reply.reason || 'no reason given'}`, kind: 'error' };
  if (!reply.sip) {
    return {
      text: `The WebSocket opened${typeof reply.connectMs === 'number' ? ` in ${reply.connectMs} ms` : ''}, but the server did not answer SIP: ${reply.reason || 'no reason given'}`,
      kind: 'error',
    };
  }
  return { text: `Server answered SIP: ${reply.answer}${typeof reply.ms === 'number' ? ` in ${reply.ms} ms` : ''}`, kind: 'ok' };
}

async function testConnection() {
  const button = /** @type {HTMLButtonElement} */ ($('test-connection'));
  button.disabled = true;
  showResult('test-connection-result', 'Testing…');
  const server = input('server').value.trim();
  /** @type {{ferrophone: number, cmd: string, server?: string}} */
  const request = { ferrophone: API, cmd: 'test-connection' };
  if (server) request.server = server;
  try {
    const { text, kind } = connectionTestText(await chrome.runtime.sendMessage(request));
    showResult('test-connection-result', text, kind);
  } catch (e) {
    showResult('test-connection-result', `The background worker did not answer: ${errorText(e)}`, 'error');
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Forget everything.

/** @param {boolean} open */
function showForgetConfirm(open) {
  $('forget-confirm').hidden = !open;
  if (open) $('forget-yes').focus();
  else $('forget').focus();
}

async function forgetEverything() {
  try {
    await chrome.storage.sync.remove(['account', 'settings']);
    await chrome.storage.local.clear();
  } catch (e) {
    showResult('forget-result', `Not deleted: ${errorText(e)}`, 'error');
    return;
  }
  $('forget-confirm').hidden = true;
  renderErrors({});
  renderBehaviourErrors({});
  await loadForm();
  await loadBehaviour();
  showResult('behaviour-result', '');
  showResult('save-result', '');
  showResult('forget-result', 'Everything was deleted from this browser.', 'ok');
  refreshStatus();
}

// ---------------------------------------------------------------------------------------------

$('account').addEventListener('submit', (event) => {
  save(/** @type {SubmitEvent} */ (event)).catch((e) => showResult('save-result', `Not saved: ${errorText(e)}`, 'error'));
});
$('behaviour').addEventListener('submit', (event) => {
  applyBehaviour(/** @type {SubmitEvent} */ (event)).catch((e) => showResult('behaviour-result', `Not applied: ${errorText(e)}`, 'error'));
});
$('grant-mic').addEventListener('click', grantMicrophone);
$('test-mic').addEventListener('click', testMicrophoneInBackground);
$('test-connection').addEventListener('click', testConnection);
$('forget').addEventListener('click', () => showForgetConfirm(true));
$('forget-no').addEventListener('click', () => showForgetConfirm(false));
$('forget-yes').addEventListener('click', forgetEverything);

// Both forms are filled from storage asynchronously; `data-loaded` on <html> says when (tests wait
// for it before typing, so the stored values cannot overwrite what they typed).
Promise.all([
  loadForm().catch((e) => showResult('save-result', `Could not read the saved account: ${errorText(e)}`, 'error')),
  loadBehaviour().catch((e) => showResult('behaviour-result', `Could not read the saved settings: ${errorText(e)}`, 'error')),
]).finally(() => { document.documentElement.dataset.loaded = 'true'; });
refreshStatus();
