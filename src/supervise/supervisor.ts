/**
 * `svcreg register [-- command]` after the key is written, as a state machine: what a
 * stop signal, the child's exit or a failed registration does depends on the state
 * alone.
 *
 *   starting ─run─> running ─signal─> [draining ─drain over or signal─>] stopping ─child exits─> deregistering ─> exited
 *
 * A child that exits, or a registration that fails, moves `running` on too; without a
 * command there is no `stopping`. A stop signal takes the instance out of discovery at
 * once whatever the child does: on leaving `running` (or `draining`) the lease is
 * revoked while the child is signalled, and a child that outlives the kill timeout is
 * killed.
 */
import { formatDuration } from '../output/duration.js';
import { message, warn, type Io } from '../output/io.js';
import type { RegistrationEvent } from '../output/printer.js';
import type { RegistrationLostError } from '../index.js';
import { setTimeout as delay } from 'node:timers/promises';
import { Child, signalExitCode, type Signal } from './child.js';
import { followProcess } from './follow.js';

export type { Signal } from './child.js';

/** How long a signalled child has to exit before SIGKILL. */
export const DEFAULT_KILL_TIMEOUT_MS = 10_000;

type SupervisorState = 'starting' | 'running' | 'draining' | 'stopping' | 'deregistering' | 'exited';

/** What the supervisor needs of a registration (a Registration from the registry). */
export interface Supervised {
  readonly key: string;
  readonly lease: string;
  readonly instance: { service_name: string; service_id: string };
  markCritical(reason: string): Promise<void>;
  deregister(): Promise<void>;
  on(event: 'failed', listener: (err: RegistrationLostError) => void): unknown;
}

export interface SupervisorOptions {
  /** The command to run as a child; empty to hold the registration until a signal. */
  command: string[];
  /** --drain: after a signal, stay registered as critical this long before stopping. */
  drainMs?: number;
  /** How long the child has after its signal before SIGKILL. */
  killTimeoutMs: number;
  /** --pid: stop as on SIGTERM once this process has exited. */
  followPid?: number;
  io: Io;
  /** Hears `deregistered` once the lease is revoked. */
  report(event: RegistrationEvent): void;
}

/** One registrant's lifecycle: `signal` on every stop signal, `run` once the key is written. */
export class Supervisor {
  private state: SupervisorState = 'starting';
  private pending: Signal | undefined;
  private registration: Supervised | undefined;
  private child: Child | undefined;
  private revoked: Promise<void> | undefined;
  private failure: RegistrationLostError | undefined;
  private unfollow: (() => void) | undefined;
  private readonly drainOver = new AbortController();
  private settle!: (outcome: number | RegistrationLostError) => void;
  private readonly result = new Promise<number>((resolve, reject) => {
    this.settle = (outcome) => (typeof outcome === 'number' ? resolve(outcome) : reject(outcome));
  });

  constructor(private readonly options: SupervisorOptions) {}

  /** A stop signal to svcreg. One that comes while registering is kept until `run`. */
  signal(signal: Signal): void {
    switch (this.state) {
      case 'starting':
        this.pending ??= signal;
        return;
      case 'running':
        return this.stop(signal);
      case 'draining':
        return this.drainOver.abort();
      case 'stopping':
        return this.child!.signal(signal);
      case 'deregistering':
        return this.giveUp(signal);
    }
  }

  /**
   * Supervises a written registration: starts the command (not when a signal came
   * while registering) and resolves to svcreg's exit code: the child's, or 0 without
   * one. Rejects with the RegistrationLostError when the registration failed.
   */
  run(registration: Supervised): Promise<number> {
    this.registration = registration;
    registration.on('failed', (err) => this.lost(err));
    this.state = 'running';
    const { command, io, followPid } = this.options;
    if (followPid !== undefined) this.unfollow = followProcess(followPid, () => this.followedExited(followPid));
    if (this.pending) {
      this.stop(this.pending);
    } else if (command.length > 0) {
      this.child = new Child(command, childEnv(registration), (err) => message(io, `cannot run ${command[0]}: ${err.message}`));
      void this.child.exited.then((code) => this.childExited(code));
    }
    return this.result;
  }

  /** The process of --pid has exited: whoever started svcreg in the background is gone. */
  private followedExited(pid: number): void {
    message(this.options.io, `process ${pid} has exited; deregistering`);
    this.signal('SIGTERM');
  }

  private stop(signal: Signal): void {
    if (this.options.drainMs === undefined) return this.release(signal);
    this.state = 'draining';
    void this.drain(signal);
  }

  /** Critical at once, so discover skips the instance; the child hears nothing until the drain is over. */
  private async drain(signal: Signal): Promise<void> {
    const { io, drainMs } = this.options;
    const { key } = this.registration!;
    await this.registration!.markCritical('draining').catch((err: Error) => warn(io, `could not mark ${key} critical: ${err.message}`));
    if (this.state !== 'draining') return;
    message(io, `draining ${key}: marked critical; stopping in ${formatDuration(drainMs!)} (signal again to stop now)`);
    // A signal during the drain ends it early.
    await delay(drainMs!, undefined, { signal: this.drainOver.signal }).catch(() => undefined);
    if (this.state === 'draining') this.release(signal);
  }

  /** Revokes the lease now and signals the child, which gets the kill timeout to exit. */
  private release(signal: Signal): void {
    this.revoke();
    if (!this.child) return this.deregistering(0);
    this.state = 'stopping';
    this.child.stop(signal, this.options.killTimeoutMs);
  }

  private childExited(code: number): void {
    this.drainOver.abort();
    this.revoke();
    this.deregistering(code);
  }

  /** Another registrant took the key, or the lease was lost under --on-lost exit: the child has to go. */
  private lost(err: RegistrationLostError): void {
    // Once stopping, the lease is being revoked anyway and the child's code is the answer.
    if (this.state !== 'running') return;
    this.failure = err;
    this.release('SIGTERM');
  }

  /** Waits for the revoke, then exits with `code`. */
  private deregistering(code: number): void {
    this.state = 'deregistering';
    void this.revoked!.then(() => this.finish(this.failure ?? code));
  }

  private revoke(): void {
    const { io, report } = this.options;
    const { key } = this.registration!;
    this.revoked ??= this.registration!.deregister().then(
      () => {
        // A registration that failed was not deregistered: the key is gone or someone else's, as the error says.
        if (!this.failure) report({ event: 'deregistered', key });
      },
      (err: Error) => warn(io, `could not revoke the lease of ${key}: ${err.message}; the key expires within its TTL`),
    );
  }

  /** A signal while etcd has not answered the revoke: stop waiting; the lease expires by itself. */
  private giveUp(signal: Signal): void {
    warn(this.options.io, `stopped waiting to deregister ${this.registration!.key}; the key expires within its TTL`);
    this.finish(signalExitCode(signal));
  }

  private finish(outcome: number | RegistrationLostError): void {
    if (this.state === 'exited') return;
    this.state = 'exited';
    this.unfollow?.();
    this.settle(outcome);
  }
}

/** What the child of `register -- command` knows of its registration, beside svcreg's own environment. */
function childEnv(registration: Supervised): NodeJS.ProcessEnv {
  const { key, lease, instance } = registration;
  return { ...process.env, SVCREG_SERVICE: instance.service_name, SVCREG_ID: instance.service_id, SVCREG_INSTANCE_KEY: key, SVCREG_LEASE: lease };
}
