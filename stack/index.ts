/** Public API of the local service stack; see cli.ts for the command-line front end. */
export { stackUp, type StackUpOptions, type StackUpResult } from './up';
export { stackDown, type StackDownOptions } from './down';
export { stackStatus, readStackEnv, formatStatus, type ServiceStatus, type ServiceState } from './status';
export { ensureAptPackage, type EnsureAptOptions } from './apt';
export { StackError, StackUpError, type StackErrorCode } from './errors';
export { renderEnvFile, parseEnvFile } from './env-file';
export { SERVICE_NAMES, parseServiceList, type ServiceName, type StackEnv, type LogFn } from './types';
