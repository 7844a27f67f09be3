/**
 * Headless Chromium for the browser tests: Debian's build at /usr/bin/chromium, driven by
 * playwright-core. Missing Chromium fails the tests (never skips them).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags this machine needs: running as root, no GPU, a closed network. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Fake camera and microphone (a test pattern and a beep), granted without a prompt. */
export const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
/** WebRTC gathers loopback candidates too (by default it leaves them out, as RFC 8445 says). */
export const LOOPBACK_ICE = ['--allow-loopback-in-peer-connection'];

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM} (install the Debian "chromium" package); the browser interop tests cannot run`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 15_000, args: [...FLAGS, ...extraArgs] });
}
