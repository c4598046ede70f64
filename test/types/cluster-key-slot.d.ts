// cluster-key-slot (ioredis's own) ships no types: Redis Cluster's CRC16 slot of a key.
declare module 'cluster-key-slot' {
  export default function keySlot(key: string | Buffer): number;
}
