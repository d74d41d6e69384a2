import { parsePipelineConfig } from './pipeline';

const withTenant = (tenantField: string, tenantType = 'keyword') =>
  JSON.stringify({ version: 1, indexes: { notes: { table: 'notes', tenantField, fields: { title: { type: 'text', searchable: true }, org: { type: tenantType } } } } });

describe('pipeline config: tenantField', () => {
  it('is optional (a shared index) and compiled when it names a keyword field', () => {
    expect(parsePipelineConfig(JSON.stringify({ version: 1, indexes: { b: { table: 'b', fields: { t: { type: 'text', searchable: true } } } } })).indexes[0]!.tenantField).toBeUndefined();
    expect(parsePipelineConfig(withTenant('org')).indexes[0]!.tenantField).toBe('org');
  });
  it('names the fix when the field is missing or not a keyword', () => {
    expect(() => parsePipelineConfig(withTenant('tenant'), 'p.json')).toThrow('/indexes/notes/tenantField: "tenant" is not a field of this index; add it under "fields" with "type": "keyword".');
    expect(() => parsePipelineConfig(withTenant('org', 'text'))).toThrow('/indexes/notes/tenantField: "org" is text; a tenant field must be "type": "keyword".');
    expect(() => parsePipelineConfig(withTenant('bad name'))).toThrow(/\/indexes\/notes\/tenantField: "bad name" must match/);
  });
});
