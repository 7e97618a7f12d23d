// @ts-check
// Shared helpers of the offscreen document: the error type every handler throws, and logging.

/** An error that becomes the reply `{ok: false, error: {code, message}}`. */
export class OffscreenError extends Error {
  /**
   * @param {string} code  kebab-case, as in the command API
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** @param {unknown} e  an exception, a DOMException, anything thrown */
export function describe(e) {
  const err = /** @type {any} */ (e);
  const name = err && err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${name}${String((err && err.message) || err)}`;
}

const PREFIX = '[ferrophone:offscreen]';

/** @param {...unknown} args */
export function log(...args) {
  console.log(PREFIX, ...args);
}

/** @param {...unknown} args */
export function warn(...args) {
  console.warn(PREFIX, ...args);
}
