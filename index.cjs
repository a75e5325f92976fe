'use strict';
// regula's CommonJS entry (`require('regula')`). regula is an ES module; Node ≥ 20.19 can
// require() an ES module that has no top-level await, so this returns the same module
// instance that `import 'regula'` gives (one copy, no dual-package state). Older Node
// cannot, and gets a message that says what to do instead.
try {
  module.exports = require('./dist/index.js');
} catch (e) {
  if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(`regula: require('regula') needs Node >= 20.19, which can require() an ES module (this is Node ${process.version}). ` +
      "Upgrade Node, or load it with import: `const { loadBackend } = await import('regula')`.", { cause: e });
  }
  throw e;
}
