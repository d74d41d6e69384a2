/**
 * /docs: one self-contained page (no CDN is reachable from where this runs) that reads
 * /openapi.json and offers a form per operation to send requests and show the answers.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>search-pipeline API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;padding:0 1em;color:#222}
details{border:1px solid #ccc;border-radius:6px;margin:.6em 0;padding:.4em .8em}
summary{cursor:pointer;font-weight:600}.m{display:inline-block;width:4em;font-family:monospace}
label{display:grid;grid-template-columns:10em 1fr;gap:.6em;margin:.2em 0}label small{grid-column:2;color:#666}
input,select{font:inherit;padding:.2em}pre{background:#f5f5f5;padding:.6em;overflow:auto;max-height:28em}
</style></head><body>
<h1>search-pipeline API</h1>
<p>Every route of <a href="/openapi.json">/openapi.json</a>. Fill in parameters and send; errors come back as <code>{"error":{"code","message"}}</code>.</p>
<div id="ops">loading…</div>
<script>
'use strict';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
function field(p) {
  const s = p.schema || {};
  const input = s.enum ? '<select name="' + esc(p.name) + '">' + (p.required ? '' : '<option></option>') + s.enum.map((v) => '<option>' + esc(v) + '</option>').join('') + '</select>'
    : '<input name="' + esc(p.name) + '" placeholder="' + esc(s.default === undefined ? '' : s.default) + '">';
  return '<label data-in="' + p.in + '" data-type="' + esc(s.type || 'string') + '">' + esc(p.name) + input + '<small>' + esc(p.description || '') + '</small></label>';
}
// A JSON body is typed (the API refuses "size": "5"); the query string is text.
const typed = (v, type) => (type === 'integer' && /^-?\\d+$/.test(v) ? Number(v) : type === 'boolean' && /^(true|false)$/.test(v) ? v === 'true' : v);
async function send(form, path, method) {
  const data = new FormData(form);
  let url = path;
  const query = new URLSearchParams();
  const body = {};
  for (const el of form.querySelectorAll('label')) {
    const name = el.querySelector('input,select').name;
    const value = data.get(name);
    if (el.dataset.in === 'path') url = url.replace('{' + name + '}', encodeURIComponent(value));
    else if (value !== '' && el.dataset.in === 'body') body[name] = typed(value, el.dataset.type);
    else if (value !== '') query.set(name, value);
  }
  const q = query.toString();
  const init = method === 'post' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {};
  const out = form.querySelector('pre');
  out.textContent = '…';
  const res = await fetch(url + (q ? '?' + q : ''), init);
  const text = await res.text();
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) {}
  out.textContent = method.toUpperCase() + ' ' + url + (q ? '?' + q : '') + '\\n' + res.status + ' ' + res.statusText + '\\n\\n' + shown;
}
fetch('/openapi.json').then((r) => r.json()).then((spec) => {
  const ops = document.getElementById('ops');
  ops.innerHTML = '';
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'post']) {
      const op = item[method];
      if (!op) continue;
      const params = [...(item.parameters || []), ...(op.parameters || [])];
      const props = op.requestBody ? op.requestBody.content['application/json'].schema.properties : {};
      for (const [name, schema] of Object.entries(props)) params.push({ name, in: 'body', schema, description: schema.description });
      const d = document.createElement('details');
      d.innerHTML = '<summary><span class="m">' + method.toUpperCase() + '</span>' + esc(path) + ' — ' + esc(op.summary || '') + '</summary><form>' + params.map(field).join('') + '<button>Send</button><pre></pre></form>';
      d.querySelector('form').addEventListener('submit', (e) => { e.preventDefault(); send(e.target, path, method).catch((err) => { e.target.querySelector('pre').textContent = String(err); }); });
      ops.appendChild(d);
    }
  }
});
</script></body></html>
`;
