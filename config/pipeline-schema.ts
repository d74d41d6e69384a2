/** JSON schema of the pipeline config file (written out as config/pipeline.schema.json for editors). */
export const FIELD_TYPES = ['text', 'keyword', 'integer', 'long', 'float', 'double', 'boolean', 'date'] as const;
export const RELATION_KINDS = ['many-to-one', 'one-to-many', 'many-to-many', 'one-to-one'] as const;
export const RANKING_RULES = ['typo', 'attribute', 'exactness'] as const;

const TABLE = { type: 'string', pattern: '^([a-z_][a-z0-9_$]*\\.)?[a-z_][a-z0-9_$]*$' } as const;
const NAME = { pattern: '^[A-Za-z][A-Za-z0-9_]{0,62}$' } as const;
/** Column pairs of a join: the key is this side's column, the value the other side's; several = a composite key. */
const JOIN = { type: 'object', minProperties: 1, propertyNames: { minLength: 1 }, additionalProperties: { type: 'string', minLength: 1 } } as const;

const field = {
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
    suggest: { type: 'boolean', description: 'Accepted for older configs (text and keyword); adds nothing: /suggest completes the field named by the index\'s ranking.suggest (docs/search.md).' },
  },
} as const;

const ranking = {
  type: 'object',
  additionalProperties: false,
  description: 'How hits and suggestions are ordered (docs/search.md); every key is optional.',
  properties: {
    rules: {
      type: 'array',
      uniqueItems: true,
      items: { enum: RANKING_RULES },
      description: 'Ranking rules, most important first; each only orders hits the ones before it left equal. typo: no typo first; attribute: a match in a field of higher boost first; exactness: the whole field equals the query, then starts with it, then holds it as a phrase. Default: ["typo", "attribute", "exactness"]; leave a rule out to ignore it.',
    },
    popularity: {
      type: 'object',
      additionalProperties: false,
      required: ['field'],
      description: 'A numeric or date field ordering hits the rules left equal, and suggestions.',
      properties: { field: { type: 'string', ...NAME }, order: { enum: ['desc', 'asc'], description: 'Default desc: the largest value first.' } },
    },
    suggest: { type: 'string', ...NAME, description: 'The field /suggest completes: a searchable text field or a keyword field. Default: the searchable text field with the highest boost.' },
  },
} as const;

const fields = { type: 'object', minProperties: 1, propertyNames: NAME, additionalProperties: { $ref: '#/$defs/field' } } as const;

const relation = {
  type: 'object',
  additionalProperties: false,
  required: ['table', 'kind', 'on'],
  description: 'A related table joined into the document under this name (docs/joined-documents.md).',
  properties: {
    table: { ...TABLE, description: 'Related table, schema-qualified or in public.' },
    kind: { enum: RELATION_KINDS, description: 'many-to-one and one-to-one give an object (or null), one-to-many and many-to-many an array of objects.' },
    on: { ...JOIN, description: 'Join columns { "<column of the parent table>": "<column of this table>" } (of the through table for many-to-many); several pairs make a composite key.' },
    through: {
      type: 'object',
      additionalProperties: false,
      required: ['table', 'on'],
      description: 'many-to-many only: the join table between the parent and this table.',
      properties: {
        table: { ...TABLE, description: 'The join table, schema-qualified or in public.' },
        on: { ...JOIN, description: 'Join columns { "<column of the join table>": "<column of this table>" }.' },
      },
    },
    fields: { ...fields, description: 'Fields of each related row, with the same options as the index\'s fields.' },
    relations: { $ref: '#/$defs/relations' },
    nested: { type: 'boolean', description: 'Arrays only: map them as Elasticsearch nested (each object queried on its own; default) or false for object (flattened, cheaper).' },
    orderBy: {
      type: 'array',
      minItems: 1,
      description: 'Arrays only: order of the related rows; the table\'s key breaks ties.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['column'],
        properties: { column: { type: 'string', minLength: 1 }, direction: { enum: ['asc', 'desc'] } },
      },
    },
    limit: { type: 'integer', minimum: 1, maximum: 10000, description: 'Arrays only: at most this many related rows (the first by orderBy).' },
  },
} as const;

export const pipelineSchema = {
  $id: 'https://search-pipeline.local/schemas/pipeline.v1.json',
  title: 'Search pipeline config',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'indexes'],
  $defs: {
    field,
    relation,
    relations: { type: 'object', minProperties: 1, propertyNames: NAME, additionalProperties: { $ref: '#/$defs/relation' }, description: 'Related tables joined into the document, by the name they get in it.' },
  },
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
          table: { ...TABLE, description: 'Source table, schema-qualified or in public.' },
          analyzer: { type: 'string', minLength: 1, description: 'Analyzer of the text fields that name none; default: standard (present in every Elasticsearch). Language analyzers such as english need a full distribution.' },
          tenantField: {
            type: 'string',
            ...NAME,
            description: 'A keyword field holding the tenant of each document: the API then only shows a caller the documents of its API key\'s tenant. Without it the index is shared by every tenant.',
          },
          fields,
          relations: { $ref: '#/$defs/relations' },
          shards: { type: 'integer', minimum: 1, maximum: 1024, description: 'Primary shards of the index (default 1). Changing it needs a new index: the indexer reindexes (docs/scaling.md).' },
          replicas: { type: 'integer', minimum: 0, maximum: 32, description: 'Replica copies of each shard; default: 0-1 following the cluster (auto_expand_replicas), 1 on a cluster, 0 on a single node. Applied to the live index at indexer start, no reindex.' },
          ranking,
        },
      },
    },
  },
} as const;
