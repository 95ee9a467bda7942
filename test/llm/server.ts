/**
 * A loopback OpenAI-compatible test server (127.0.0.1, port 0): /v1/completions, /v1/chat/completions, and the Batch
 * API's /v1/files, /v1/files/:id/content, /v1/batches, /v1/batches/:id. Tests script its replies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  /** JSON body; ignored when `raw` is set. */
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
}

export interface Recorded {
  path: string;
  body: any;
  /** The images of a chat request's `image_url` parts, decoded from their data URLs (in message order). */
  images?: DecodedImage[];
}

export interface DecodedImage {
  mime: string;
  bytes: Buffer;
  detail?: string;
}

/** Decode every `image_url` content part of a chat body (data URLs only; anything else is an error, as here it is a bug). */
export function imagesOf(body: any): DecodedImage[] {
  const out: DecodedImage[] = [];
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    if (!Array.isArray(m.content)) continue;
    for (const part of m.content) {
      if (part?.type !== 'image_url') continue;
      const url = String(part.image_url?.url ?? '');
      const match = /^data:([\w/+.-]+);base64,(.*)$/s.exec(url);
      if (!match) throw new Error(`image_url is not a base64 data URL: ${url.slice(0, 40)}`);
      out.push({ mime: match[1]!, bytes: Buffer.from(match[2]!, 'base64'), ...(part.image_url.detail ? { detail: part.image_url.detail } : {}) });
    }
  }
  return out;
}

/** The text parts of a chat body's messages, joined (the prompt as templated). */
export function textOf(body: any): string {
  return (Array.isArray(body?.messages) ? body.messages : [])
    .map((m: any) => (typeof m.content === 'string' ? m.content : m.content.filter((p: any) => p.type === 'text').map((p: any) => p.text).join('')))
    .join('\n');
}

/** What a text-only server answers to an image: HTTP 400, as vLLM / llama.cpp do for a model without a vision tower. */
export const IMAGES_REFUSED: Reply = { status: 400, json: { error: { message: 'image input not supported', type: 'invalid_request_error', code: null } } };

/** A completion the scripted model gives: text and per-token log-probabilities (tokens null = no logprobs). */
export interface ScriptedCompletion {
  text: string;
  tokens?: { token: string; logprob: number }[] | null;
}

export type Handler = (body: any, call: number, path: string) => Reply | Promise<Reply>;

/** Like a real server, the text stops before the first stop sequence. */
export function completionReply(body: any, c: ScriptedCompletion): Reply {
  const chat = Array.isArray(body.messages);
  for (const s of (body.stop as string[] | undefined) ?? []) {
    const i = c.text.indexOf(s);
    if (i >= 0) c = { ...c, text: c.text.slice(0, i) };
  }
  const toks = c.tokens === undefined ? [{ token: c.text, logprob: -0.5 }] : c.tokens;
  const usage = { prompt_tokens: 100, completion_tokens: toks?.length ?? 1, total_tokens: 100 + (toks?.length ?? 1) };
  if (chat) {
    return {
      json: {
        id: 'chatcmpl-test',
        object: 'chat.completion',
        created: 0,
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: c.text },
            logprobs: body.logprobs && toks ? { content: toks.map((t) => ({ ...t, bytes: null, top_logprobs: [] })) } : null,
            finish_reason: 'stop',
          },
        ],
        usage,
      },
    };
  }
  return {
    json: {
      id: 'cmpl-test',
      object: 'text_completion',
      created: 0,
      model: body.model,
      choices: [
        {
          index: 0,
          text: c.text,
          logprobs:
            body.logprobs && toks
              ? { tokens: toks.map((t) => t.token), token_logprobs: toks.map((t) => t.logprob), top_logprobs: null, text_offset: [] }
              : null,
          finish_reason: 'stop',
        },
      ],
      usage,
    },
  };
}

/** Add `prompt_tokens_details.image_tokens` to a reply's usage, as servers that count image tokens do. */
function withImageTokens(r: Reply, images: number, perImage: number | undefined): Reply {
  const usage = (r.json as any)?.usage;
  if (!images || perImage === undefined || !usage) return r;
  return { ...r, json: { ...(r.json as object), usage: { ...usage, prompt_tokens_details: { cached_tokens: 0, image_tokens: images * perImage } } } };
}

export interface BatchFate {
  status: 'failed' | 'expired' | 'cancelled';
  errors?: { code: string; message: string; line?: number | null; param?: string | null }[];
  completedLines?: number;
}

interface StoredFile {
  id: string;
  content: string;
}

export class TestLlmServer {
  readonly requests: Recorded[] = [];
  handler: Handler = (body) => completionReply(body, { text: ' yes' });
  /** Answer every request carrying an image with IMAGES_REFUSED (a text-only model). */
  rejectImages = false;
  /** `usage.prompt_tokens_details.image_tokens` to report per image in chat replies (undefined: not reported). */
  imageTokensPerImage: number | undefined;
  private server: Server | undefined;
  private readonly files = new Map<string, StoredFile>();
  private readonly batches = new Map<
    string,
    { id: string; input: string; endpoint: string; polls: number; output?: string; fate?: BatchFate | undefined }
  >();
  /**
   * How the n-th created batch (1-based) ends; undefined = completed with every line. A failed, expired or cancelled
   * batch may still have an output file for its first `completedLines` lines (as expired batches do).
   */
  batchFate: (n: number) => BatchFate | undefined = () => undefined;
  private batchCount = 0;
  private nextId = 1;
  baseURL = '';

  /** Completion calls only (not files/batches). */
  get completionCalls(): Recorded[] {
    return this.requests.filter((r) => r.path.endsWith('completions'));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as AddressInfo;
    this.baseURL = `http://127.0.0.1:${port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const send = (r: Reply) => {
      res.statusCode = r.status ?? 200;
      for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
      if (r.raw !== undefined) {
        res.end(r.raw);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(r.json ?? {}));
    };

    if (req.method === 'POST' && (path === '/v1/completions' || path === '/v1/chat/completions')) {
      const body = JSON.parse(raw.toString('utf8'));
      const images = imagesOf(body);
      this.requests.push(images.length ? { path, body, images } : { path, body });
      if (images.length && this.rejectImages) return send(IMAGES_REFUSED);
      const reply = withImageTokens(await this.handler(body, this.completionCalls.length, path), images.length, this.imageTokensPerImage);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      send(reply);
      return;
    }
    if (req.method === 'POST' && path === '/v1/files') {
      const form = await new Response(raw, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
      const file = form.get('file') as File;
      const id = `file-${this.nextId++}`;
      this.files.set(id, { id, content: await file.text() });
      this.requests.push({ path, body: { purpose: form.get('purpose') } });
      send({ json: { id, object: 'file', bytes: 0, created_at: 0, filename: file.name, purpose: 'batch', status: 'processed' } });
      return;
    }
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === 'GET' && content) {
      const f = this.files.get(content[1]!);
      if (!f) return send({ status: 404, json: { error: { message: 'no such file' } } });
      res.setHeader('content-type', 'application/octet-stream');
      res.end(f.content);
      return;
    }
    if (req.method === 'POST' && path === '/v1/batches') {
      const body = JSON.parse(raw.toString('utf8'));
      this.requests.push({ path, body });
      const id = `batch_${this.nextId++}`;
      const input = this.files.get(body.input_file_id);
      if (!input) return send({ status: 400, json: { error: { message: 'unknown input file' } } });
      this.batches.set(id, { id, input: input.content, endpoint: body.endpoint, polls: 0, fate: this.batchFate(++this.batchCount) });
      return send({ json: this.batchJson(id, 'validating') });
    }
    const batch = /^\/v1\/batches\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && batch) {
      const b = this.batches.get(batch[1]!);
      if (!b) return send({ status: 404, json: { error: { message: 'no such batch' } } });
      b.polls++;
      if (b.polls < 2) return send({ json: this.batchJson(b.id, 'in_progress') });
      const fate = b.fate;
      if (fate && !b.output && !fate.completedLines) return send({ json: this.batchJson(b.id, fate.status, undefined, fate.errors) });
      if (!b.output) {
        // Run every line through the scripted handler, like the real service does asynchronously.
        const lines: string[] = [];
        let n = 0;
        const all = b.input.split('\n').filter(Boolean);
        for (const l of fate ? all.slice(0, fate.completedLines) : all) {
          const item = JSON.parse(l);
          const reply = await this.handler(item.body, ++n, item.url);
          lines.push(
            JSON.stringify({
              id: `resp-${n}`,
              custom_id: item.custom_id,
              response: { status_code: reply.status ?? 200, request_id: `req-${n}`, body: reply.json ?? null },
              error: null,
            }),
          );
        }
        const fid = `file-${this.nextId++}`;
        this.files.set(fid, { id: fid, content: lines.join('\n') + '\n' });
        b.output = fid;
      }
      return send({ json: this.batchJson(b.id, fate?.status ?? 'completed', b.output, fate?.errors) });
    }
    send({ status: 404, json: { error: { message: `no route ${req.method} ${path}` } } });
  }

  private batchJson(id: string, status: string, output?: string, errors?: BatchFate['errors']) {
    const b = this.batches.get(id)!;
    return {
      errors: errors ? { object: 'list', data: errors } : null,
      id,
      object: 'batch',
      endpoint: b.endpoint,
      input_file_id: 'x',
      completion_window: '24h',
      status,
      created_at: 0,
      output_file_id: output ?? null,
      error_file_id: null,
    };
  }
}
