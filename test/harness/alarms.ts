/**
 * etcd alarms for tests: NOSPACE raised for real (an etcd with a small
 * --quota-backend-bytes, filled until it refuses writes), or any alarm raised through
 * etcd's Alarm API (a CORRUPT alarm cannot be provoked on purpose).
 */
import { AlarmAction, type AlarmType, Etcd3 } from 'etcd3';

/** Small enough to fill in a few requests, large enough for etcd to start in. */
export const QUOTA_BYTES = 1024 * 1024;

/** What to start etcd with so that `fill` can raise its NOSPACE alarm. */
export const SMALL_QUOTA = ['--quota-backend-bytes', String(QUOTA_BYTES)];

/**
 * Puts 100 KB values outside the registry until etcd raises its NOSPACE alarm, with a
 * client of its own: etcd3's circuit breaker shuts a client out after refused writes.
 */
export async function fill(endpoints: string): Promise<void> {
  const client = new Etcd3({ hosts: endpoints });
  const value = 'x'.repeat(100_000);
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await client.put(`/fill/${i}`).value(value);
      } catch (err) {
        if (/database space exceeded/.test((err as Error).message)) return;
        throw err;
      }
    }
    throw new Error(`etcd took 10 MB without raising NOSPACE (quota ${QUOTA_BYTES} bytes)`);
  } finally {
    client.close();
  }
}

/** Raises `alarm` on the member `client` talks to, through etcd's Alarm API. */
export async function raiseAlarm(client: Etcd3, alarm: AlarmType): Promise<void> {
  const { header } = await client.maintenance.status();
  await client.maintenance.alarm({ action: AlarmAction.Activate, memberID: header.member_id, alarm });
}
