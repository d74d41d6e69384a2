import { parsePromText, samplesOf } from './prom-text';

describe('Prometheus text parsing', () => {
  it('reads names, labels (escapes included) and values, skipping comments', () => {
    const text = '# HELP x y\n# TYPE ingest_errors_total counter\ningest_errors_total{kind="kafka_unavailable"} 3\ningest_errors_total{kind="a\\"b"} 0\nup 1 1700000000\nh_bucket{le="+Inf"} +Inf\n';
    const s = parsePromText(text);
    expect(s).toEqual([
      { name: 'ingest_errors_total', labels: { kind: 'kafka_unavailable' }, value: 3 },
      { name: 'ingest_errors_total', labels: { kind: 'a"b' }, value: 0 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: Infinity },
    ]);
    expect(samplesOf(s, 'ingest_errors_total', true).map((x) => x.labels.kind)).toEqual(['kafka_unavailable']);
  });
});
