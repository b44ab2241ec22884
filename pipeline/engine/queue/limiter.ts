/**
 * @module pipeline/engine/queue/limiter
 * One model server's limits for the sum of all workers, kept in Redis: a cap on requests in flight
 * (slots that expire unless their holder renews them, so a killed worker's slots come back), request
 * and token buckets, and a cool-down that every worker obeys after a 429. Each step is one Lua script,
 * atomic, on Redis's clock. Each process queues its own waiters and asks for a batch of admissions at
 * a time, so Redis sees one call per batch, not one per waiting request. The model client reaches it
 * through `RedisLimiter` (client-limiter.ts).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys, LUA_NOW, script } from './connection.ts';

/** What a server allows: requests in flight, requests and tokens per minute (null: no limit). */
export interface ServerLimits {
  concurrency: number;
  rpm: number | null;
  tpm: number | null;
}

/** A slot not renewed for this long is free again (its holder died). */
export const SLOT_TTL_MS = 15_000;
/** How often a process polls while every slot is taken (it also wakes when one of its own frees). */
const BUSY_POLL_MS = 10;
/** Waiters asked for in one call. */
const BATCH = 64;

/**
 * A per-minute limit as a bucket: it refills at 59/60 of the limit and holds half a second of it, so
 * any 60 s window admits at most 0.992 of the limit, and a server that counts arrivals a little late
 * (network, its own queue) still never sees more than the limit in a minute.
 */
export function bucketOf(perMinute: number): { ratePerMs: number; burst: number } {
  return { ratePerMs: (perMinute * (59 / 60)) / 60_000, burst: Math.max(1, perMinute / 120) };
}

const LUA_BUCKET = `local function level(key, rate, burst)
  if rate <= 0 then return nil end
  local v = redis.call('HMGET', key, 'l', 't')
  local l = tonumber(v[1])
  if not l then return burst end
  return math.min(burst, l + (now - tonumber(v[2])) * rate)
end
local function store(key, l)
  redis.call('HSET', key, 'l', l, 't', now)
  redis.call('PEXPIRE', key, 3600000)
end
`;

// KEYS: slots, rpm, tpm, cool. ARGV: cap, slot ttl, rpm rate/ms, rpm burst, tpm rate/ms, tpm burst,
// k, then k members, then k token estimates. Returns {admitted, wait ms, why}: the first `admitted`
// members hold a slot; why is cool, busy, rpm or tpm.
const ADMIT = `${LUA_NOW}${LUA_BUCKET}
local cool = tonumber(redis.call('GET', KEYS[4]) or '0')
if cool > now then return {0, cool - now, 'cool'} end
local cap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local rr, rb, tr, tb = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local k = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[1])
local rl, tl = level(KEYS[2], rr, rb), level(KEYS[3], tr, tb)
local n, wait, why = 0, 0, ''
for i = 1, k do
  if cap > 0 and inflight >= cap then why = 'busy' break end
  if rl and rl < 1 then wait = math.ceil((1 - rl) / rr) why = 'rpm' break end
  local est = tonumber(ARGV[7 + k + i])
  if tl and tl < math.min(est, tb) then wait = math.ceil((math.min(est, tb) - tl) / tr) why = 'tpm' break end
  if rl then rl = rl - 1 end
  if tl then tl = tl - est end
  inflight = inflight + 1
  n = n + 1
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[7 + i])
end
if n > 0 then redis.call('PEXPIRE', KEYS[1], ttl * 4) end
if rl then store(KEYS[2], rl) end
if tl then store(KEYS[3], tl) end
return {n, wait, why}`;

// KEYS: slots. ARGV: ttl, members: pushes the expiry of the slots still held.
const RENEW = `${LUA_NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
return 1`;

// KEYS: cool. ARGV: ms: every worker waits until then (a later cool-down is never shortened).
const COOL = `${LUA_NOW}
local untilMs = now + tonumber(ARGV[1])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000)
end
return 1`;

// KEYS: tpm. ARGV: tokens to give back (negative: to charge), rate/ms, burst.
const ADJUST = `${LUA_NOW}${LUA_BUCKET}
local l = level(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
if l then store(KEYS[1], math.min(tonumber(ARGV[3]), l + tonumber(ARGV[1]))) end
return 1`;

interface Waiter {
  est: number;
  done: boolean;
  resolve(member: string | null): void;
  reject(e: unknown): void;
  signal?: AbortSignal | undefined;
  onAbort?: () => void;
}

/** The admissions of one process to one server: its waiters, its slots in flight, their renewal. */
export class AdmissionCore {
  private readonly waiters: Waiter[] = [];
  private readonly inflight = new Set<string>();
  private pumping = false;
  private wakeBusy: (() => void) | null = null;
  private coolUntil = 0;
  private seq = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly k: { slots: string; rpm: string; tpm: string; cool: string };
  private readonly rpm: { ratePerMs: number; burst: number } | null;
  private readonly tpm: { ratePerMs: number; burst: number } | null;
  private readonly lua: ReturnType<typeof luaOf>;

  /** `owner` names this process in slot ids; `serverKey` the server (see `serverKeyOf`). */
  constructor(
    private readonly redis: Redis,
    serverKey: string,
    private readonly limits: ServerLimits,
    private readonly owner: string,
    private readonly slotTtlMs = SLOT_TTL_MS,
  ) {
    this.k = {
      slots: keys.server(serverKey, 'slots'),
      rpm: keys.server(serverKey, 'rpm'),
      tpm: keys.server(serverKey, 'tpm'),
      cool: keys.server(serverKey, 'cool'),
    };
    this.rpm = limits.rpm ? bucketOf(limits.rpm) : null;
    this.tpm = limits.tpm ? bucketOf(limits.tpm) : null;
    this.lua = luaOf(redis);
    this.heartbeat = setInterval(() => {
      if (this.inflight.size) void this.lua.renew(this.k.slots, this.slotTtlMs, ...this.inflight).catch(() => {});
    }, this.slotTtlMs / 3);
    this.heartbeat.unref();
  }

  /** Waits until the server may take a request of `est` tokens: its slot, or null once `signal` aborts. */
  admit(est: number, signal?: AbortSignal): Promise<string | null> {
    if (signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const w: Waiter = { est, done: false, resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          if (w.done) return;
          w.done = true;
          resolve(null);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      void this.pump();
    });
  }

  /** Frees a slot (the request is over). */
  release(member: string): void {
    if (!this.inflight.delete(member)) return;
    void this.redis.zrem(this.k.slots, member).catch(() => {});
    this.wakeBusy?.();
  }

  /** Every worker waits `ms` before its next request to this server. */
  cooldown(ms: number): void {
    this.coolUntil = Math.max(this.coolUntil, Date.now() + ms);
    void this.lua.cool(this.k.cool, Math.max(0, Math.round(ms))).catch(() => {});
  }

  /** Gives back to (or charges) the token bucket the difference between a request's estimate and its use. */
  adjustTokens(delta: number): void {
    if (!this.tpm || delta === 0) return;
    void this.lua.adjust(this.k.tpm, delta, this.tpm.ratePerMs, this.tpm.burst).catch(() => {});
  }

  /** Stops renewing slots (the process is done with this server). */
  dispose(): void {
    clearInterval(this.heartbeat);
    for (const m of [...this.inflight]) this.release(m);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        while (this.waiters[0]?.done) this.waiters.shift();
        if (this.waiters.length === 0) break;
        const cool = this.coolUntil - Date.now();
        if (cool > 0) {
          await this.pause(cool, false);
          continue;
        }
        const batch = this.waiters.slice(0, BATCH);
        const members = batch.map(() => `${this.owner}:${++this.seq}`);
        let reply: [number, number, string];
        try {
          reply = (await this.lua.admit(
            this.k.slots,
            this.k.rpm,
            this.k.tpm,
            this.k.cool,
            Math.max(0, this.limits.concurrency),
            this.slotTtlMs,
            this.rpm?.ratePerMs ?? 0,
            this.rpm?.burst ?? 0,
            this.tpm?.ratePerMs ?? 0,
            this.tpm?.burst ?? 0,
            batch.length,
            ...members,
            ...batch.map((w) => Math.max(0, Math.round(w.est))),
          )) as [number, number, string];
        } catch (e) {
          for (const w of this.waiters.splice(0)) if (!w.done) ((w.done = true), w.reject(e));
          break;
        }
        const [n, wait, why] = reply;
        // Only this loop removes waiters from the front, so the batch is still the front of the line.
        this.waiters.splice(0, n);
        for (let i = 0; i < n; i++) {
          const w = batch[i]!;
          const m = members[i]!;
          this.inflight.add(m);
          if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
          if (w.done) this.release(m);
          else {
            w.done = true;
            w.resolve(m);
          }
        }
        if (why === 'cool') this.coolUntil = Math.max(this.coolUntil, Date.now() + wait);
        if (n < batch.length && why !== 'cool')
          await this.pause(why === 'busy' ? BUSY_POLL_MS : Math.max(1, wait), true);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Sleeps `ms`; a wakeable sleep ends early when one of this process's slots frees. */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakeBusy = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      if (wakeable) this.wakeBusy = done;
    });
  }
}

const luaOf = (redis: Redis) => ({
  admit: script(redis, 'tpAdmit', 4, ADMIT),
  renew: script(redis, 'tpRenew', 1, RENEW),
  cool: script(redis, 'tpCool', 1, COOL),
  adjust: script(redis, 'tpAdjust', 1, ADJUST),
});

/** The key of a server in Redis: a hash of its base URL (the URL itself may hold credentials). */
export const serverKeyOf = (baseUrl: string) => createHash('sha256').update(baseUrl).digest('hex').slice(0, 16);
