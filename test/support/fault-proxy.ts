// A TCP proxy between MovR and its database that can break on command, for fault tests and the
// chaos benchmark (scripts/chaos.ts). It never touches the database server itself:
//
//   cut()      closes every connection through it at once (both sides), as a crash or a
//              network partition would
//   refuse()   stops accepting: new connections are refused (ECONNREFUSED), as a server that is
//              down; open ones stay
//   stall()    keeps every connection open but passes no more bytes, either way, old or new: a
//              database (or network) that stopped answering
//   heal()     back to passing everything
import net from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'refuse';

export class FaultProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private current: ProxyMode = 'pass';
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
    server: net.Server,
  ) {
    this.server = server;
  }

  /** Starts a proxy to `target` on 127.0.0.1, on a free port. */
  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    const proxy = new FaultProxy(target, port, server);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  get mode(): ProxyMode {
    return this.current;
  }

  /** The same URL through the proxy: host and port replaced. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            if (this.current !== 'stall') from.resume();
          });
        }
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
    if (this.current === 'stall') {
      client.pause();
      upstream.pause();
    }
  }

  /** Closes every open connection, both sides; new ones are accepted as before. */
  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** New connections are refused until heal(). */
  async refuse(): Promise<void> {
    if (this.current === 'refuse') return;
    this.current = 'refuse';
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // close() waits for open connections; the listening socket itself is gone at once.
      setImmediate(resolve);
    });
  }

  /** No byte passes either way, on open or new connections, until heal(). */
  stall(): void {
    this.current = 'stall';
    for (const { client, upstream } of this.pairs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Everything passes again. */
  async heal(): Promise<void> {
    const was = this.current;
    this.current = 'pass';
    if (was === 'refuse') {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.port, '127.0.0.1', () => resolve());
      });
    }
    for (const { client, upstream } of this.pairs) {
      client.resume();
      upstream.resume();
    }
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.cut();
    if (this.current !== 'refuse') await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
