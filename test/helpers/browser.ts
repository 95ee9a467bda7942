/** Headless Debian chromium through playwright-core (no browser download). Tests skip, saying why, when it is missing. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.OKVQA_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const noChromiumReason = `${CHROMIUM} is missing (apt-get install chromium)`;
if (!hasChromium) console.warn(noChromiumReason);

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Collects page errors and console errors, so a test can assert the page ran cleanly. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** A screenshot is "not blank" when its pixels vary: the standard deviation of some channel is well above zero. */
export async function screenshotStats(png: Buffer): Promise<{ width: number; height: number; maxStdev: number; distinctish: number }> {
  const st = await sharp(png).stats();
  const { data, info } = await sharp(png).resize(64, 64, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += info.channels) colours.add(((data[i]! >> 4) << 8) | ((data[i + 1]! >> 4) << 4) | (data[i + 2]! >> 4));
  const meta = await sharp(png).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0, maxStdev: Math.max(...st.channels.map((c) => c.stdev)), distinctish: colours.size };
}

/** Where screenshots go: OKVQA_SCREENSHOTS (to refresh the README's images) or a temp folder. */
export function screenshotDir(fallback: string): string {
  const dir = process.env.OKVQA_SCREENSHOTS ?? fallback;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Save a screenshot as a small palette PNG (for the README). */
export async function saveShot(dir: string, name: string, png: Buffer): Promise<void> {
  await sharp(png).png({ palette: true, quality: 70, compressionLevel: 9 }).toFile(join(dir, name));
}
