// @ts-check
// Ferrophone options page: the account form, the behaviour settings, the connection test, the
// microphone grant and the status line.
// A plain UI script with no rules of its own: it sends each form to the worker (`save-config`),
// which checks it with the core's rules (crates/ua/src/config.rs), stores it and answers with a
// message per refused field; the page renders those. The typed passwords go to the worker through
// chrome.storage.session, never in a runtime message, a log or the DOM.

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
// Saving: the worker checks and stores; the page shows its answer.

/**
 * @typedef {{code: string, message: string}} FieldError
 * @typedef {{ok: boolean, changed?: boolean, error?: {code: string, message: string},
 *   fields?: Record<string, FieldError>}} SaveReply
 */

/**
 * Puts a typed secret where the worker takes it from (chrome.storage.session: memory only, this
 * extension's pages and worker), or clears it when the field is empty ("keep the saved one").
 * @param {'pendingPassword' | 'pendingIceCredential'} key
 * @param {string} value
 */
async function stageSecret(key, value) {
  if (value) await chrome.storage.session.set({ [key]: value });
  else await chrome.storage.session.remove(key);
}

/**
 * @param {{account?: Record<string, string | boolean>, behaviour?: Record<string, string>}} forms
 * @returns {Promise<SaveReply>}
 */
async function saveConfig(forms) {
  try {
    const reply = await chrome.runtime.sendMessage({ ferrophone: API, cmd: 'save-config', ...forms });
    return reply || { ok: false, error: { code: 'internal', message: 'the background worker did not answer' } };
  } catch (e) {
    // The worker did not take the typed secrets: leave none behind.
    await chrome.storage.session.remove(['pendingPassword', 'pendingIceCredential']).catch(() => undefined);
    throw e;
  }
}

/**
 * The result line of a refused save: the fields marked above, and any message of a field the
 * form has no place for.
 * @param {SaveReply} reply
 * @param {readonly string[]} shown  the fields rendered next to their inputs
 * @param {string} verb  'Not saved' | 'Not applied'
 */
function refusal(reply, shown, verb) {
  const fields = reply.fields || {};
  const elsewhere = Object.entries(fields).filter(([f]) => !shown.includes(f)).map(([, e]) => e.message);
  if (Object.keys(fields).length === 0) return `${verb}: ${(reply.error && reply.error.message) || 'no answer'}`;
  return [`${verb}: correct the fields marked above.`, ...elsewhere].join(' ');
}

/**
 * @param {readonly string[]} fields
 * @param {Record<string, FieldError>} errors
 */
function renderFieldErrors(fields, errors) {
  for (const field of fields) {
    const el = $(`${field}-error`);
    const error = errors[field];
    el.textContent = error ? error.message : '';
    el.dataset.code = error ? error.code : '';
    el.hidden = !error;
    $(field).setAttribute('aria-invalid', error ? 'true' : 'false');
  }
  const first = fields.find((f) => errors[f]);
  if (first) $(first).focus();
}

/** @param {Record<string, FieldError>} errors */
const renderErrors = (errors) => renderFieldErrors(FIELDS, errors);

// ---------------------------------------------------------------------------------------------
// Storage: sync `account` = {version: 1, server, username, password?, authUsername?, domain?,
// displayName?}; with "device only", the password lives in local `password` instead.

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
  /** @type {Record<string, string | boolean>} */
  const account = {};
  for (const field of FIELDS) if (field !== 'password') account[field] = input(field).value;
  const deviceOnly = input('deviceOnly').checked;
  account.deviceOnly = deviceOnly;
  let reply;
  try {
    await stageSecret('pendingPassword', input('password').value);
    reply = await saveConfig({ account });
  } catch (e) {
    showResult('save-result', `Not saved: ${errorText(e)}`, 'error');
    return;
  }
  renderErrors(reply.fields || {});
  if (!reply.ok) {
    showResult('save-result', refusal(reply, FIELDS, 'Not saved'), 'error');
    return;
  }
  await loadForm(); // clears the password field
  showResult('save-result', deviceOnly ? 'Saved. The password stays on this device.' : 'Saved.', 'ok');
  refreshStatus();
}

// ---------------------------------------------------------------------------------------------
// Behaviour: sync `settings` = {version: 1, autoAnswer, autoAnswerDelayMs, dtmfMode, iceServers,
// iceGatheringTimeoutMs, maxCalls, allowedExtensions, transferTargets, trustedRealms, ...}
// (docs/API.md). The worker merges what Apply sends into the stored object, so fields this page
// does not show (registerExpires, keepaliveInterval...) are kept, and applies the change by itself.

const BEHAVIOUR_FIELDS = /** @type {const} */ ([
  'autoAnswerDelayMs', 'trustedRealms', 'iceUrls', 'iceUsername', 'iceCredential', 'iceGatheringTimeoutMs', 'maxCalls',
  'allowedExtensions',
]);
/** The radio groups of the behaviour form (their buttons and default are in options.html). */
const CHOICES = /** @type {const} */ (['autoAnswer', 'dtmfMode', 'transferTargets']);

/** @param {string} id */
const textArea = (id) => /** @type {HTMLTextAreaElement} */ ($(id));

/** @param {string} name @returns {HTMLInputElement[]} the radio buttons of a group */
const radios = (name) => [...document.querySelectorAll(`input[type="radio"][name="${name}"]`)].map((el) => /** @type {HTMLInputElement} */ (el));

/**
 * Checks the button of `value`; a value the group does not have shows the group's default (the
 * button checked in options.html; the worker reads such a value as that default too).
 * @param {string} name
 * @param {unknown} value
 */
function showChoice(name, value) {
  const buttons = radios(name);
  const match = buttons.find((b) => b.value === value);
  for (const b of buttons) b.checked = match ? b === match : b.defaultChecked;
}

/**
 * @typedef {{urls?: string | string[], username?: string, credential?: string}} IceServer
 */

/** @param {Record<string, FieldError>} errors */
const renderBehaviourErrors = (errors) => renderFieldErrors(BEHAVIOUR_FIELDS, errors);

/** @returns {Promise<Record<string, any>>} the stored `settings` object ({} when none) */
async function storedSettings() {
  const { settings } = await chrome.storage.sync.get('settings');
  return settings && typeof settings === 'object' && !Array.isArray(settings) ? settings : {};
}

/** @param {Record<string, any>} settings  @returns {IceServer[]} */
function iceServersOf(settings) {
  return Array.isArray(settings.iceServers) ? settings.iceServers.filter((s) => s && typeof s === 'object') : [];
}

async function loadBehaviour() {
  const settings = await storedSettings();
  for (const name of CHOICES) showChoice(name, settings[name]);
  /** @param {string} key @returns {string[]} */
  const strings = (key) => (Array.isArray(settings[key]) ? settings[key].filter((x) => typeof x === 'string') : []);
  textArea('trustedRealms').value = strings('trustedRealms').join('\n');
  // A number not stored shows the default, which the field's placeholder names.
  for (const id of ['autoAnswerDelayMs', 'iceGatheringTimeoutMs', 'maxCalls']) {
    const n = settings[id];
    input(id).value = typeof n === 'number' && Number.isFinite(n) ? String(n) : input(id).placeholder;
  }
  const servers = iceServersOf(settings);
  /** @type {string[]} */
  const urls = servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : typeof s.urls === 'string' ? [s.urls] : []));
  textArea('iceUrls').value = urls.join('\n');
  const withUser = servers.find((s) => typeof s.username === 'string' && s.username !== '');
  input('iceUsername').value = withUser ? /** @type {string} */ (withUser.username) : '';
  const credential = input('iceCredential');
  credential.value = '';
  const saved = servers.some((s) => typeof s.credential === 'string' && s.credential !== '');
  credential.placeholder = saved ? 'saved — leave empty to keep' : '';
  textArea('allowedExtensions').value = strings('allowedExtensions').join('\n');
}

/** @param {SubmitEvent} event */
async function applyBehaviour(event) {
  event.preventDefault();
  showResult('behaviour-result', '');
  /** @type {Record<string, string>} */
  const behaviour = {};
  for (const field of BEHAVIOUR_FIELDS) {
    if (field !== 'iceCredential') behaviour[field] = /** @type {HTMLInputElement | HTMLTextAreaElement} */ ($(field)).value;
  }
  for (const name of CHOICES) {
    const checked = radios(name).find((b) => b.checked);
    behaviour[name] = checked ? checked.value : '';
  }
  let reply;
  try {
    await stageSecret('pendingIceCredential', input('iceCredential').value);
    reply = await saveConfig({ behaviour });
  } catch (e) {
    showResult('behaviour-result', `Not applied: ${errorText(e)}`, 'error');
    return;
  }
  renderBehaviourErrors(reply.fields || {});
  if (!reply.ok) {
    showResult('behaviour-result', refusal(reply, BEHAVIOUR_FIELDS, 'Not applied'), 'error');
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
