// Preloaded into the profiled instance by bench/run.mjs (`node --import …/query-counter.mjs dist/main.js`):
// counts the statements the service sends through `pg` (the driver under TypeORM and any raw query), by
// text, and prints the running counts as one line on SIGUSR2. The bench reads that line before and
// after a measured window: queries per request, and which ones.
import pg from 'pg';

// By the statement's text as sent; folded into short keys only when asked.
const counts = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') counts.set(text, (counts.get(text) ?? 0) + 1);
  return query.call(this, config, ...rest);
};

process.on('SIGUSR2', () => {
  const folded = {};
  for (const [text, n] of counts) {
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 100);
    folded[key] = (folded[key] ?? 0) + n;
  }
  process.stderr.write(`bench-query-counts ${JSON.stringify(folded)}\n`);
});
