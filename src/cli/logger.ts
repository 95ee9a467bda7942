import type { Logger } from '../core/context.js';

/** The CLI's logger: everything to stderr (stdout stays for results), debug lines only with OKVQA_DEBUG. */
export const stderrLog: Logger = {
  debug: (m) => process.env.OKVQA_DEBUG && process.stderr.write(`debug: ${m}\n`),
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
};
