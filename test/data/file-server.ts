/**
 * A loopback HTTP file server (127.0.0.1, port 0) for `okvqa data fetch` tests: serves named buffers with HTTP Range
 * support, and can misbehave per file: drop the connection half-way, serve corrupted bytes, or ignore Range.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Misbehaviour = 'drop-once' | 'corrupt-once' | 'corrupt-always' | 'no-range';

export class FileServer {
  readonly files = new Map<string, Buffer>();
  readonly misbehave = new Map<string, Misbehaviour>();
  readonly requests: { name: string; range?: string }[] = [];
  private readonly served = new Map<string, number>();
  private server: Server | undefined;
  baseURL = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/^\/files\//, ''));
      const range = req.headers.range;
      this.requests.push(range ? { name, range } : { name });
      const body = this.files.get(name);
      if (!body) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      const n = (this.served.get(name) ?? 0) + 1;
      this.served.set(name, n);
      const how = this.misbehave.get(name);
      const m = range && how !== 'no-range' ? /^bytes=(\d+)-$/.exec(range) : null;
      const start = m ? Number(m[1]) : 0;
      if (start >= body.length && m) {
        res.statusCode = 416;
        res.setHeader('content-range', `bytes */${body.length}`);
        res.end();
        return;
      }
      let data = body.subarray(start);
      if ((how === 'corrupt-once' && n === 1) || how === 'corrupt-always') {
        data = Buffer.from(data);
        for (let i = Math.floor(data.length / 3); i < data.length; i += 97) data[i] = data[i]! ^ 0xff;
      }
      res.statusCode = m ? 206 : 200;
      if (m) res.setHeader('content-range', `bytes ${start}-${body.length - 1}/${body.length}`);
      res.setHeader('content-length', String(data.length));
      res.setHeader('accept-ranges', 'bytes');
      if (how === 'drop-once' && n === 1) {
        // Send half, then cut the connection.
        res.write(data.subarray(0, Math.floor(data.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      res.end(data);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.baseURL = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/files`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive (stored, no compression) of the given members: enough for fixtures. */
export function makeZip(members: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(members)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
