// @ts-check
// Ferrophone's service worker: a thin loader. All SIP and application logic lives in the wasm
// module (crates/web); this file only starts it and hands it every event.
//
// MV3 rules this file obeys (see docs/ARCHITECTURE.md and the project's browser notes):
// - every listener is registered synchronously, in the first turn of the script, so an event that
//   wakes the worker is delivered to us;
// - no top-level await (it kills the worker's registration) and no dynamic import() (it throws in
//   a service worker): the glue is imported statically and `ready` is a kept promise;
// - an event that arrives before the wasm is ready waits on `ready`, so it is queued, not lost.

import init, * as glue from './pkg/ferrophone_web.js';

/**
 * The wasm exports, looked up by name: an export the current build lacks is reported as an error
 * instead of killing the worker.
 * @type {Record<string, any>}
 */
const wasm = glue;

/** Messages accepted before the wasm module was ready (diagnostics: `loader-info`). */
self.ferrophoneEarlyMessages = 0;
let wasmReady = false;
/** @type {number | undefined} milliseconds from the worker's start to the wasm being ready */
let readyMs;

const ready = init({ module_or_path: new URL('./pkg/ferrophone_web_bg.wasm', import.meta.url) })
  .then(() => (typeof wasm.start === 'function' ? wasm.start() : undefined))
  .then(() => {
    wasmReady = true;
    readyMs = Math.round(performance.now());
  });
ready.catch((e) => console.error('Ferrophone: the wasm module failed to start:', errorMessage(e)));

/** @param {unknown} e */
function errorMessage(e) {
  return String((e && /** @type {any} */ (e).message) || e);
}

/**
 * Calls the wasm export `name` once the module is ready.
 * @param {string} name
 * @param {...unknown} args
 * @returns {Promise<any>}
 */
function callWasm(name, ...args) {
  return ready.then(() => {
    const fn = wasm[name];
    if (typeof fn !== 'function') throw new Error(`the wasm module has no export ${name}`);
    return fn(...args);
  });
}

/**
 * Answers asynchronously with the result of `work`, or with the command API's error shape.
 * @param {Promise<any>} work
 * @param {(reply: any) => void} sendResponse
 */
function answer(work, sendResponse) {
  work.then(sendResponse, (e) =>
    sendResponse({ ok: false, error: { code: 'internal', message: errorMessage(e) } }),
  );
  return true; // keep the channel open: the reply is asynchronous
}

/**
 * Commands for the worker: every `{ferrophone: 1, cmd}` (extension/schema.js `Command`). A
 * message's kind key routes it: requests for the offscreen document carry `type` and never
 * `cmd`; events carry `event`. (There is no routing field: `target` is `dial`'s argument.)
 * @param {any} m
 * @returns {m is import('./schema.js').Command}
 */
function isForWorker(m) {
  return Boolean(m) && typeof m === 'object' && m.ferrophone === 1 && typeof m.cmd === 'string';
}

chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  if (!isForWorker(m)) return false;
  if (!wasmReady) self.ferrophoneEarlyMessages += 1;
  if (m.cmd === 'loader-info') {
    const info = ready.then(() => ({
      ok: true,
      earlyMessages: self.ferrophoneEarlyMessages,
      readyMs,
    }));
    return answer(info, sendResponse);
  }
  return answer(callWasm('handleMessage', m, sender), sendResponse);
});

chrome.runtime.onMessageExternal.addListener((m, sender, sendResponse) => {
  if (!wasmReady) self.ferrophoneEarlyMessages += 1;
  return answer(callWasm('handleExternalMessage', m, sender), sendResponse);
});

chrome.alarms.onAlarm.addListener((alarm) => {
  callWasm('onAlarm', alarm.name).catch((e) =>
    console.error(`Ferrophone: alarm ${alarm.name} failed:`, errorMessage(e)),
  );
});

chrome.storage.onChanged.addListener((changes, areaName) => {
  callWasm('onStorageChanged', changes, areaName).catch((e) =>
    console.error('Ferrophone: storage change not applied:', errorMessage(e)),
  );
});

// ---------------------------------------------------------------------------------------------
// Headless surfaces (docs/HEADLESS.md): the omnibox keyword `call`, the keyboard commands, the
// context menu and the notifications' buttons. Each hands the browser's event to the wasm as it
// is; the wasm decides what to dial or which call to act on, logs the outcome (`[ferrophone]
// omnibox dial: ok`) and answers `{ok: true, call}` or `{ok: false, error}`. Chrome gives these
// events no way to reply.

/**
 * @param {string} what  the surface, for the log line
 * @param {Promise<any>} work
 */
function logFailure(what, work) {
  work.catch((e) => console.error(`Ferrophone: ${what} failed:`, errorMessage(e)));
}

/** @param {string} text  plain text for an omnibox description (which is XML) */
function xmlText(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

// Typing `call ` in the address bar enters Ferrophone's keyword mode; the suggestion only echoes
// what was typed (the wasm decides on Enter whether it can be dialled).
chrome.omnibox.onInputChanged.addListener((text) => {
  const typed = text.trim();
  chrome.omnibox.setDefaultSuggestion({
    description: typed
      ? `Call <match>${xmlText(typed)}</match> with Ferrophone`
      : 'Call a number or SIP address with Ferrophone',
  });
});

chrome.omnibox.onInputEntered.addListener((text) => {
  logFailure('omnibox', callWasm('onOmnibox', text));
});

// Keyboard commands (manifest `commands`: answer, hangup, mute; users change the keys at
// chrome://extensions/shortcuts).
chrome.commands.onCommand.addListener((name) => {
  logFailure(`keyboard command ${name}`, callWasm('onCommand', name));
});

chrome.contextMenus.onClicked.addListener((info) => {
  logFailure(`context menu ${info.menuItemId}`, callWasm('onContextMenu', info));
});

// Notifications (docs/HEADLESS.md): a dial from a link waits for the "Call" button (index 0) of
// the confirmation the wasm shows; "Cancel" (1), closing it or letting it expire never dials. The
// wasm also announces automatically answered calls with a notification (no buttons).
chrome.notifications.onButtonClicked.addListener((id, index) => {
  logFailure(`notification button ${index}`, callWasm('onNotificationButton', id, index));
});
chrome.notifications.onClosed.addListener((id) => {
  logFailure('notification closed', callWasm('onNotificationClosed', id));
});

/**
 * The context menu items (the ids are part of the wasm's contract: onContextMenu).
 * @type {chrome.contextMenus.CreateProperties[]}
 */
const MENU_ITEMS = [
  { id: 'ferrophone-call-selection', title: 'Call “%s” with Ferrophone', contexts: ['selection'] },
  // Only on phone links: Chrome accepts these non-web schemes in targetUrlPatterns and shows the
  // item on tel:/sip:/sips:/callto: links and not on web links (checked in a real menu; see
  // docs/HEADLESS.md). The wasm checks the link again anyway.
  {
    id: 'ferrophone-call-link',
    title: 'Call this number with Ferrophone',
    contexts: ['link'],
    targetUrlPatterns: ['tel:*', 'sip:*', 'sips:*', 'callto:*'],
  },
];

/** Context menu items persist with the extension: (re)create them when it is installed or updated. */
function createMenus() {
  chrome.contextMenus.removeAll(() => {
    for (const item of MENU_ITEMS) {
      chrome.contextMenus.create(item, () => {
        const err = chrome.runtime.lastError;
        if (err) console.error(`Ferrophone: context menu item ${item.id} not created: ${err.message}`);
      });
    }
  });
}

// Starting the browser or installing/updating the extension wakes the worker; waiting on `ready`
// is all these need: start() restores the configuration and connects.
chrome.runtime.onStartup.addListener(() => ready);
chrome.runtime.onInstalled.addListener(() => {
  createMenus();
  return ready;
});
