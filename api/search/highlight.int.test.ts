import { createApiIndex, softwareFixtures, type ApiIndex } from '../../e2e/support/api-index';
import { es } from '../../e2e/support/services';

/**
 * Highlights are returned to browsers as HTML, so the document's own markup must come back
 * escaped: only the API's `<mark>` tags may be live. Checked against the real Elasticsearch,
 * because the escaping is its highlighter's `encoder`, not code of ours.
 */
describe('search highlights against Elasticsearch', () => {
  const elastic = es();
  let ix: ApiIndex;
  const xss = '<img src=x onerror=alert(1)> gizmo & "friends"';

  beforeAll(async () => {
    ix = await createApiIndex(elastic, [...softwareFixtures(), { id: 'xss', title: xss, system: 'nes', publisher: '<b>Evil</b> Corp', year: 1999, release_date: '1999-01-01', supported: 'yes' }]);
  });
  afterAll(async () => {
    await ix?.drop();
    await elastic.close();
  });

  it('escapes the document text around the marks', async () => {
    const res = await ix.http.get(ix.path('search')).query({ q: 'gizmo' });
    expect(res.status).toBe(200);
    const hit = res.body.hits.find((h: { id: string }) => h.id === 'xss');
    expect(hit.highlight.title).toEqual(['&lt;img src=x onerror=alert(1)&gt; <mark>gizmo</mark> &amp; &quot;friends&quot;']);
    // The document itself stays as stored: it is JSON data, not HTML.
    expect(hit.document.title).toBe(xss);
  });

  it('escapes other highlighted fields too', async () => {
    const res = await ix.http.get(ix.path('search')).query({ q: 'evil' });
    const hit = res.body.hits.find((h: { id: string }) => h.id === 'xss');
    expect(JSON.stringify(hit.highlight)).not.toContain('<b>');
  });
});
