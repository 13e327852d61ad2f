// The seed's "Client Application": discovers both services through the svcreg library
// and calls them. Endpoints come from SVCREG_ENDPOINTS, as for the CLI.
import { Registry } from '../dist/index.js';

const registry = new Registry({ endpoints: process.env.SVCREG_ENDPOINTS.split(',') });

async function call(service, path) {
  const { instances } = await registry.discover(service);
  if (instances.length === 0) throw new Error(`no instance of ${service}`);
  const pick = instances[Math.floor(Math.random() * instances.length)];
  const url = `http://${pick.address}:${pick.port}${path}`;
  const res = await fetch(url);
  console.log(`GET ${url} (${pick.service_id}) -> ${res.status} ${await res.text()}`);
}

try {
  await call('user-service', '/users/1');
  await call('order-service', '/orders?user_id=1');
} finally {
  registry.close();
}
