import { ensureAptPackage } from '../../stack/apt';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package, installed on first use
 * through the stack's apt helper (root runs apt-get; anyone else is told the command), so a fresh
 * machine needs nothing by hand. puppeteer-core drives it and downloads no browser of its own.
 */
export async function chromiumPath(log: (m: string) => void = () => undefined): Promise<string> {
  await ensureAptPackage('chromium', CHROMIUM_PATH, { log });
  return CHROMIUM_PATH;
}
