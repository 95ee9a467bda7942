/**
 * Tests that need something outside npm (a Debian package: python3-numpy, python3-torch, python3-pil, chromium, zstd).
 * On a developer's machine without it they skip, saying which. With `CI=true` (.ci/run installs them all) a missing one
 * is a failure naming it, so a green CI run means every reference test ran.
 */
import { describe, it } from 'vitest';

export const inCI = /^(1|true)$/i.test(process.env.CI ?? '');

/** The failure CI reports for a test that could not run. */
export function requirementError(missing: string): Error {
  return new Error(`CI=true: this test must run, but ${missing} (add the Debian package to .ci/run's package loop)`);
}

type TestFn = (name: string, fn: () => unknown, timeout?: number) => void;
type SuiteFn = (name: string, fn: () => void) => void;

/** `it` when nothing is missing; `it.skip` outside CI (the title says what is missing); in CI a failing test naming it. */
export function itNeeds(missing: string | undefined | false): TestFn {
  if (!missing) return (name, fn, timeout) => it(name, fn, timeout);
  if (!inCI) return (name, fn, timeout) => it.skip(`${name} (skipped: ${missing})`, fn, timeout);
  return (name) =>
    it(name, () => {
      throw requirementError(missing);
    });
}

/** The same for a whole describe block (its body does not run when something is missing). */
export function describeNeeds(missing: string | undefined | false): SuiteFn {
  if (!missing) return (name, fn) => describe(name, fn);
  if (!inCI) return (name, fn) => describe.skip(`${name} (skipped: ${missing})`, fn);
  return (name) =>
    describe(name, () => {
      it('can run here', () => {
        throw requirementError(missing);
      });
    });
}
