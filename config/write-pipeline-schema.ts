import fs from 'node:fs';
import path from 'node:path';
import { pipelineSchema } from './pipeline-schema';

/** Writes config/pipeline.schema.json, the editor-facing copy of the schema (`npm run schema`). */
export const SCHEMA_FILE = path.join(__dirname, 'pipeline.schema.json');
export const renderSchema = (): string => `${JSON.stringify(pipelineSchema, null, 2)}\n`;

if (require.main === module) fs.writeFileSync(SCHEMA_FILE, renderSchema());
