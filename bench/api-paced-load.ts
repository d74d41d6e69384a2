import http from 'node:http';

/**
 * Open-loop load at a steady rate, for latency at a given request rate. autocannon's own rate
 * limit (overallRate) sends each second's quota as fast as it can at the start of the second and
 * then idles, so its "1,000 req/s" is a burst near the maximum rate; this sends one request every
 * 1/rate seconds instead (catching up in small batches when a timer fires late), with no limit on
 * requests in flight up to `maxInFlight` (past it the target cannot keep up: the run stops and
 * says so rather than measuring a queue), and times each response with sub-millisecond precision.
 */
export interface PacedRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface PacedResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** True when more than `maxInFlight` requests were waiting: the rate is above what the target sustains. */
  overloaded: boolean;
}

export async function pacedLoad(baseUrl: string, next: (i: number) => PacedRequest, rate: number, seconds: number, maxInFlight = 256): Promise<PacedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await paced(agent, baseUrl, next, rate, 1, maxInFlight); // opens the connections; not measured
    return await paced(agent, baseUrl, next, rate, seconds, maxInFlight);
  } finally {
    agent.destroy();
  }
}

/**
 * A pool of at most 64 keep-alive connections, like a load balancer in front of the API: a burst
 * (after this process was descheduled) waits for a free connection, and that wait counts in its
 * latency, instead of opening hundreds of new connections.
 */
async function paced(agent: http.Agent, baseUrl: string, next: (i: number) => PacedRequest, rate: number, seconds: number, maxInFlight: number): Promise<PacedResult> {
  const url = new URL(baseUrl);
  const latencies: number[] = [];
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (r: PacedRequest): Promise<void> =>
    new Promise((resolve) => {
      const start = process.hrtime.bigint();
      const req = http.request({ agent, host: url.hostname, port: url.port, method: r.method, path: r.path, headers: { ...(r.headers ?? {}), ...(r.body ? { 'content-length': Buffer.byteLength(r.body) } : {}) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(r.body);
    });
  const begin = performance.now();
  const end = begin + seconds * 1000;
  let sent = 0;
  let overloaded = false;
  while (performance.now() < end && !overloaded) {
    const due = Math.floor(((performance.now() - begin) * rate) / 1000);
    for (; sent <= due; sent++) {
      const p = send(next(sent)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    overloaded = inFlight.size > maxInFlight;
    await new Promise((r) => setTimeout(r, 1));
  }
  const elapsedS = (performance.now() - begin) / 1000;
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsedS, p50: q(0.5), p99: q(0.99), errors, overloaded };
}
