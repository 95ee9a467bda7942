import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ASTRONAUT, COFFEE } from './helpers.js';

async function cli(...args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const program = await buildProgram();
    program.exitOverride();
    await program.parseAsync(['node', 'okvqa', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('okvqa detect / embed', () => {
  it('detect --detector centernet --json prints the cup with a pixel box, and nothing else', async () => {
    const out = await cli('detect', COFFEE, '--detector', 'centernet', '--json', '--set', 'cache.mode=off');
    const dets = JSON.parse(out) as { label: string; score: number; box: Record<string, number> }[];
    const cup = dets.find((d) => d.label === 'cup');
    expect(cup).toBeDefined();
    expect(Object.keys(cup!.box).sort()).toEqual(['xmax', 'xmin', 'ymax', 'ymin']);
    expect(cup!.box.xmax).toBeLessThanOrEqual(600);
    expect(out.trim().split('\n')).toHaveLength(1);
  });

  it('detect prints readable lines, honours --threshold and --max', async () => {
    const out = await cli('detect', ASTRONAUT, '--detector', 'centernet', '--threshold', '0.5', '--max', '1', '--set', 'cache.mode=off');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^person\s+0\.\d{3}\s+\[/);
  });

  it('detect with the tiny zero-shot detector and --classes', async () => {
    const out = await cli('detect', COFFEE, '--profile', 'tiny', '--classes', 'cup,plate', '--threshold', '0.05', '--json', '--set', 'cache.mode=off');
    const dets = JSON.parse(out) as { label: string }[];
    expect(dets.length).toBeGreaterThan(0);
    expect(dets.every((d) => d.label === 'cup' || d.label === 'plate')).toBe(true);
  });

  it('embed --text / --image print dimension and norm; --json adds the vector', async () => {
    const text = await cli('embed', '--text', 'a cup of coffee', '--profile', 'tiny', '--set', 'cache.mode=off');
    expect(text).toMatch(/dimension: 16\nnorm: 1\.0000/);
    const j = JSON.parse(await cli('embed', '--image', COFFEE, '--profile', 'tiny', '--json', '--set', 'cache.mode=off'));
    expect(j.dimension).toBe(16);
    expect(j.vector).toHaveLength(16);
    expect(j.norm).toBeCloseTo(1, 6);
    expect(j.model).toBe('okvqa-tiny/clip');
    await expect(cli('embed', '--profile', 'tiny')).rejects.toThrow(/exactly one of --image or --text/);
    await expect(cli('detect', '/nope.png', '--detector', 'centernet')).rejects.toThrow(/\/nope\.png: image file not found/);
  });
});
