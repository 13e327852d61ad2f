/** etcd authentication for tests: a root user, and a user whose role covers one prefix only. */
import { Etcd3 } from 'etcd3';

/**
 * Enables auth on the cluster at `endpoints` with `user`/`password`, whose role may
 * read and write `/services/` only. Returns a root client for the test's own reads
 * and writes (close it when done).
 */
export async function enableAuth(endpoints: string, user: string, password: string): Promise<Etcd3> {
  const admin = new Etcd3({ hosts: endpoints });
  try {
    await admin.role('root').create();
    await admin.user('root').create('rootpw');
    await admin.user('root').addRole('root');
    const role = await admin.role('services-rw').create();
    await role.grant({ permission: 'Readwrite', range: admin.range({ prefix: '/services/' }) });
    await admin.user(user).create(password);
    await admin.user(user).addRole('services-rw');
    await admin.auth.authEnable();
  } finally {
    admin.close();
  }
  return new Etcd3({ hosts: endpoints, auth: { username: 'root', password: 'rootpw' } });
}
