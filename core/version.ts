import fs from 'node:fs';
import path from 'node:path';

/** The product's version (package.json), reported by every service's /healthz so `npm run status` can show what runs. */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown'; // a bundle without package.json beside it
  }
})();
