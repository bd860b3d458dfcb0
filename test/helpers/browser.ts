import { describe } from '@jest/globals';
import { accessSync, constants } from 'node:fs';
import type { Browser } from 'playwright-core';
import { withDeadline } from '../../src/infra/deadline.js';

/** Debian's Chromium (apt-get install chromium); playwright-core drives it, it downloads no browser. */
const CHROMIUM = process.env.XFED_CHROMIUM ?? '/usr/bin/chromium';

function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set XFED_CHROMIUM)`;
  }
}

/**
 * The tests that need a browser: skipped with the reason (said once on stderr) where Chromium is
 * missing, unless XFED_REQUIRE_BROWSER=1, as CI sets: then they fail saying what is missing.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const missing = chromiumMissing();
  const required = process.env.XFED_REQUIRE_BROWSER === '1';
  if (missing && required) {
    describe(name, () => {
      throw new Error(`a browser is required (XFED_REQUIRE_BROWSER=1) but ${missing}`);
    });
    return;
  }
  if (missing) {
    process.stderr.write(`xfed tests: ${name} skipped: ${missing}\n`);
    describe.skip(`${name} (skipped: ${missing})`, body);
    return;
  }
  describe(name, body);
}

/** Headless Chromium, launched within a bound; the caller closes it (in afterAll). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return withDeadline(
    chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 30_000, args: ['--no-sandbox'] }),
    35_000,
    `Chromium (${CHROMIUM}) to start`,
  );
}
