/**
 * `svcreg register <service> [-- command args...]`: register, keep alive, and
 * deregister on SIGINT/SIGTERM/SIGHUP; with a command, for as long as it runs.
 * The lifecycle after the key is written is the supervisor's (src/supervise/).
 */
import { throttledMessages, warn } from '../output/io.js';
import type { RegistrationEvent } from '../output/printer.js';
import { printerFor } from '../output/printers.js';
import type { Health, RegisteredInfo } from '../index.js';
import { resolveCommand } from '../supervise/resolve.js';
import { Supervisor } from '../supervise/supervisor.js';
import type { CommandContext } from './context.js';
import { parseRegisterOptions, type RegisterCommandOptions } from './register-options.js';

export async function register(ctx: CommandContext, service: string, options: RegisterCommandOptions, command: string[]): Promise<number> {
  const plan = parseRegisterOptions(service, options);
  const printer = await printerFor(ctx.format(['table', 'json', 'ndjson', 'yaml', 'template']), ctx.io);
  // A command that cannot run is found before its instance is advertised.
  if (command.length > 0) resolveCommand(command[0]);
  for (const text of plan.warnings) warn(ctx.io, text);
  // `svcreg register ... | head -1` waits for the first line: the registration lives on.
  ctx.onStdoutClosed(() => undefined);
  const report = (event: RegistrationEvent) => printer.registration(event);
  const { drainMs, killTimeoutMs, followPid } = plan;
  const supervisor = new Supervisor({ command, drainMs, killTimeoutMs, followPid, io: ctx.io, report });
  // Installed before registering, so a signal that comes meanwhile is not lost.
  const removeSignal = ctx.onSignal((signal) => supervisor.signal(signal));
  try {
    const registration = await ctx.registry.register(plan.registration);
    report({ event: 'registered', ...registration.info() });
    // etcd raises a TTL below its minimum (about 1.5 election timeouts) without a word.
    if (registration.ttl !== plan.registration.ttl) warn(ctx.io, `etcd granted a ${registration.ttl}s lease for --ttl ${plan.registration.ttl}: the cluster's minimum TTL`);
    registration.on('reregistered', (info: RegisteredInfo) => report({ event: 'reregistered', ...info }));
    registration.on('lost', (e: { key: string; lease: string; reason: string }) => report({ event: 'lost', ...e }));
    const say = throttledMessages(ctx.io, 10_000);
    registration.on('retrying', (e: { error: Error }) => say(`keepalive failed: ${e.error.message}; retrying`));
    registration.on('health', (h: Health) => report({ event: 'health', key: registration.key, ...h }));
    return await supervisor.run(registration);
  } finally {
    removeSignal();
  }
}
