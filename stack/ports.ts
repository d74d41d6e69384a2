import * as net from 'node:net';
import type { ServicePorts } from './types';

export const HOST = '127.0.0.1';

/** True when we can listen on the port ourselves right now (what the service will try next). */
export function isPortFree(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Lets the kernel pick: binding port 0 never collides with a listener at the moment of asking. */
export function kernelFreePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface PortProbe {
  isFree(port: number): Promise<boolean>;
  pickFree(): Promise<number>;
}

export const systemPortProbe: PortProbe = { isFree: (p) => isPortFree(p), pickFree: () => kernelFreePort() };

export interface PortRequest {
  name: string;
  keys: readonly string[];
  remembered: ServicePorts | undefined;
}

export interface PortPlan {
  ports: ServicePorts;
  /** False when the remembered ports were missing or no longer free. */
  reused: boolean;
}

/**
 * Ports for the services about to start. Remembered ports are kept when every one of a service's
 * ports is still free, so URLs and Kafka's advertised listener survive restarts; all reuses are
 * settled before any fresh port is drawn, so a fresh draw cannot take a port another service is
 * about to reuse. `reserved` (ports of running services) is updated with every port handed out.
 */
export async function planPorts(requests: readonly PortRequest[], reserved: Set<number>, probe: PortProbe = systemPortProbe): Promise<Map<string, PortPlan>> {
  const plans = new Map<string, PortPlan>();
  for (const req of requests) {
    const kept = await reuseIfFree(req, reserved, probe);
    if (kept) plans.set(req.name, { ports: kept, reused: true });
  }
  for (const req of requests) {
    if (!plans.has(req.name)) plans.set(req.name, { ports: await freshPorts(req.keys, reserved, probe), reused: false });
  }
  return plans;
}

async function reuseIfFree(req: PortRequest, reserved: Set<number>, probe: PortProbe): Promise<ServicePorts | undefined> {
  const { keys, remembered } = req;
  if (!remembered || !keys.every((k) => remembered[k] !== undefined)) return undefined;
  const wanted = keys.map((k) => remembered[k] as number);
  if (new Set(wanted).size !== wanted.length || wanted.some((p) => reserved.has(p))) return undefined;
  const free = await Promise.all(wanted.map((p) => probe.isFree(p)));
  if (!free.every(Boolean)) return undefined;
  wanted.forEach((p) => reserved.add(p));
  return Object.fromEntries(keys.map((k, i) => [k, wanted[i] as number]));
}

export async function freshPorts(keys: readonly string[], reserved: Set<number>, probe: PortProbe = systemPortProbe): Promise<ServicePorts> {
  const out: Record<string, number> = {};
  for (const key of keys) {
    let port = 0;
    // The kernel may hand back a port we just promised elsewhere (it was closed again): ask again.
    for (let tries = 0; tries < 50 && (port === 0 || reserved.has(port)); tries++) port = await probe.pickFree();
    if (port === 0 || reserved.has(port)) throw new Error('could not find a free TCP port on 127.0.0.1');
    reserved.add(port);
    out[key] = port;
  }
  return out;
}
