// The seed's "Order Service": a tiny HTTP server. svcreg registers it; it knows nothing of etcd.
import { createServer } from 'node:http';

const orders = [
  { id: 100, user_id: 1, item: 'keyboard' },
  { id: 101, user_id: 2, item: 'compiler' },
  { id: 102, user_id: 1, item: 'coffee' },
];
const port = Number(process.env.PORT);
const server = createServer((req, res) => {
  const user = new URL(req.url, 'http://x').searchParams.get('user_id');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(orders.filter((o) => user === null || String(o.user_id) === user)));
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
