// Names the extension's scripts add to their global scope (type checking only, see jsconfig.json).
declare global {
  /** sw.js: messages that arrived before the wasm module was ready (reported by `loader-info`). */
  var ferrophoneEarlyMessages: number;
}
export {};
