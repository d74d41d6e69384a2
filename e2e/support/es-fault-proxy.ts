import http from 'node:http';
import type net from 'node:net';

/**
 * An HTTP proxy in front of the real Elasticsearch that injects faults on command: answer every
 * request with a status (503, 429), refuse connections, or make chosen _bulk items fail (those
 * items are cut out of the forwarded request, so they really are not written, and a failed item
 * is put in their place in the response). It logs every request, with the items of each _bulk.
 */
export interface BulkItemSent { action: string; index: string; id: string; version: string }
export interface LoggedRequest { method: string; path: string; status: number; items?: BulkItemSent[] }
export interface ItemFault { status: number; type: string; times: number }

export class EsFaultProxy {
  readonly log: LoggedRequest[] = [];
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;
  private answerWith: number | undefined;
  private hanging = false;
  private readonly held = new Set<http.ServerResponse>();
  private readonly itemFaults = new Map<string, ItemFault>();

  /** Called when a _bulk request arrives, before it is forwarded (e.g. to kill the sender mid-bulk). */
  onBulk: ((items: BulkItemSent[]) => void) | undefined;

  constructor(private readonly target: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await this.listen();
    return this;
  }

  /** Every request is answered with this status until `heal()`. */
  failAll(status: number): void {
    this.answerWith = status;
  }

  /**
   * Like a paused Elasticsearch (SIGSTOP, a GC stall): connections are accepted and requests
   * read, but nothing answers until `heal()`, which then drops the held requests.
   */
  hang(): void {
    this.hanging = true;
  }

  /** The next `times` _bulk items for document `id` fail with status/type. */
  failItem(id: string, fault: ItemFault): void {
    this.itemFaults.set(id, { ...fault });
  }

  /** Stops listening and drops open connections: clients get ECONNREFUSED until `heal()`. */
  async refuse(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async heal(): Promise<void> {
    this.answerWith = undefined;
    this.hanging = false;
    for (const res of this.held) res.destroy();
    this.held.clear();
    if (!this.server) await this.listen();
  }

  /** The items of every _bulk request that touched `index`, one array per request. */
  bulkRequests(index: string): BulkItemSent[][] {
    return this.log.flatMap((r) => {
      const items = r.items?.filter((i) => i.index === index);
      return items?.length ? [items] : [];
    });
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private listen(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', () => {
      this.port = (server.address() as net.AddressInfo).port;
      resolve();
    }));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks).toString();
    const path = req.url ?? '/';
    const entry: LoggedRequest = { method: req.method ?? 'GET', path, status: 0 };
    this.log.push(entry);
    if (this.hanging) {
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    if (this.answerWith !== undefined) {
      entry.status = this.answerWith;
      res.writeHead(this.answerWith, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'injected_fault', reason: `proxy answers ${this.answerWith}` }, status: this.answerWith }));
      return;
    }
    const isBulk = /(^|\/)_bulk(\?|$)/.test(path);
    let injected: Array<{ at: number; item: Record<string, unknown> }> = [];
    if (isBulk) {
      const cut = this.cutFailingItems(body);
      entry.items = cut.items;
      injected = cut.injected;
      body = cut.body;
      this.onBulk?.(cut.items);
      if (cut.items.length === injected.length) {
        entry.status = 200;
        const items = injected.map((i) => i.item);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ took: 0, errors: true, items }));
        return;
      }
    }
    const headers = { ...req.headers, host: new URL(this.target).host };
    delete headers['accept-encoding'];
    delete headers['content-length'];
    const upstream = http.request(new URL(path, this.target), { method: req.method, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, async (up) => {
      const out: Buffer[] = [];
      for await (const c of up) out.push(c as Buffer);
      let text = Buffer.concat(out).toString();
      entry.status = up.statusCode ?? 0;
      if (injected.length && up.statusCode === 200) {
        const parsed = JSON.parse(text) as { errors: boolean; items: unknown[] };
        for (const i of injected) parsed.items.splice(i.at, 0, i.item);
        parsed.errors = true;
        text = JSON.stringify(parsed);
      }
      const h = { ...up.headers };
      delete h['content-length'];
      delete h['transfer-encoding'];
      res.writeHead(up.statusCode ?? 502, { ...h, 'content-length': Buffer.byteLength(text) }).end(text);
    });
    upstream.on('error', (err) => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502).end(String(err));
    });
    upstream.end(body);
  }

  /** Parses a _bulk body; removes the items to fail and returns where their failure goes. */
  private cutFailingItems(body: string): { body: string; items: BulkItemSent[]; injected: Array<{ at: number; item: Record<string, unknown> }> } {
    const lines = body.split('\n').filter((l) => l.length);
    const kept: string[] = [];
    const items: BulkItemSent[] = [];
    const injected: Array<{ at: number; item: Record<string, unknown> }> = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const action = /^\{"(\w+)"/.exec(line)?.[1] ?? '?';
      const id = JSON.parse(/"_id":("(?:[^"\\]|\\.)*")/.exec(line)?.[1] ?? '""') as string;
      const version = /"version":(\d+)/.exec(line)?.[1] ?? '';
      const index = /"_index":"([^"]*)"/.exec(line)?.[1] ?? '';
      const hasSource = action === 'index' || action === 'create' || action === 'update';
      const source = hasSource ? lines[++i] : undefined;
      const at = items.length;
      items.push({ action, index, id, version });
      const fault = this.itemFaults.get(id);
      if (fault && fault.times > 0) {
        fault.times--;
        injected.push({ at, item: { [action]: { _index: index, _id: id, status: fault.status, error: { type: fault.type, reason: `injected by the fault proxy (${fault.status})` } } } });
        continue;
      }
      kept.push(line);
      if (source !== undefined) kept.push(source);
    }
    return { body: kept.length ? `${kept.join('\n')}\n` : '', items, injected };
  }
}
