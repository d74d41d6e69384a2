/** JSON schema of the pipeline config file (written out as config/pipeline.schema.json for editors). */
export const FIELD_TYPES = ['text', 'keyword', 'integer', 'long', 'float', 'double', 'boolean', 'date'] as const;

export const pipelineSchema = {
  $id: 'https://search-pipeline.local/schemas/pipeline.v1.json',
  title: 'Search pipeline config',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'indexes'],
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'Format version; 1 is the only one.' },
    indexes: {
      type: 'object',
      minProperties: 1,
      description: 'Search indexes by name (lower-case letters, digits, _ and -).',
      propertyNames: { pattern: '^[a-z][a-z0-9_-]{0,62}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['table', 'fields'],
        properties: {
          table: { type: 'string', pattern: '^([a-z_][a-z0-9_$]*\\.)?[a-z_][a-z0-9_$]*$', description: 'Source table, schema-qualified or in public.' },
          analyzer: { type: 'string', minLength: 1, description: 'Analyzer of the text fields that name none; default: standard (present in every Elasticsearch). Language analyzers such as english need a full distribution.' },
          tenantField: {
            type: 'string',
            pattern: '^[A-Za-z][A-Za-z0-9_]{0,62}$',
            description: 'A keyword field holding the tenant of each document: the API then only shows a caller the documents of its API key\'s tenant. Without it the index is shared by every tenant.',
          },
          fields: {
            type: 'object',
            minProperties: 1,
            propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]{0,62}$' },
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              required: ['type'],
              properties: {
                type: { enum: FIELD_TYPES },
                column: { type: 'string', minLength: 1, description: 'Source column; default: the field name.' },
                analyzer: { type: 'string', minLength: 1, description: 'Text analyzer; default: the index\'s analyzer, else standard.' },
                searchable: { type: 'boolean' },
                boost: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
                filterable: { type: 'boolean' },
                facetable: { type: 'boolean' },
                sortable: { type: 'boolean' },
                suggest: { type: 'boolean', description: 'Adds a completion sub-field <field>.suggest for prefix suggestions (text and keyword).' },
              },
            },
          },
        },
      },
    },
  },
} as const;
