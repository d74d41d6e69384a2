import { kafkajsSecurity } from './kafkajs-client';

describe('Kafka security for kafkajs', () => {
  it('adds nothing for plaintext', () => {
    expect(kafkajsSecurity({})).toEqual({});
  });
  it('passes TLS (system CAs, or a CA and a client certificate) and SASL on', () => {
    expect(kafkajsSecurity({ tls: {} })).toEqual({ ssl: true });
    expect(kafkajsSecurity({ tls: { ca: 'CA', cert: 'C', key: 'K' } })).toEqual({ ssl: { ca: ['CA'], cert: 'C', key: 'K' } });
    expect(kafkajsSecurity({ sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } })).toEqual({ sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } });
  });
});
