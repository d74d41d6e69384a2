import * as net from 'node:net';
import { freshPorts, isPortFree, kernelFreePort, planPorts, type PortProbe } from './ports';

/** A probe over a fixed set of taken ports that hands out fresh ports from a script. */
function fakeProbe(taken: number[], draws: number[]): PortProbe {
  return {
    isFree: async (p) => !taken.includes(p),
    pickFree: async () => {
      const next = draws.shift();
      if (next === undefined) throw new Error('no more draws');
      return next;
    },
  };
}

describe('planPorts', () => {
  it('keeps remembered ports that are all still free', async () => {
    const reserved = new Set<number>();
    const plans = await planPorts([{ name: 'kafka', keys: ['port', 'controllerPort'], remembered: { port: 9001, controllerPort: 9002 } }], reserved, fakeProbe([], []));
    expect(plans.get('kafka')).toEqual({ ports: { port: 9001, controllerPort: 9002 }, reused: true });
    expect([...reserved]).toEqual([9001, 9002]);
  });

  it('replaces the whole set when one remembered port is taken', async () => {
    const plans = await planPorts([{ name: 'kafka', keys: ['port', 'controllerPort'], remembered: { port: 9001, controllerPort: 9002 } }], new Set(), fakeProbe([9002], [7001, 7002]));
    expect(plans.get('kafka')).toEqual({ ports: { port: 7001, controllerPort: 7002 }, reused: false });
  });

  it('never draws a port another service is reusing, nor one already reserved', async () => {
    const reserved = new Set([5000]);
    const plans = await planPorts(
      [
        { name: 'postgres', keys: ['port'], remembered: undefined },
        { name: 'redis', keys: ['port'], remembered: { port: 6000 } },
      ],
      reserved,
      fakeProbe([], [5000, 6000, 6100]),
    );
    expect(plans.get('redis')?.ports).toEqual({ port: 6000 });
    expect(plans.get('postgres')?.ports).toEqual({ port: 6100 });
  });

  it('draws fresh ports when the remembered set is incomplete, duplicated or reserved', async () => {
    const probe = fakeProbe([], [8001, 8002, 8003, 8004]);
    const plans = await planPorts(
      [
        { name: 'a', keys: ['port', 'other'], remembered: { port: 1 } },
        { name: 'b', keys: ['port', 'other'], remembered: { port: 2, other: 2 } },
      ],
      new Set(),
      probe,
    );
    expect(plans.get('a')).toEqual({ ports: { port: 8001, other: 8002 }, reused: false });
    expect(plans.get('b')).toEqual({ ports: { port: 8003, other: 8004 }, reused: false });
  });
});

describe('freshPorts', () => {
  it('gives up with a clear error when the kernel keeps returning reserved ports', async () => {
    const probe: PortProbe = { isFree: async () => true, pickFree: async () => 4000 };
    await expect(freshPorts(['port'], new Set([4000]), probe)).rejects.toThrow('could not find a free TCP port');
  });
});

describe('real sockets', () => {
  it('sees a listening port as taken and a kernel-picked one as free', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(taken)).toBe(false);
      const free = await kernelFreePort();
      expect(free).not.toBe(taken);
      expect(await isPortFree(free)).toBe(true);
    } finally {
      server.close();
    }
  });
});
