/**
 * `okvqa serve`: a small HTTP server over the any-image answerer. `GET /` is a one-page app; `POST /api/answer` takes a
 * multipart upload (image + question) or JSON naming an image path the server may read, and returns the answer with the
 * knowledge behind it. Limits: upload bytes, image pixels, time per request, concurrent requests (queued, with a cap).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import PQueue from 'p-queue';
import sharp, { type Metadata } from 'sharp';
import type { Answerer } from '../answerer.js';
import type { AnswerInput } from '../answer/input.js';
import type { AnswerResult } from '../answer/result.js';
import { errorMessage } from '../core/errors.js';
import { renderPage, webAsset } from '../report/html.js';
import { AllowedPaths, PathRefusedError } from './allowed-paths.js';

export interface ServeLimits {
  /** Largest upload (image bytes) accepted; default 10 MB. */
  maxUploadBytes: number;
  /** Largest image (width × height); default 40 megapixels. */
  maxPixels: number;
  /** Time a request may take, queue wait included; default 120 s. */
  timeoutMs: number;
  /** Questions answered at once; default 1 (the models are shared). */
  concurrency: number;
  /** Requests allowed to wait; beyond this the server answers 503. Default 16. */
  maxQueue: number;
  /** Longest question in characters; default 500. */
  maxQuestionChars: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxUploadBytes: 10_000_000,
  maxPixels: 40_000_000,
  timeoutMs: 120_000,
  concurrency: 1,
  maxQueue: 16,
  maxQuestionChars: 500,
};

export interface QaServerOptions {
  answerer: Pick<Answerer, 'answer' | 'pipeline' | 'adaptations'>;
  /** Folders whose images a JSON request may name. */
  allow?: readonly string[];
  limits?: Partial<ServeLimits>;
  log?: (msg: string) => void;
}

export interface QaServer {
  readonly server: Server;
  readonly limits: ServeLimits;
  listen(port: number, host?: string): Promise<{ url: string; port: number; host: string }>;
  close(): Promise<void>;
}

/** An error with the HTTP status it answers with; its message is meant for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new HttpError(413, `request body over ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface ParsedRequest {
  question: string;
  image?: Buffer;
  imagePath?: string;
  trace: boolean;
}

/** multipart/form-data: one file field `image`, a text field `question` (and optional `trace`). */
function parseMultipart(req: IncomingMessage, limits: ServeLimits): Promise<ParsedRequest> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: limits.maxUploadBytes, files: 1, fields: 8, fieldSize: 16_384, parts: 10 } });
    } catch (err) {
      reject(new HttpError(400, `bad multipart request: ${errorMessage(err)}`));
      return;
    }
    const fields: Record<string, string> = {};
    let image: Buffer | undefined;
    let failed: HttpError | undefined;
    const fail = (e: HttpError) => {
      failed ??= e;
    };
    bb.on('file', (name, stream) => {
      if (name !== 'image') {
        fail(new HttpError(400, `unexpected file field "${name}" (send the image as "image")`));
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new HttpError(413, `image over the upload limit of ${limits.maxUploadBytes} bytes`)));
      stream.on('close', () => {
        if (!failed) image = Buffer.concat(chunks);
      });
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new HttpError(413, `field "${name}" too long`));
      fields[name] = value;
    });
    bb.on('filesLimit', () => fail(new HttpError(400, 'send one image')));
    bb.on('fieldsLimit', () => fail(new HttpError(400, 'too many fields')));
    bb.on('partsLimit', () => fail(new HttpError(400, 'too many parts')));
    bb.on('error', (err) => reject(new HttpError(400, `bad multipart request: ${errorMessage(err)}`)));
    bb.on('close', () => {
      if (failed) return reject(failed);
      const r: ParsedRequest = { question: fields.question ?? '', trace: fields.trace === '1' || fields.trace === 'true' };
      if (image) r.image = image;
      else if (fields.image) r.imagePath = fields.image;
      resolve(r);
    });
    req.pipe(bb);
  });
}

async function parseJson(req: IncomingMessage): Promise<ParsedRequest> {
  const body = await readBody(req, 64_000);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'body must be a JSON object {"image": "<path>", "question": "…"}');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['image', 'question', 'trace'].includes(k));
  if (unknown.length) throw new HttpError(400, `unknown field(s): ${unknown.join(', ')}`);
  if (o.image !== undefined && typeof o.image !== 'string') throw new HttpError(400, '"image" must be a path string (upload bytes as multipart/form-data)');
  const r: ParsedRequest = { question: typeof o.question === 'string' ? o.question : '', trace: o.trace === true };
  if (typeof o.image === 'string') r.imagePath = o.image;
  return r;
}

/** Reject what is not an image, or an image over the pixel limit, before the pipeline sees it. */
async function checkImage(input: Buffer | string, limits: ServeLimits): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    throw new HttpError(415, 'the file is not an image sharp can read (JPEG, PNG, WebP, GIF, TIFF, AVIF…)');
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw new HttpError(415, 'the image has no pixels');
  if (width * height > limits.maxPixels) throw new HttpError(413, `image is ${width}×${height} = ${width * height} pixels; the limit is ${limits.maxPixels}`);
  return { width, height };
}

/** What the API returns: the answer and the knowledge behind it (the per-node trace only when asked). */
export function answerJson(r: AnswerResult, image: { width: number; height: number }, pipeline: string, trace: boolean): Record<string, unknown> {
  const { nodes, cacheKeys: _k, ...rest } = r;
  const out: Record<string, unknown> = { pipeline, ...rest, image: { ...r.image, path: undefined, ...image } };
  if (trace) out.nodes = nodes;
  return out;
}

export function createQaServer(opts: QaServerOptions): QaServer {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
  const allowed = new AllowedPaths(opts.allow ?? []);
  const queue = new PQueue({ concurrency: limits.concurrency });
  const log = opts.log ?? (() => {});
  const pipelineName = opts.answerer.pipeline.name;
  let pageHtml: string | undefined;
  const page = () =>
    (pageHtml ??= renderPage({
      title: `okvqa · ${pipelineName}`,
      data: { pipeline: pipelineName, adaptations: opts.answerer.adaptations, limits: { maxUploadBytes: limits.maxUploadBytes, maxPixels: limits.maxPixels, maxQuestionChars: limits.maxQuestionChars } },
      css: [webAsset('serve.css')],
      scripts: [webAsset('serve.js')],
      csp: ["connect-src 'self'", "form-action 'none'", "base-uri 'none'"],
      imgSrc: ['blob:'],
    }));

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.maxUploadBytes + 65_536) throw new HttpError(413, `request over the upload limit of ${limits.maxUploadBytes} bytes`);
    let parsed: ParsedRequest;
    if (type.startsWith('multipart/form-data')) parsed = await parseMultipart(req, limits);
    else if (type.startsWith('application/json')) parsed = await parseJson(req);
    else throw new HttpError(415, 'send multipart/form-data (fields "image" and "question") or application/json {"image": "<path>", "question": "…"}');
    const question = parsed.question.trim();
    if (!question) throw new HttpError(400, 'a "question" is required');
    if (question.length > limits.maxQuestionChars) throw new HttpError(413, `question over ${limits.maxQuestionChars} characters`);
    let image: Buffer | string;
    if (parsed.image) {
      if (!parsed.image.length) throw new HttpError(400, 'the uploaded image is empty');
      image = parsed.image;
    } else if (parsed.imagePath !== undefined) {
      try {
        image = allowed.check(parsed.imagePath);
      } catch (err) {
        if (err instanceof PathRefusedError) throw new HttpError(err.status, err.message);
        throw err;
      }
    } else throw new HttpError(400, 'an "image" is required (a file upload, or a path in JSON)');
    const size = await checkImage(image, limits);
    if (queue.size >= limits.maxQueue) throw new HttpError(503, `busy: ${queue.pending} question(s) running and ${queue.size} waiting; try again shortly`);

    const input: AnswerInput = { image, question };
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new HttpError(504, `no answer within ${(limits.timeoutMs / 1000).toFixed(limits.timeoutMs % 1000 ? 1 : 0)} s`));
      }, limits.timeoutMs);
    });
    // A question still waiting when its request timed out is dropped; one already running finishes (and is cached).
    const job = queue.add(() => (timedOut ? Promise.resolve(undefined) : opts.answerer.answer(input)));
    job.catch(() => undefined);
    try {
      const r = (await Promise.race([job, timeout])) as AnswerResult;
      const body = answerJson(r, size, pipelineName, parsed.trace);
      if (!r.ok) {
        const where = r.error ? `${r.error.node} (${r.error.stage}): ${r.error.message}` : 'unknown error';
        // A bad input the answerer itself refused is the client's; a stage failing on a valid image is ours.
        sendJson(res, r.error?.node === 'input' ? 400 : 500, { error: `no answer: ${where}`, ...body });
        return;
      }
      sendJson(res, 200, body);
    } finally {
      clearTimeout(timer);
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const t0 = performance.now();
    const done = (status: number) => log(`${req.method} ${url.pathname} ${status} ${(performance.now() - t0).toFixed(0)} ms`);
    res.on('finish', () => done(res.statusCode));
    const handle = async () => {
      if (url.pathname === '/' || url.pathname === '/index.html') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
        const html = page();
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
        res.end(req.method === 'HEAD' ? undefined : html);
        return;
      }
      if (url.pathname === '/api/health') {
        sendJson(res, 200, { ok: true, pipeline: pipelineName, running: queue.pending, waiting: queue.size });
        return;
      }
      if (url.pathname === '/api/answer') {
        if (req.method !== 'POST') throw new HttpError(405, 'POST an image and a question');
        await answer(req, res);
        return;
      }
      throw new HttpError(404, `no such endpoint: ${url.pathname}`);
    };
    handle().catch((err: unknown) => {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message }, err.status === 503 ? { 'retry-after': '5' } : {});
      else {
        log(`error: ${errorMessage(err)}`);
        sendJson(res, 500, { error: `internal error: ${errorMessage(err)}` });
      }
      // Drop what the client still sends after a refusal (an oversized upload).
      if (!req.complete) req.resume();
    });
  });
  server.requestTimeout = limits.timeoutMs + 30_000;
  server.headersTimeout = 30_000;

  return {
    server,
    limits,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ url: `http://${shown}:${a.port}/`, port: a.port, host: a.address });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
