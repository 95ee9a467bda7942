import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, findCommand, requestedCommand } from '../../src/cli/command-table.js';

describe('lazy CLI command table', () => {
  it('lists exactly what each module registers (names, help terms, descriptions)', async () => {
    const help = new Help();
    for (const entry of COMMANDS) {
      const program = new Command('okvqa');
      (await entry.load()).register(program);
      const got = program.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: c.description() }));
      expect(got).toEqual(entry.commands);
    }
  });

  it('finds the module of the requested command, past global options and `help`', () => {
    expect(requestedCommand(['--debug', 'eval', '--json'])).toBe('eval');
    expect(requestedCommand(['help', 'kb'])).toBe('kb');
    expect(requestedCommand(['--help'])).toBeUndefined();
    expect(findCommand('embed')?.commands.map((c) => c.name)).toEqual(['detect', 'embed']);
    expect(findCommand('nope')).toBeUndefined();
  });
});
