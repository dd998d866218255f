/**
 * A TCP proxy between one MQTT client (the ingest worker's session) and its broker that
 * reads the packets going by and counts them by kind and direction: how many PUBLISHes
 * the broker delivered, how many PUBACKs the client sent back. It passes TCP
 * backpressure on (a client that stops reading stops the broker's stream at the proxy
 * too), so what it counts is what the client was actually given.
 */
import net from 'node:net';
import * as mqttPacket from 'mqtt-packet';

type Direction = 'toBroker' | 'toClient';

export class MqttTap {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly counts: Record<Direction, Map<string, number>> = { toBroker: new Map(), toClient: new Map() };
  port = 0;

  constructor(
    private readonly brokerHost: string,
    private readonly brokerPort: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Packets of this kind (`publish`, `puback`, …) seen going to the broker or to the client. */
  count(direction: Direction, cmd: string): number {
    return this.counts[direction].get(cmd) ?? 0;
  }

  private accept(client: net.Socket): void {
    const broker = net.connect(this.brokerPort, this.brokerHost);
    this.sockets.add(client).add(broker);
    const end = () => {
      client.destroy();
      broker.destroy();
      this.sockets.delete(client);
      this.sockets.delete(broker);
    };
    client.on('error', end).on('close', end);
    broker.on('error', end).on('close', end);
    this.observe(client, 'toBroker');
    this.observe(broker, 'toClient');
    // pipe(): a reader that stops reading pauses the writer's side here as well.
    client.pipe(broker);
    broker.pipe(client);
  }

  private observe(from: net.Socket, direction: Direction): void {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const counts = this.counts[direction];
    parser.on('packet', (packet: mqttPacket.Packet) => counts.set(packet.cmd, (counts.get(packet.cmd) ?? 0) + 1));
    parser.on('error', () => from.destroy());
    from.on('data', (chunk: Buffer) => parser.parse(chunk));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
