// One process holding many registrations through the library, for `npm run bench`.
// Prints "ready <ms>" once all are registered, then holds them until SIGINT, when it
// deregisters them all and prints "deregistered <ms>".
//   node bench/many-registrations.mjs <count> <ttl seconds>   (endpoints from SVCREG_ENDPOINTS)
import { Registry } from '../dist/index.js';

const [count, ttl] = process.argv.slice(2).map(Number);
const registry = new Registry({ endpoints: process.env.SVCREG_ENDPOINTS.split(',') });
const start = performance.now();
const registrations = [];
for (let i = 0; i < count; i += 100) {
  const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) =>
    registry.register({ service: 'many', id: `m${i + j}`, address: '127.0.0.1', port: 1000 + ((i + j) % 60000), ttl }),
  );
  registrations.push(...(await Promise.all(batch)));
}
let lost = 0;
for (const r of registrations) r.on('lost', () => lost++);
process.stdout.write(`ready ${Math.round(performance.now() - start)}\n`);
process.once('SIGINT', async () => {
  const t0 = performance.now();
  await Promise.all(registrations.map((r) => r.deregister()));
  process.stdout.write(`deregistered ${Math.round(performance.now() - t0)} lost ${lost}\n`);
  registry.close();
});
