// Preloaded into a service by bench/joined-snapshot-scale.bench.ts (NODE_OPTIONS=--require):
// counts the process's Postgres queries (every pg Client's, pool clients included) and writes the
// count to PG_QUERY_COUNT_FILE every 500 ms, so a SIGKILLed process leaves its count behind.
// Not part of any service. Only the main thread counts: tsx's module hooks run in a thread of
// their own that loads this file too, and its count (0) would overwrite the main thread's.
const fs = require('node:fs');
const { isMainThread } = require('node:worker_threads');
const file = process.env.PG_QUERY_COUNT_FILE;
if (file && isMainThread) {
  const pg = require('pg');
  let n = 0;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (...args) {
    n++;
    return query.apply(this, args);
  };
  const write = () => fs.writeFileSync(file, String(n));
  setInterval(write, 500).unref();
  process.on('exit', write);
}
