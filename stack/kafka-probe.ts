import { tcpExchange } from './probes';

/**
 * A Metadata (API key 3, v1) request asking for no topics: the broker answers with the live
 * brokers, which includes itself only once it is registered and unfenced, i.e. able to serve.
 * Hand-rolled (~40 lines) so `stack/` does not depend on a Kafka client.
 */
export function encodeMetadataRequest(correlationId: number, clientId = 'stack-probe'): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4);
  let o = 0;
  o = body.writeInt16BE(3, o); // api_key: Metadata
  o = body.writeInt16BE(1, o); // api_version
  o = body.writeInt32BE(correlationId, o);
  o = body.writeInt16BE(client.length, o);
  o += client.copy(body, o);
  body.writeInt32BE(0, o); // topics: empty array = none (null would mean all)
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

export interface MetadataSummary {
  correlationId: number;
  brokers: { nodeId: number; host: string; port: number }[];
  controllerId: number;
}

/** Decodes the head of a Metadata v1 response; undefined while incomplete or malformed. */
export function decodeMetadataResponse(buf: Buffer): MetadataSummary | undefined {
  try {
    if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return undefined;
    let o = 4;
    const correlationId = buf.readInt32BE(o);
    o += 4;
    const count = buf.readInt32BE(o);
    o += 4;
    const brokers: MetadataSummary['brokers'] = [];
    for (let i = 0; i < count; i++) {
      const nodeId = buf.readInt32BE(o);
      const hostLen = buf.readInt16BE(o + 4);
      const host = buf.toString('utf8', o + 6, o + 6 + hostLen);
      o += 6 + hostLen;
      const port = buf.readInt32BE(o);
      const rackLen = buf.readInt16BE(o + 4);
      o += 6 + Math.max(rackLen, 0);
      brokers.push({ nodeId, host, port });
    }
    return { correlationId, brokers, controllerId: buf.readInt32BE(o) };
  } catch {
    return undefined;
  }
}

export async function kafkaBrokerReady(port: number): Promise<boolean> {
  const correlationId = Math.floor(Math.random() * 1e9);
  const reply = await tcpExchange(port, encodeMetadataRequest(correlationId), (b) => decodeMetadataResponse(b) !== undefined);
  const meta = reply && decodeMetadataResponse(reply);
  return !!meta && meta.correlationId === correlationId && meta.brokers.some((b) => b.port === port);
}
