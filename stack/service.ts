import type { StackConfig } from '../config/stack-config';
import type { StackPaths } from './paths';
import type { LogFn, ServiceName, ServicePorts, StackEnv } from './types';

/** Everything a driver needs from the stack; passed in so drivers hold no module state. */
export interface ServiceContext {
  readonly config: StackConfig;
  readonly paths: StackPaths;
  readonly log: LogFn;
  /** Aborted when the `up` is cancelled or another service failed: stop waiting. */
  readonly signal: AbortSignal;
  /** Epoch ms by which the service must be healthy. */
  readonly deadline: number;
}

export interface Launch {
  /** The long-lived server process (what we stop later), not a launcher that exits. */
  readonly pid: number;
  /** Throws when a launcher still running beside the server has reported failure. */
  check?(): void;
  /** Ends helpers of the launch (e.g. a launcher still running) when the start is abandoned. */
  cleanup?(): Promise<void>;
}

/** A service whose binaries, user and folders are in place, ready to be launched on given ports. */
export interface PreparedService {
  launch(ports: ServicePorts): Promise<Launch>;
  /** Cheap, repeatable health probe; must be true only when `pid` itself serves on `ports`. */
  isReady(ports: ServicePorts, pid: number): Promise<boolean>;
}

export interface ServiceDriver {
  readonly name: ServiceName;
  /** Names of the ports to allocate; `port` (the client port) comes first. */
  readonly portKeys: readonly string[];
  /** Postgres wants SIGINT (fast shutdown): SIGTERM would wait for clients to disconnect. */
  readonly stopSignal: NodeJS.Signals;
  /**
   * The pid file the server itself writes in its folder, if any. Consulted when ours is missing
   * (an `up` killed before it could write it), so `down` still finds what that `up` started.
   */
  serverPidFile?(dir: string): string;
  /** Installs, downloads and creates folders; done once per `up`, before any launch attempt. */
  prepare(ctx: ServiceContext): Promise<PreparedService>;
  env(ports: ServicePorts): Partial<StackEnv>;
}

/** A launch that failed before the service could serve; `output` is what the tool printed. */
export class LaunchError extends Error {
  constructor(message: string, readonly output = '') {
    super(message);
    this.name = 'LaunchError';
  }
}

export function port(ports: ServicePorts, key = 'port'): number {
  const value = ports[key];
  if (value === undefined) throw new Error(`port ${key} was not allocated`);
  return value;
}
