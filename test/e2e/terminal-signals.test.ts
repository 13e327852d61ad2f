/**
 * What a person at a terminal sees when they press Ctrl-C during a command that shows
 * a spinner: the command stops on the first Ctrl-C, and the terminal's settings are
 * what they were before it started. Each command runs in a real tmux pane.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import { TcpProxy } from '../harness/proxy.js';
import { TmuxPane } from '../harness/tmux.js';

let etcd: EtcdCluster;
let client: Etcd3;
let proxy: TcpProxy | undefined;
let pane: TmuxPane | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoints });
});

afterEach(async () => {
  await pane?.stop();
  await proxy?.close();
  pane = proxy = undefined;
});

afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

/** A proxy to the test etcd, to blackhole when a command must hang on a request. */
async function proxied(): Promise<string> {
  proxy = await TcpProxy.start(Number(new URL(etcd.endpoints.split(',')[0]).port));
  return proxy.url;
}

// The exit code a shell reports for a process stopped by SIGINT, or its own 130 after one.
const STOPPED = /\[terminal unchanged\]\s+\[exit 130\]/;

describe('Ctrl-C on a terminal', () => {
  it('stops discover --wait on the first Ctrl-C and leaves the terminal as it found it', async () => {
    pane = await TmuxPane.start(['--endpoints', etcd.endpoints, '--prefix', '/tty-wait/', 'discover', 'web', '--wait']);
    await pane.waitFor(/waiting for 1 instance of web/);
    await pane.keys('C-c');
    await pane.waitFor(STOPPED, 15_000);
  });

  it('stops a list showing its progress on the first Ctrl-C and leaves the terminal as it found it', async () => {
    const endpoint = await proxied();
    proxy!.blackhole();
    pane = await TmuxPane.start(['--endpoints', endpoint, '--timeout', '120s', '--prefix', '/tty-list/', 'list']);
    await pane.waitFor(/reading \/tty-list\//);
    await pane.keys('C-c');
    await pane.waitFor(STOPPED, 15_000);
  });

  it('stops a purge showing its progress on the first Ctrl-C and leaves the terminal as it found it', async () => {
    await client.put('/tty-purge/old/o1').value(JSON.stringify({ service_id: 'o1', service_name: 'old', address: 'h', port: 1, registered_at: 1 }));
    const endpoint = await proxied();
    pane = await TmuxPane.start(['--endpoints', endpoint, '--timeout', '120s', '--prefix', '/tty-purge/', 'purge', 'old']);
    await pane.waitFor(/\[y\/N\]/);
    // The delete hangs: the spinner shows until Ctrl-C.
    proxy!.blackhole();
    await pane.keys('y', 'Enter');
    await pane.waitFor(/deleting 1 entry/);
    await pane.keys('C-c');
    await pane.waitFor(STOPPED, 15_000);
  });

  it('stops at the purge prompt on the first Ctrl-C, deletes nothing, and leaves the terminal as it found it', async () => {
    await client.put('/tty-prompt/old/o1').value(JSON.stringify({ service_id: 'o1', service_name: 'old', address: 'h', port: 1, registered_at: 1 }));
    pane = await TmuxPane.start(['--endpoints', etcd.endpoints, '--prefix', '/tty-prompt/', 'purge', 'old']);
    await pane.waitFor(/\[y\/N\]/);
    await pane.keys('C-c');
    await pane.waitFor(STOPPED, 15_000);
    expect(await client.get('/tty-prompt/old/o1').string()).not.toBeNull();
  });
});
