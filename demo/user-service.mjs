// The seed's "User Service": a tiny HTTP server. svcreg registers it; it knows nothing of etcd.
import { createServer } from 'node:http';

const users = { 1: { id: 1, name: 'Ada' }, 2: { id: 2, name: 'Grace' } };
const port = Number(process.env.PORT);
const server = createServer((req, res) => {
  const m = req.url.match(/^\/users\/(\d+)$/);
  const user = m && users[m[1]];
  res.writeHead(user ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(user ?? { error: 'not found' }));
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
